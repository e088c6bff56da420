"""Why the selected row looks the way it does: binding constraints and "why not X"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from capdsl.tui.derive import binding_for, why_not_for
from capdsl.tui.display import money

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


class ExplainPanel(VerticalScroll):
    """Binding constraints for the row's month and workload; the next-best alternatives.

    Settings are links: a click shows the setting in the source."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Why"
        self._body = Static("", id="explain-body")

    def compose(self) -> ComposeResult:
        yield self._body

    def clear(
        self, message: str = "select a row to see what binds it and why not the alternatives"
    ) -> None:
        self._body.update(Content.from_markup("[$text-muted]$m[/]", m=message))

    def show(
        self,
        plan: Plan,
        solution: Solution,
        *,
        month: int | None,
        workload: str | None,
        offering: str | None,
    ) -> None:
        cur = solution.currency
        where = []
        if workload:
            where.append(escape(workload))
        if month is not None and 0 <= month < len(plan.months):
            where.append(plan.months[month])
        self.border_title = "Why" + (f" · {' · '.join(where)}" if where else " · whole plan")
        lines: list[str] = []
        binding = binding_for(plan, solution, month=month, workload=workload)
        if binding:
            lines.append("[b]binding[/b]")
            for b in binding[:12]:
                link = ""
                if b.setting:
                    link = f"  [@click=app.jump_setting({b.setting!r})][u $accent]{escape(b.setting)}[/][/]"
                lines.append(f" [$warning]●[/] {escape(b.text)}{link}")
            if len(binding) > 12:
                lines.append(f"   [$text-muted]… and {len(binding) - 12} more[/]")
        why = why_not_for(solution, workload=workload, offering=offering)
        if why:
            lines.append("[b]why not[/b]")
            for w in why[:8]:
                lines.append(
                    f" [$secondary]○[/] {escape(w.alternative)} instead of {escape(w.chosen)}: "
                    f"[b]+{money(w.delta_per_month, cur)}[/]/month  [$text-muted]{escape(w.text)}[/]"
                )
        if not lines:
            lines.append("[$text-muted]nothing binds here: this row is sized by demand alone[/]")
        self._body.update(Content.from_markup("\n".join(lines)))
