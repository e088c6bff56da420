"""Cost conventions of ``solution.py`` as exact arithmetic (Fraction), shared by the
formulation and the solution's costing. ``verify.py`` deliberately re-implements them."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache

from capdsl.model.plan import Plan

CENT = Decimal("0.01")


def to_decimal(x: Fraction) -> Decimal:
    """An exact amount as a Decimal (at the context's precision)."""
    return Decimal(x.numerator) / Decimal(x.denominator)


def to_cents(x: Fraction) -> Decimal:
    """Round an exact amount to cents (half to even)."""
    return to_decimal(x).quantize(CENT, rounding=ROUND_HALF_EVEN)


def reservation_month_cost(
    hourly: Decimal,
    upfront: Decimal,
    term: int,
    start: int,
    month: int,
    horizon: int,
    hpm: Decimal,
    mode: str,
) -> Fraction:
    """What one reservation bought at ``start`` costs in ``month``.

    ``amortize``: hourly x hours_per_month + upfront / term, every month of the term inside the
    horizon. ``full``: hourly x hours_per_month every month inside the horizon, plus at the
    purchase month the upfront fee and the hourly part of the months beyond the horizon."""
    if not start <= month < start + term or month >= horizon:
        return Fraction(0)
    rec = Fraction(hourly) * Fraction(hpm)
    if mode == "full":
        if month == start:
            beyond = max(0, start + term - horizon)
            return rec + Fraction(upfront) + rec * beyond
        return rec
    return rec + Fraction(upfront) / term


@lru_cache(maxsize=1 << 16)  # (pure; the scheduler asks for every option and start month)
def reservation_cost(
    hourly: Decimal, upfront: Decimal, term: int, start: int, horizon: int, hpm: Decimal, mode: str
) -> Fraction:
    """What one reservation bought at ``start`` costs over the horizon (the objective): the
    sum of ``reservation_month_cost`` over the months of its term inside the horizon, in
    closed form (the same exact value; the XL benchmark's scaling pass asked for 20,000 of
    them, month by month 2 s)."""
    months = max(0, min(horizon, start + term) - start)
    if not months:
        return Fraction(0)
    rec = Fraction(hourly) * Fraction(hpm)
    if mode == "full":
        return months * rec + Fraction(upfront) + rec * max(0, start + term - horizon)
    return months * (rec + Fraction(upfront) / term)


def beyond_horizon_cost(
    hourly: Decimal, upfront: Decimal, term: int, start: int, horizon: int, hpm: Decimal
) -> Fraction:
    """Cost of one reservation falling after the horizon (its amortised months beyond it)."""
    beyond = max(0, start + term - horizon)
    return beyond * (Fraction(hourly) * Fraction(hpm) + Fraction(upfront) / term)


def existing_fleet_cost(plan: Plan) -> list[Fraction]:
    """Cost of reservations already owned, per month (their hourly part while active)."""
    hpm = Fraction(plan.hours_per_month)
    out = [Fraction(0)] * plan.horizon
    for r in plan.fleet:
        for m in range(max(0, r.start), min(plan.horizon, r.end)):
            out[m] += r.count * Fraction(r.hourly) * hpm
    return out


def billed_hours(plan: Plan, month: int, hours: int) -> Fraction:
    """Billed hours of ``hours`` calendar hours of ``month``: hours_per_month spread evenly."""
    return Fraction(hours) * Fraction(plan.hours_per_month) / plan.demand[month].hours
