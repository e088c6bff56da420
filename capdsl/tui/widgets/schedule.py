"""The reservation schedule: what to buy when, and when owned reservations run out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable

from capdsl.tui.derive import ScheduleRow, schedule_rows
from capdsl.tui.display import money, payment_label, short_offering, term_label
from capdsl.tui.widgets.tables import fill_table

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
        self.rows_shown = schedule_rows(plan, solution)
        cur = solution.currency
        rows: list[tuple[str, tuple[RenderableType, ...]]] = []
        for i, r in enumerate(self.rows_shown):
            month = plan.months[r.month] if 0 <= r.month < len(plan.months) else str(r.month)
            if r.kind == "buy":
                cells: tuple[RenderableType, ...] = (
                    Text("buy", style="bold"),
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
                )
            else:
                cells = (
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
                )
            rows.append((f"row{i}", cells))
        if not self.rows_shown:
            none = "no reservations to buy: on-demand and spot carry this plan"
            rows.append(("none", (Text(none, style="dim"), *[""] * 10)))
        fill_table(self, rows)
