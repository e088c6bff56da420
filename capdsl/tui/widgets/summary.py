"""The solution's headline: total, savings vs all on-demand, status, gap, VERIFIED, stale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from capdsl.tui.display import gap_text, money, pct

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


_STATUS_STYLE = {
    "optimal": "$success",
    "feasible": "$warning",
    "infeasible": "$error",
    "error": "$error",
    "unknown": "$warning",
}


class SolutionSummary(Static):
    """Three lines: money, trust (status, gap, verification, stats), and caveats."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.set_empty("not solved yet")

    def set_empty(self, message: str) -> None:
        self.update(Content.from_markup("[$text-muted]$message[/]", message=message))
        self.set_class(True, "-empty")

    def show(
        self,
        plan: Plan | None,
        solution: Solution,
        *,
        stale: str | None = None,
        dirty: int = 0,  # settings changed by what-ifs; -1: changed, count unknown
        stopped: bool = False,
    ) -> None:
        self.set_class(False, "-empty")
        cur = solution.currency
        lines: list[str] = []
        t = solution.totals
        if t is not None:
            months = len(solution.months) or (plan.horizon if plan else 0)
            lines.append(
                f"[b]{money(t.cost, cur)}[/b] over {months} months"
                f"  ·  saves [b $success]{t.savings_pct:.1f}%[/] vs {money(t.all_on_demand_cost, cur)} all on-demand"
                + (f"  ·  upfront {money(t.upfront, cur)}" if t.upfront else "")
                + (
                    f"  ·  beyond horizon {money(t.beyond_horizon, cur)}"
                    if t.beyond_horizon
                    else ""
                )
            )
        else:
            lines.append(f"[b]{escape(solution.message or 'no plan found')}[/b]")
        status = solution.status
        badge = f"[b reverse {_STATUS_STYLE.get(status, '$warning')}] {status.upper()} [/]"
        trust = [badge]
        if solution.gap is not None:
            trust.append(f"gap {gap_text(solution.gap)}")
        if stopped:
            trust.append("[$warning]stopped early[/]")
        if solution.verified:
            trust.append("[b reverse $success] VERIFIED ✓ [/]")
        elif status in ("optimal", "feasible", "error"):
            trust.append("[b reverse $error] NOT VERIFIED [/]")
        if solution.reserved_utilisation is not None:
            trust.append(f"reserved used {pct(solution.reserved_utilisation, 0)}")
        if solution.spot_share is not None:
            trust.append(f"spot {pct(solution.spot_share, 0)}")
        if solution.stats.solve_s:
            warm = " warm" if solution.stats.warm_start else ""
            trust.append(f"[$text-muted]{solution.stats.solve_s:.2f} s{warm}[/]")
        lines.append("  ".join(trust))
        notes: list[str] = []
        if stale:
            notes.append(f"[b reverse $warning] STALE [/] [$warning]{escape(stale)}[/]")
        if dirty:
            what = (
                "unsaved what-ifs" if dirty < 0 else f"{dirty} unsaved what-if{'s' * (dirty != 1)}"
            )
            notes.append(f"[$accent]{what}[/] [$text-muted](ctrl+s saves, ctrl+z undoes)[/]")
        if notes:
            lines.append("   ".join(notes))
        self.update(Content.from_markup("\n".join(lines)))
        self.set_class(bool(stale), "-stale")
