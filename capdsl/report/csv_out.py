"""``capdsl solve --format csv``: one row per allocation, purchase and owned reservation.

What a FinOps person pastes into a spreadsheet. The ``record`` column says what a row is:

- ``allocation``: ``count`` instances of ``offering`` in ``zone`` bought as ``option``,
  serving ``workload`` in block ``block`` (``billed_hours``) of ``month``; ``cost`` =
  ``hourly x count x billed_hours`` for on-demand and spot, ``0`` for reserved capacity
  (it is paid by the reservation rows, so costs are never counted twice);
- ``purchase``: a new reservation starting in ``month`` (``term_months``, ``payment``,
  per-instance ``upfront`` and ``hourly``, ``order_by``); ``cost`` is what it adds inside the
  horizon, ``beyond_horizon`` what is committed after it;
- ``existing``: a reservation already owned; ``month`` is its first month inside the
  horizon, ``cost`` its cost inside the horizon.

The ``cost`` column of all rows of one scenario sums to the plan's total cost. Numbers are
plain (no currency sign, no thousands separator); money in cents, unit prices to 1e-6.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from capdsl.model.plan import Plan
from capdsl.report.facts import Result
from capdsl.report.fmt import CENT, MICRO, quantize, scenario_name
from capdsl.solve.solution import Solution

COLUMNS = (
    "record",
    "plan",
    "scenario",
    "month",
    "block",
    "billed_hours",
    "workload",
    "offering",
    "zone",
    "option",
    "count",
    "hourly",
    "upfront",
    "term_months",
    "payment",
    "order_by",
    "cost",
    "beyond_horizon",
    "currency",
)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{quantize(value, CENT):f}"


def _unit(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{quantize(value, MICRO):f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _hours(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def rows(r: Result) -> list[dict[str, str]]:
    """The CSV rows of one result (allocations, then purchases, then owned reservations);
    none for a result without a plan (infeasible, error)."""
    if not r.solved:
        return []
    base = {"plan": r.name, "scenario": scenario_name(r.scenario), "currency": r.currency}
    out: list[dict[str, str]] = []
    for a in r.sorted_allocations():
        block = r.block(a.month, a.block)
        cost = r.allocation_cost(a)
        out.append(
            {
                **base,
                "record": "allocation",
                "month": r.month_label(a.month) or "",
                "block": str(a.block),
                "billed_hours": _hours(block.billed_hours) if block else "",
                "workload": a.workload,
                "offering": a.offering,
                "zone": a.zone,
                "option": a.option,
                "count": str(a.count),
                "hourly": _unit(r.hourly_price(a)),
                "cost": _money(cost if a.option != "reserved" else Decimal(0)),
            }
        )
    for p in sorted(
        r.solution.purchases, key=lambda p: (p.month, p.offering, p.zone, p.term_months)
    ):
        out.append(
            {
                **base,
                "record": "purchase",
                "month": r.month_label(p.month) or "",
                "offering": p.offering,
                "zone": p.zone,
                "option": "reserved",
                "count": str(p.count),
                "hourly": _unit(p.hourly),
                "upfront": _money(p.upfront),
                "term_months": str(p.term_months),
                "payment": p.payment,
                "order_by": p.order_by or "",
                "cost": _money(r.purchase_cost_in_horizon(p)),
                "beyond_horizon": _money(p.beyond_horizon),
            }
        )
    for res in r.plan.fleet:
        active = r.existing_months(res)
        if not active:
            continue
        out.append(
            {
                **base,
                "record": "existing",
                "month": r.month_label(active.start) or "",
                "offering": res.offering,
                "zone": res.zone or "",
                "option": "reserved",
                "count": str(res.count),
                "hourly": _unit(res.hourly),
                "cost": _money(r.existing_cost_in_horizon(res)),
            }
        )
    return out


def render_csv(results: Sequence[tuple[Plan, Solution]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for plan, sol in results:
        writer.writerows(rows(Result(plan, sol)))
    return buf.getvalue()
