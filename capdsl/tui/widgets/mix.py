"""The purchase mix: per month, what runs where, bought how (reserved, on-demand, spot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select

from capdsl.tui.derive import MixRow, mix_rows
from capdsl.tui.display import money, option_label, short_offering, si
from capdsl.tui.widgets.explain import ExplainPanel
from capdsl.tui.widgets.tables import fill_table

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


ALL = -1
_OPTION_STYLE = {"reserved": "bold", "on_demand": "", "spot": "italic"}


class MixView(Vertical):
    """Month filter, the mix table, and the explanation of the highlighted row."""

    class RowChosen(Message):
        def __init__(self, row: MixRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plan: Plan | None = None
        self.solution: Solution | None = None
        self.rows: list[MixRow] = []
        self._months: tuple[str, ...] = ()
        self._filled: tuple[int, int | None] | None = None  # (solution, month filter) on show

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("month", classes="toolbar-label")
            yield Select[int](
                [], prompt="all months", allow_blank=True, id="mix-month", compact=True
            )
            yield Label("", id="mix-count", classes="toolbar-note")
        table: DataTable[object] = DataTable(id="mix-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield ExplainPanel(id="explain")

    def on_mount(self) -> None:
        table = self.query_one("#mix-table", DataTable)
        for label, key in (
            ("Month", "month"),
            ("Workload", "workload"),
            ("Offering", "offering"),
            ("Zone", "zone"),
            ("Option", "option"),
            ("Instances", "count"),
            ("Inst·h", "hours"),
            ("Spend", "cost"),
        ):
            table.add_column(label, key=key)
        self.query_one(ExplainPanel).clear()

    @property
    def month_filter(self) -> int | None:
        value = self.query_one("#mix-month", Select).value
        return value if isinstance(value, int) and value >= 0 else None

    def set_month(self, month: int | None) -> None:
        select = self.query_one("#mix-month", Select)
        if month is None:
            select.clear()
        else:
            select.value = month

    def show(self, plan: Plan, solution: Solution) -> None:
        self.plan, self.solution = plan, solution
        months = tuple(plan.months)
        if months != self._months:
            self._months = months
            select = self.query_one("#mix-month", Select)
            keep = self.month_filter
            select.set_options([(m, i) for i, m in enumerate(months)])
            if keep is not None and keep < len(months):
                select.value = keep
        self._fill()

    def clear(self) -> None:
        self.plan = self.solution = None
        self._filled = None
        self.rows = []
        self.query_one("#mix-table", DataTable).clear()
        self.query_one("#mix-count", Label).update("")
        self.query_one(ExplainPanel).clear("no solution")

    def _fill(self) -> None:
        table = self.query_one("#mix-table", DataTable)
        if self.plan is None or self.solution is None:
            return
        plan, solution = self.plan, self.solution
        cursor_key = None
        if table.row_count and 0 <= table.cursor_row < len(self.rows):
            cursor_key = self.rows[table.cursor_row].key
        self.rows = mix_rows(plan, solution, self.month_filter)
        self._filled = (id(solution), self.month_filter)
        cur = solution.currency
        fill_table(
            table,
            (
                (
                    r.key,
                    (
                        plan.months[r.month] if r.month < len(plan.months) else str(r.month),
                        r.workload,
                        short_offering(r.offering),
                        r.zone,
                        _option(r.option),
                        _right(str(r.peak) if r.low == r.peak else f"{r.low}–{r.peak}"),
                        _right(si(r.instance_hours)),
                        _right(money(r.cost, cur) if r.cost is not None else "committed"),
                    ),
                )
                for r in self.rows
            ),
        )
        n = len(self.rows)
        self.query_one("#mix-count", Label).update(f"{n} row{'s' * (n != 1)}")
        keys = [r.key for r in self.rows]
        if cursor_key in keys:
            table.move_cursor(row=keys.index(cursor_key), animate=False)
        self._explain_current()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "mix-month":
            event.stop()
            # new options post a change of their own, often to the value already shown:
            # refilling then would rebuild the table for nothing (and redraw it half-measured)
            if (id(self.solution), self.month_filter) != self._filled:
                self._fill()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._explain_current()

    def _explain_current(self) -> None:
        panel = self.query_one(ExplainPanel)
        table = self.query_one("#mix-table", DataTable)
        if self.plan is None or self.solution is None:
            return
        row = self.rows[table.cursor_row] if 0 <= table.cursor_row < len(self.rows) else None
        if row is None:
            panel.show(
                self.plan, self.solution, month=self.month_filter, workload=None, offering=None
            )
        else:
            panel.show(
                self.plan,
                self.solution,
                month=row.month,
                workload=row.workload,
                offering=row.offering,
            )
        self.post_message(self.RowChosen(row))


def _option(option: str) -> Text:
    return Text(option_label(option), style=_OPTION_STYLE.get(option, ""))


def _right(text: str) -> Text:
    return Text(text, justify="right")
