"""Units and exact quantities, including the traps a general units library falls into."""

from __future__ import annotations

from fractions import Fraction

import pytest

from capdsl.lang import parse
from capdsl.lang.ast import Quantity
from capdsl.lang.quantity import DimensionError, UnitError, UnitRegistry, Value, describe_dims


@pytest.fixture
def reg() -> UnitRegistry:
    return UnitRegistry(["prediction", "request", "token", "query"])


def q(text: str, reg: UnitRegistry) -> Value:
    """The Value of a quantity literal, through the real lexer."""
    doc, diags = parse(f"x = {text}")
    assert doc is not None, diags
    node = doc.items[0].value  # type: ignore[union-attr]
    assert isinstance(node, Quantity), node
    return reg.quantity(Fraction(node.value), node.unit)


def test_money_per_month_is_not_boltzmann(reg: UnitRegistry) -> None:
    v = q("$15k/month", reg)
    assert v.to("USD/month", reg) == 15000
    assert v.dimension_name() == "money per time like $/month"
    assert v.to("USD/h", reg) == Fraction(15000, 730)


def test_scale_m_is_mega_not_molar(reg: UnitRegistry) -> None:
    v = q("45M prediction/day", reg)
    assert v.to("prediction/day", reg) == 45_000_000
    assert v.to("prediction/s", reg) == Fraction(45_000_000, 86_400)
    with pytest.raises(UnitError):
        reg.parse_unit("M")


def test_month_is_730_hours_and_year_is_12_months(reg: UnitRegistry) -> None:
    assert q("1 month", reg).to("h", reg) == 730
    assert q("1 year", reg).to("h", reg) == 8760
    assert q("2 years", reg).to("months", reg) == 24


def test_bytes_have_a_dimension(reg: UnitRegistry) -> None:
    gib = q("16 GiB", reg)
    assert gib.dims == (("information", 1),)
    assert gib.to("MiB", reg) == 16 * 1024
    assert q("1 GB", reg).to("MB", reg) == 1000
    with pytest.raises(DimensionError):
        gib.to("%", reg)
    with pytest.raises(DimensionError):
        _ = gib + Value(Fraction(1))


def test_one_b_is_a_billion_but_one_space_b_is_a_byte(reg: UnitRegistry) -> None:
    doc, _ = parse("a = 1B\nb = 1 B")
    assert doc is not None
    a, b = (item.value for item in doc.items)  # type: ignore[union-attr]
    assert str(a.value) == "1000000000"
    assert isinstance(b, Quantity) and b.unit == "B"


def test_percent_and_multiplier_are_dimensionless(reg: UnitRegistry) -> None:
    assert q("30%", reg) == Value(Fraction(3, 10))
    assert q("4x", reg) == Value(Fraction(4))
    assert q("1.5x", reg).to("x", reg) == Fraction(3, 2)
    assert q("30%", reg).to("%", reg) == 30


def test_rates_per_vcpu_and_growth(reg: UnitRegistry) -> None:
    v = q("120 prediction/s per vcpu", reg)
    assert v.dims == (("prediction", 1), ("time", -1), ("vcpu", -1))
    assert v.to("prediction/h/vcpu", reg) == 120 * 3600
    g = q("3% per month", reg)
    assert g.to("%/month", reg) == 3
    assert g.to("1/month", reg) == Fraction(3, 100)
    assert q("1 per vcpu", reg).to("1/vcpu", reg) == 1


def test_gpu_hours(reg: UnitRegistry) -> None:
    v = q("1200 gpu_hour per month", reg)
    assert v.to("gpu_hour/month", reg) == 1200
    assert q("2 gpu_hours", reg).to("gpu*h", reg) == 2
    assert q("3 vcpu_hour", reg).to("vcpu*s", reg) == 3 * 3600


def test_plurals_of_declared_and_built_in_units(reg: UnitRegistry) -> None:
    def same(a: str, b: str) -> bool:
        ua, ub = reg.parse_unit(a), reg.parse_unit(b)
        return (ua.factor, ua.dims) == (ub.factor, ub.dims)

    assert same("predictions/s", "prediction/s")
    assert same("queries", "query")
    assert same("hours", "h")
    with pytest.raises(UnitError):
        reg.parse_unit("mss")  # `ms` is an abbreviation: no plural


def test_unknown_unit_suggests_a_close_one(reg: UnitRegistry) -> None:
    with pytest.raises(UnitError) as info:
        reg.parse_unit("reqs/day")
    assert info.value.word == "reqs"
    assert info.value.help == "did you mean `request`?"


def test_an_undeclared_count_unit_is_not_mistaken_for_a_built_in() -> None:
    with pytest.raises(UnitError) as info:
        UnitRegistry().parse_unit("prediction")
    assert info.value.help is None  # `region` is not a useful suggestion


def test_units_are_case_sensitive(reg: UnitRegistry) -> None:
    with pytest.raises(UnitError) as info:
        reg.parse_unit("gib")
    assert info.value.help == "did you mean `GiB`?"


def test_arithmetic_is_exact_and_dimension_checked(reg: UnitRegistry) -> None:
    total = q("1 h", reg) + q("30 min", reg)
    assert total.to("s", reg) == 5400
    money = q("$0.1/h", reg) * q("730 h", reg)
    assert money.to("USD", reg) == 73  # exact, not 72.99999999
    assert (q("$60k/month", reg) + q("$10/h", reg)).to("USD/month", reg) == 60000 + 7300
    with pytest.raises(DimensionError):
        _ = q("80 ms", reg) + q("16 GiB", reg)
    with pytest.raises(DimensionError):
        _ = q("80 ms", reg) < q("1 GiB", reg)
    assert q("80 ms", reg) < q("1 s", reg)
    with pytest.raises(ZeroDivisionError):
        _ = q("1 h", reg) / 0


def test_other_currencies_are_their_own_dimension(reg: UnitRegistry) -> None:
    eur = reg.quantity(5, "EUR")
    with pytest.raises(DimensionError):
        _ = eur + reg.quantity(5, "USD")
    plan_eur = UnitRegistry(currency="EUR")
    assert plan_eur.quantity(5, "EUR").to("$", plan_eur) == 5


def test_declare_and_define(reg: UnitRegistry) -> None:
    reg.define("ktok", reg.quantity(1000, "token"))
    assert reg.quantity(3, "ktok/s").to("token/s", reg) == 3000
    with pytest.raises(UnitError):
        reg.declare("hour")
    with pytest.raises(UnitError):
        reg.define("ktok", reg.quantity(1, "token"))
    reg.declare("prediction")  # re-declaring the same plan unit is harmless


def test_dimension_names_read_like_the_plan() -> None:
    reg = UnitRegistry(["prediction"])
    assert describe_dims(reg.parse_unit("prediction/s").dims) == "a rate like prediction/s"
    assert describe_dims(reg.parse_unit("h").dims) == "a duration"
    assert describe_dims(reg.parse_unit("GiB").dims) == "a data size"
    assert describe_dims(reg.parse_unit("USD").dims) == "money"
    assert describe_dims(reg.parse_unit("zone").dims) == "a count of zone"
    assert describe_dims(()) == "a plain number"
    assert (
        describe_dims(reg.parse_unit("prediction/s/vcpu").dims) == "a quantity in prediction/s/vcpu"
    )
