"""The reservation schedule: what to buy when, and when owned reservations run out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from capdsl.tui.derive import ScheduleRow, schedule_rows
from capdsl.tui.display import money, payment_label, short_offering, term_label

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


class ScheduleTable(DataTable[object]):
    """One row per purchase (order by, start, term, payment, count, cost) or expiry."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: list[ScheduleRow] = []

    def on_mount(self) -> None:
        for label, key in (
            ("", "kind"),
            ("Starts", "month"),
            ("Order by", "order_by"),
            ("Offering", "offering"),
            ("Zone", "zone"),
            ("Term", "term"),
            ("Payment", "payment"),
            ("Count", "count"),
            ("Upfront", "upfront"),
            ("$/h each", "hourly"),
            ("Beyond horizon", "beyond"),
        ):
            self.add_column(label, key=key)

    def show(self, plan: Plan, solution: Solution) -> None:
        self.clear()
        self.rows_shown = schedule_rows(plan, solution)
        cur = solution.currency
        for i, r in enumerate(self.rows_shown):
            month = plan.months[r.month] if 0 <= r.month < len(plan.months) else str(r.month)
            if r.kind == "buy":
                kind = Text("buy", style="bold")
                self.add_row(
                    kind,
                    month,
                    r.order_by or "–",
                    short_offering(r.offering),
                    r.zone,
                    term_label(r.term),
                    payment_label(r.payment),
                    Text(str(r.count), justify="right"),
                    Text(money(r.upfront, cur), justify="right"),
                    Text(money(r.hourly, cur, cents=True), justify="right"),
                    Text(money(r.beyond_horizon, cur), justify="right"),
                    key=f"row{i}",
                )
            else:
                self.add_row(
                    Text("expires", style="italic"),
                    month,
                    "",
                    short_offering(r.offering),
                    r.zone,
                    "",
                    "owned",
                    Text(str(r.count), justify="right"),
                    "",
                    "",
                    Text(r.note, style="dim"),
                    key=f"row{i}",
                )
        if not self.rows_shown:
            self.add_row(
                Text("no reservations to buy: on-demand and spot carry this plan", style="dim"),
                *[""] * 10,
                key="none",
            )
