"""Cost per month: a stacked chart (existing / reserved / on-demand / spot, budget line)
and the month table under it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from capdsl.tui.display import money, money_short
from capdsl.tui.widgets.bar_chart import BarChart, ChartData, Stack
from capdsl.tui.widgets.tables import fill_table

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import MonthCost, Solution


def cost_chart_data(plan: Plan, solution: Solution) -> ChartData:
    cur = solution.currency
    months = solution.months
    budget = next(
        (b.monthly for b in plan.budgets if not b.workloads and b.monthly is not None), None
    )
    details = []
    for m in months:
        parts = [f"total {money(m.total, cur)}"]
        for name, v in (
            ("existing", m.existing),
            ("reserved", m.reserved),
            ("on-demand", m.on_demand),
            ("spot", m.spot),
            ("upfront cash", m.upfront_cash),
        ):
            if v:
                parts.append(f"{name} {money(v, cur)}")
        if budget:
            parts.append(f"{float(m.total / budget) * 100:.0f}% of budget")
        details.append("\n".join(parts))
    return ChartData(
        labels=[m.month for m in months],
        stacks=[
            Stack("existing", [float(m.existing) for m in months], "s1"),
            Stack("reserved", [float(m.reserved) for m in months], "s0"),
            Stack("on-demand", [float(m.on_demand) for m in months], "s2"),
            Stack("spot", [float(m.spot) for m in months], "s3"),
        ],
        line=(float(budget), f"budget {money_short(budget, cur)}/month") if budget else None,
        fmt=lambda v: money_short(v, cur),
        details=details,
    )


class CostView(Vertical):
    def compose(self) -> ComposeResult:
        yield BarChart(empty="no costs yet: solve the plan (f5)", id="cost-chart")
        table: DataTable[object] = DataTable(id="cost-table", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        table = self.query_one("#cost-table", DataTable)
        for label in (
            "Month",
            "Total",
            "Existing",
            "Reserved",
            "On-demand",
            "Spot",
            "Upfront cash",
            "Budget",
        ):
            table.add_column(label, key=label.lower())

    def show(self, plan: Plan, solution: Solution) -> None:
        self.query_one("#cost-chart", BarChart).data = cost_chart_data(plan, solution)
        table = self.query_one("#cost-table", DataTable)
        cur = solution.currency
        budget = next(
            (b.monthly for b in plan.budgets if not b.workloads and b.monthly is not None), None
        )

        def r(v: Decimal) -> Text:
            return Text(money(v, cur), justify="right")

        def row(m: MonthCost) -> tuple[str, tuple[RenderableType, ...]]:
            use = ""
            style = ""
            if budget:
                share = float(m.total / budget)
                use = f"{share * 100:.0f}%"
                style = "bold red" if share > 1 else ("yellow" if share >= 0.9 else "")
            return m.month, (
                m.month,
                r(m.total),
                r(m.existing),
                r(m.reserved),
                r(m.on_demand),
                r(m.spot),
                r(m.upfront_cash),
                Text(use, style=style, justify="right"),
            )

        fill_table(table, (row(m) for m in solution.months))

    def clear(self) -> None:
        self.query_one("#cost-chart", BarChart).data = None
        self.query_one("#cost-table", DataTable).clear()

    def on_bar_chart_column_selected(self, event: BarChart.ColumnSelected) -> None:
        table = self.query_one("#cost-table", DataTable)
        if event.index < table.row_count:
            table.move_cursor(row=event.index, animate=False)
