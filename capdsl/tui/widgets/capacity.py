"""Capacity vs demand for one workload, month by month, with the capacity-cliff month."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.widgets import Label, Select, Static

from capdsl.tui.derive import CapacitySeries, capacity_series
from capdsl.tui.display import si
from capdsl.tui.widgets.bar_chart import BarChart, ChartData, Marker, Stack

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


def capacity_chart_data(series: CapacitySeries) -> ChartData:
    n = len(series.months)
    details = []
    for m in range(n):
        cap = series.capacity(m)
        need = series.required[m]
        lines = [
            f"demand {si(series.demand[m])} {series.unit}",
            f"needed {si(need)}  planned {si(cap)}",
        ]
        for opt, name in (("reserved", "reserved"), ("on_demand", "on-demand"), ("spot", "spot")):
            if series.by_option[opt][m]:
                lines.append(f"{name} {si(series.by_option[opt][m])}")
        if series.fleet[m]:
            lines.append(f"owned fleet {si(series.fleet[m])}")
        details.append("\n".join(lines))
    flags = {}
    # no owned fleet at all: there is no cliff to fall off, every instance is bought
    if series.cliff_month is not None and 0 <= series.cliff_month < n and any(series.fleet):
        flags[series.cliff_month] = f"cliff {series.months[series.cliff_month]}"
    markers = [Marker("needed (demand + headroom)", list(series.required), "marker")]
    return ChartData(
        labels=list(series.months),
        stacks=[
            Stack("reserved", series.by_option["reserved"], "s0"),
            Stack("on-demand", series.by_option["on_demand"], "s2"),
            Stack("spot", series.by_option["spot"], "s3"),
        ],
        markers=markers,
        flags=flags,
        fmt=si,
        details=details,
    )


class CapacityView(Vertical):
    """Pick a workload; see planned capacity (by option) against what its demand needs."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plan: Plan | None = None
        self.solution: Solution | None = None
        self.series: CapacitySeries | None = None
        self._names: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("workload", classes="toolbar-label")
            yield Select[str]([], prompt="workload", id="capacity-workload", compact=True)
            yield Label("", id="capacity-unit", classes="toolbar-note")
        yield Static("", id="capacity-cliff")
        yield BarChart(empty="no capacity yet: solve the plan (f5)", id="capacity-chart")

    @property
    def workload(self) -> str | None:
        value = self.query_one("#capacity-workload", Select).value
        return value if isinstance(value, str) else None

    def show(self, plan: Plan, solution: Solution | None) -> None:
        self.plan, self.solution = plan, solution
        names = tuple(w.name for w in plan.workloads)
        select = self.query_one("#capacity-workload", Select)
        if names != self._names:
            keep = self.workload
            self._names = names
            with self.prevent(Select.Changed):
                select.set_options([(n, n) for n in names])
                if names:
                    select.value = keep if keep in names else names[0]
        self._draw()

    def clear(self) -> None:
        self.query_one("#capacity-chart", BarChart).data = None

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "capacity-workload":
            event.stop()
            self._draw()

    def _draw(self) -> None:
        name = self.workload
        if self.plan is None or name is None:
            return
        try:
            self.series = capacity_series(self.plan, self.solution, name)
        except KeyError:
            return
        s = self.series
        self.query_one("#capacity-unit", Label).update(s.unit)
        self.query_one("#capacity-chart", BarChart).data = capacity_chart_data(s)
        cliff = self.query_one("#capacity-cliff", Static)
        if not any(s.fleet):
            cliff.update(
                Content.from_markup(
                    f"[$text-muted]no reservation owned today can run {escape(name)}: "
                    "every instance is bought by this plan[/]"
                )
            )
        elif s.cliff_month is not None and 0 <= s.cliff_month < len(s.months):
            reason = f": {escape(s.cliff_reason)}" if s.cliff_reason else ""
            cliff.update(
                Content.from_markup(
                    f"[b $error]▼ capacity cliff {s.months[s.cliff_month]}[/] "
                    f"[$text-muted]today's fleet no longer carries {escape(name)}{reason}[/]"
                )
            )
        else:
            cliff.update(
                Content.from_markup(
                    f"[$success]no capacity cliff[/] [$text-muted]today's fleet carries {escape(name)} "
                    "to the end of the horizon[/]"
                )
            )
