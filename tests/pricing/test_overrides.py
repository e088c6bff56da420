"""Plan price overrides on top of any source: discounts and negotiated rates."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from capdsl.pricing.catalog import Offering, ReservedPrice, apply_overrides


@pytest.fixture
def offering() -> Offering:
    return Offering(
        provider="aws",
        region="us-east-1",
        instance_type="m5.large",
        zones=("use1-az1", "use1-az2"),
        vcpu=2,
        memory_gib=8,
        on_demand_hourly=Decimal("0.096"),
        spot_hourly={"use1-az1": Decimal("0.0375"), "use1-az2": Decimal("0.0364")},
        reserved=(
            ReservedPrice(
                term_months=12,
                payment="partial_upfront",
                upfront=Decimal(252),
                hourly=Decimal("0.029"),
            ),
            ReservedPrice(term_months=36, payment="no_upfront", hourly=Decimal("0.041")),
        ),
    )


def test_discount_lowers_every_price(offering: Offering) -> None:
    new, notes = apply_overrides(offering, discount=Fraction(12, 100))
    assert new.on_demand_hourly == Decimal("0.08448")
    assert new.spot_hourly == {"use1-az1": Decimal("0.033"), "use1-az2": Decimal("0.032032")}
    r1 = new.reserved[0]
    assert (r1.upfront, r1.hourly) == (Decimal("221.76"), Decimal("0.02552"))
    assert notes == ["discount 12% applied to every source price"]
    assert offering.on_demand_hourly == Decimal("0.096")  # the input is untouched


def test_negotiated_rates_replace_and_are_not_discounted(offering: Offering) -> None:
    negotiated = ReservedPrice(term_months=12, payment="no_upfront", hourly=Decimal("0.05"))
    new, notes = apply_overrides(
        offering, discount=Decimal("0.10"), on_demand="0.08", spot=0.02, reserved=[negotiated]
    )
    assert new.on_demand_hourly == Decimal("0.08")
    assert set(new.spot_hourly.values()) == {Decimal("0.02")}
    by_key = {r.key: r for r in new.reserved}
    assert (
        by_key["1y-no_upfront"].hourly == Decimal("0.05")
        and by_key["1y-no_upfront"].basis == "negotiated rate"
    )
    assert by_key["3y-no_upfront"].hourly == Decimal("0.0369")  # source rate, discounted
    assert (
        notes[0]
        == "discount 10% applied to every source price (not to on-demand, spot, the negotiated reserved options)"
    )
    assert "negotiated on-demand $0.08/h (source $0.096/h)" in notes
    assert "negotiated spot $0.02/h in 2 zones" in notes
    assert "negotiated reserved 1y-no_upfront: $0.05/h" in notes


def test_negotiated_reserved_replaces_the_same_option(offering: Offering) -> None:
    r = ReservedPrice(
        term_months=12, payment="partial_upfront", upfront=Decimal(200), hourly=Decimal("0.02")
    )
    new, notes = apply_overrides(offering, reserved=[r])
    assert len(new.reserved) == 2
    assert notes == ["negotiated reserved 1y-partial_upfront: $200.00 upfront + $0.02/h"]


def test_discounts_compound_when_applied_twice(offering: Offering) -> None:
    once, _ = apply_overrides(offering, discount=0.1)
    twice, _ = apply_overrides(once, discount=0.05)
    assert twice.on_demand_hourly == Decimal("0.096") * Decimal("0.9") * Decimal("0.95")


def test_no_override_returns_the_same_offering(offering: Offering) -> None:
    assert apply_overrides(offering) == (offering, [])


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"discount": 1}, "below 100%"),
        ({"discount": -0.1}, "non-negative"),
        ({"on_demand": "-1"}, "non-negative"),
    ],
)
def test_invalid_overrides(offering: Offering, kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_overrides(offering, **kw)  # type: ignore[arg-type]
