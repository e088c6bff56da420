"""The objective's price of a reservation (``money.reservation_cost``, in closed form) is the
sum of what it costs in each month of its term (``reservation_month_cost``)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from capdsl.solve.money import reservation_cost, reservation_month_cost

prices = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)


@given(
    hourly=prices,
    upfront=prices.map(lambda d: d * 1000),
    term=st.sampled_from((1, 12, 36)),
    start=st.integers(-3, 40),
    horizon=st.integers(1, 36),
    hpm=st.sampled_from((Decimal(730), Decimal("730.5"), Decimal(720))),
    mode=st.sampled_from(("amortize", "full")),
)
def test_the_cost_over_the_horizon_is_the_sum_of_its_months(
    hourly: Decimal,
    upfront: Decimal,
    term: int,
    start: int,
    horizon: int,
    hpm: Decimal,
    mode: str,
) -> None:
    months = sum(
        (
            reservation_month_cost(hourly, upfront, term, start, m, horizon, hpm, mode)
            for m in range(start, min(horizon, start + term))
        ),
        Fraction(0),
    )
    assert reservation_cost(hourly, upfront, term, start, horizon, hpm, mode) == months


def test_a_three_year_reservation_bought_late_is_charged_in_full_or_for_its_months() -> None:
    # $0.10/h, $876 upfront, 36 months, bought in month 10 of 12: two months inside
    hourly, upfront, hpm = Decimal("0.10"), Decimal(876), Decimal(730)
    assert reservation_cost(hourly, upfront, 36, 10, 12, hpm, "amortize") == 2 * (
        73 + Fraction(876, 36)
    )
    assert reservation_cost(hourly, upfront, 36, 10, 12, hpm, "full") == 2 * 73 + 876 + 34 * 73
    assert reservation_cost(hourly, upfront, 36, 12, 12, hpm, "full") == 0
