"""``capdsl solve`` in the terminal (the default ``table`` format), rendered with rich.

One screen per plan at 100 columns: header and trust badge, totals, what to buy when,
months (quarters beyond 12 months) with the instance mix at the peak, workloads and their
capacity cliffs, binding constraints and why-nots, price sources, diagnostics. The full
per-allocation detail is in ``--format json|csv|md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from io import StringIO
from typing import TYPE_CHECKING

from capdsl.lang.diagnostics import render as render_diagnostic
from capdsl.model.demand import consecutive_runs
from capdsl.model.plan import Plan
from capdsl.report import fmt
from capdsl.report.content import schedule_rows
from capdsl.report.facts import OPTIONS, Result, order_results
from capdsl.solve.solution import Binding, MonthCost, Solution

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

STATUS_STYLE = {
    "optimal": "bold green",
    "feasible": "bold yellow",
    "infeasible": "bold red",
    "error": "bold red",
}
MONTHLY_UP_TO = 12  # longer horizons are summarised by quarter


def render_table(
    results: Sequence[tuple[Plan, Solution]],
    *,
    color: bool = False,
    width: int = 100,
    timings: bool = True,
) -> str:
    """The terminal view of one or several solved plans; ANSI colour only when ``color``."""
    from rich.console import Console

    if not results:
        raise ValueError("nothing to render: no results")
    console = Console(
        file=StringIO(),
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    views = order_results(results)
    if len(views) > 1:
        _comparison(console, views)
    for v in views:
        _result(console, v, timings)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in out.splitlines()).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- pieces


def _title(r: Result) -> str:
    title = r.name
    if r.scenario is not None:
        title += f" · scenario {r.scenario}"
        if r.plan.plan_for == r.scenario:
            title += " (plan for)"
    return title


def _header(console: Console, r: Result, timings: bool) -> None:
    from rich.rule import Rule
    from rich.text import Text

    sol = r.solution
    console.print(Rule(Text(_title(r), style="bold"), align="left"))
    line = Text()
    line.append(f" {r.status.upper()} ", style=STATUS_STYLE.get(r.status, "bold red") + " reverse")
    line.append("  ")
    if r.trusted:
        line.append(" ✔ VERIFIED ", style="bold white on green")
    elif r.solved:
        line.append(" ✘ NOT VERIFIED — do not act on this plan ", style="bold white on red")
    else:
        line.append(" ✘ NOT VERIFIED ", style="bold white on red")
    facts = []
    if sol.objective is not None:
        facts.append(f"objective {fmt.money(sol.objective, r.currency, cents=True)}")
    if sol.bound is not None:
        facts.append(f"bound {fmt.money(sol.bound, r.currency, cents=True)}")
    if sol.gap is not None:
        facts.append(f"gap {fmt.gap(sol.gap)}")
    if timings and sol.stats.solve_s:
        facts.append(f"{sol.stats.solve_s:.1f} s")
    text = " · ".join(facts)
    if facts and line.cell_len + 2 + len(text) <= console.width:
        line.append("  " + text)
        console.print(line)
    else:
        console.print(line)
        if facts:
            console.print(text)
    if sol.message:
        console.print(Text(sol.message, style="bold red" if not r.solved else "yellow"))


def _totals(console: Console, r: Result) -> None:
    from rich.table import Table
    from rich.text import Text

    sol, cur = r.solution, r.currency
    t = sol.totals
    assert t is not None
    saved = t.all_on_demand_cost - t.cost
    rows = [
        [
            Text.assemble(f"cost over {len(sol.months)} months ", (fmt.money(t.cost, cur), "bold")),
            Text.assemble("all on-demand ", (fmt.money(t.all_on_demand_cost, cur), "bold")),
            Text.assemble(
                "saves ",
                (
                    f"{fmt.money(saved, cur)} ({fmt.pct(t.savings_pct)})",
                    "bold green" if saved >= 0 else "bold red",
                ),
            ),
        ],
        [
            Text(f"upfront {fmt.money(t.upfront, cur)} · recurring {fmt.money(t.recurring, cur)}"),
            Text(f"committed beyond horizon {fmt.money(t.beyond_horizon, cur)}"),
            Text(
                f"reserved used {fmt.share(sol.reserved_utilisation, 0)} · "
                f"spot {fmt.share(sol.spot_share, 0)}"
            ),
        ],
    ]
    # three columns as wide as their widest figure, closer together when that is what
    # keeps a figure from wrapping across lines; on a narrower terminal each row's figures
    # as many to a line as fit
    widths = [max(row[i].cell_len for row in rows) for i in range(3)]
    pad = next((p for p in (3, 2, 1) if sum(widths) + 2 * p <= console.width), None)
    if pad is None:
        for row in rows:
            line = Text()
            for cell in row:
                if line.cell_len and line.cell_len + 3 + cell.cell_len > console.width:
                    console.print(line)
                    line = Text()
                line += Text("   ") + cell if line.cell_len else cell
            console.print(line)
    else:
        grid = Table.grid(padding=(0, pad))
        for _ in range(3):
            grid.add_column(no_wrap=True)
        for row in rows:
            grid.add_row(*row)
        console.print(grid)
    marks = r.milestones()
    if marks:
        console.print(
            Text("cumulative: ", style="dim")
            + Text(" · ".join(f"{m.months} mo {fmt.money(m.cost, cur)}" for m in marks))
        )


def _purchases(console: Console, r: Result) -> None:
    from rich import box
    from rich.table import Table

    rows = schedule_rows(r)
    if not rows:
        console.print("[dim]buy:[/] no new reservations")
        return
    table = Table(
        title="Buy (reservation schedule)",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )
    # "order by" only when a lead time moves some order before its start (one column less
    # keeps the table within 100 columns without wrapping or cutting a price)
    lead = any(row[0] and row[0] != row[1] for row in rows)
    for name, justify in (
        *((("order by", "left"),) if lead else ()),
        ("start", "left"),
        ("offering", "left"),
        ("zone", "left"),
        ("term", "left"),
        ("payment", "left"),
        ("count", "right"),
        ("upfront", "right"),
        ("$/h each", "right"),
    ):
        # prices, dates and counts never wrap or get cut; a very long offering name folds
        table.add_column(name, justify=justify, no_wrap=name not in ("offering", "zone"))
    for row in rows:
        order_by, start, offering, zone, term, payment, count, upfront, hourly, _beyond = row
        table.add_row(
            *((order_by,) if lead else ()),
            start,
            fmt.short_offering(offering),
            zone,
            term,
            payment,
            count,
            upfront,
            hourly,
        )
    console.print(table)


def _periods(r: Result) -> list[list[MonthCost]]:
    months = r.solution.months
    if len(months) <= MONTHLY_UP_TO:
        return [[m] for m in months]
    return [months[i : i + 3] for i in range(0, len(months), 3)]


def _compact_mix(r: Result, workload: str, months: list[MonthCost]) -> str:
    """``8R 2S 1OD`` at the workload's busiest peak among ``months``."""
    best: dict[str, int] = {}
    for mc in months:
        counts = dict.fromkeys(OPTIONS, 0)
        for item in r.peak_mix(workload, mc.index):
            counts[item.option] += item.count
        if sum(counts.values()) > sum(best.values()):
            best = counts
    parts = [f"{best[o]}{fmt.OPTION_SHORT[o]}" for o in OPTIONS if best.get(o)]
    return " ".join(parts) or "–"


def _months(console: Console, r: Result) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    cur = r.currency
    periods = _periods(r)
    quarterly = len(periods) != len(r.solution.months)
    cliff_at: dict[int, list[str]] = {}
    for w in r.plan.workloads:
        if w.cliff_month is not None:
            cliff_at.setdefault(w.cliff_month, []).append(w.name)
    title = (
        "Cost by quarter" if quarterly else "Cost by month"
    )  # reserved = new reservations, owned = existing
    table = Table(
        title=f"{title}, instances at peak (R reserved, OD on-demand, S spot)",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("quarter" if quarterly else "month", no_wrap=True)
    for name in ("total", "reserved", "owned", "on-demand", "spot"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("peak mix", ratio=1)
    sums = [
        [
            sum((m.total for m in group), Decimal(0)),
            sum((m.reserved for m in group), Decimal(0)),
            sum((m.existing for m in group), Decimal(0)),
            sum((m.on_demand for m in group), Decimal(0)),
            sum((m.spot for m in group), Decimal(0)),
        ]
        for group in periods
    ]
    columns = [fmt.money_column([row[i] for row in sums], cur) for i in range(5)]
    for g, group in enumerate(periods):
        label = group[0].month if len(group) == 1 else f"{group[0].month}–{group[-1].month[5:]}"
        mix = escape(
            " · ".join(f"{w.name} {_compact_mix(r, w.name, group)}" for w in r.plan.workloads)
        )
        if any(m.index in cliff_at for m in group):
            label += " [bold yellow]◀[/]"
        table.add_row(label, *(col[g] for col in columns), mix)
    console.print(table)
    cliffs = [
        f"{name} {r.month_label(m)}"
        for m in sorted(cliff_at)
        for name in cliff_at[m]
        if r.month_label(m)
    ]
    if cliffs:
        console.print(
            f"[bold yellow]◀[/] capacity cliff of today's fleet: {escape(', '.join(cliffs))}"
        )
    if quarterly:
        console.print("[dim]per-month detail: --format md, json or csv[/]")


def _workloads(console: Console, r: Result) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    sol, cur = r.solution, r.currency
    total = sol.totals.cost if sol.totals else Decimal(0)
    table = Table(
        title="Workloads",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for name, justify in (
        ("workload", "left"),
        ("kind", "left"),
        ("cost", "right"),
        ("share", "right"),
        ("tightest month", "right"),
        ("capacity cliff", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for w in r.plan.workloads:
        cost = sol.workload_costs.get(w.name)
        points = [p for p in r.capacity.get(w.name, []) if p.coverage is not None]
        tight = min(points, key=lambda p: (p.coverage or 0.0, p.month_index)) if points else None
        cliff = r.month_label(w.cliff_month)
        table.add_row(
            escape(w.name),
            w.kind,
            fmt.money(cost, cur),
            fmt.share(float(cost / total) if cost is not None and total else None, 0),
            f"{tight.month} {fmt.share(tight.coverage, 0)}" if tight else "–",
            f"[yellow]{cliff}[/] {escape(w.cliff_reason)}" if cliff else "none in horizon",
        )
    console.print(table)


def _explanations(console: Console, r: Result) -> None:
    from rich.markup import escape

    sol = r.solution
    if sol.binding:
        # One line per setting (a 24-month plan binds dozens of times); every binding with
        # its blocks is in --format md, json and html.
        console.print("[bold]Binding constraints[/] [dim](by setting; each one in md/json/html)[/]")
        groups: dict[str | None, list[Binding]] = {}
        for b in sol.binding:
            groups.setdefault(b.setting, []).append(b)
        ranked = sorted(
            groups.items(), key=lambda kv: (-len({b.month for b in kv[1]}), kv[0] or "")
        )
        for key, items in ranked[:_MAX_BINDING_GROUPS]:
            setting = r.plan.setting(key) if key else None
            name = (
                f"{' '.join(setting.text.split())} ({key})"
                if setting
                else (key or "other constraints")
            )
            months = sorted({b.month for b in items if b.month is not None})
            when = _month_ranges(r, months) if months else "every month"
            n = f"{len(months)} of {len(sol.months)} months" if months else ""
            _item(console, f"[bold]{escape(name)}[/] binds in {escape(n)}: {escape(when)}")
            latest = max(items, key=lambda b: (b.month is not None, b.month or 0))
            _item(console, f"[dim]e.g. {escape(latest.text)}[/]", bullet="", indent=6)
        if len(ranked) > _MAX_BINDING_GROUPS:
            console.print(f"  [dim]… and {len(ranked) - _MAX_BINDING_GROUPS} more settings[/]")
    if sol.why_not:
        console.print("[bold]Why not[/]")
        for y in sol.why_not:
            _item(console, f"[bold]{escape(y.workload)}[/]: {escape(y.text)}")


_MAX_BINDING_GROUPS = 6


def _item(console: Console, markup: str, *, bullet: str = "•", indent: int = 2) -> None:
    """A list item whose long text wraps under itself (a hanging indent), not at column 0."""
    from rich.table import Table

    lead = " " * indent + bullet
    grid = Table.grid(padding=(0, 1) if bullet else 0)
    grid.add_column(width=len(lead), no_wrap=True)
    grid.add_column()
    grid.add_row(lead, markup)
    console.print(grid)


def _month_ranges(r: Result, months: list[int]) -> str:
    """``2027-01–2027-06, 2027-09`` from sorted month indices."""
    parts = []
    for a, b in consecutive_runs(months):
        first, last = r.month_label(a) or str(a), r.month_label(b) or str(b)
        parts.append(first if a == b else f"{first}–{last}")
    return ", ".join(parts)


def _stress(console: Console, r: Result) -> None:
    from rich.markup import escape

    report = r.solution.stress
    if report is None:
        return
    against = report.actual or "the base plan"
    if report.ok:
        console.print(
            f"[bold green]Stress test[/]: this fleet carries the demand of {escape(against)} in every hour"
        )
        return
    console.print(f"[bold red]Stress test against {escape(against)}: the SLA breaks[/]")
    for line in report.summary().splitlines():
        _item(console, f"[red]{escape(line)}[/]")


def _sources(console: Console, r: Result) -> None:
    from rich.markup import escape

    stamps = sorted(r.plan.sources, key=lambda s: (s.provider, s.source, s.origin, s.as_of))
    if not stamps:
        console.print("[yellow]prices: no sources recorded[/]")
        return
    if len(stamps) == 1:
        s = stamps[0]
        console.print(
            f"[dim]prices:[/] {escape(f'{s.provider} via {s.source} as of {s.as_of.isoformat()} ({s.origin})')}"
        )
        return
    console.print("[dim]prices:[/]")
    for s in stamps:
        _item(
            console,
            escape(f"{s.provider} via {s.source} as of {s.as_of.isoformat()} ({s.origin})"),
        )


def _diagnostics(console: Console, r: Result) -> None:
    from rich.markup import escape

    sol = r.solution
    if sol.verification is not None and sol.verification.violations:
        console.print("[bold red]Verification failed[/]")
        for v in sol.verification.violations:
            where = " ".join(x for x in (v.workload or "", r.month_label(v.month) or "") if x)
            _item(console, f"[red]{escape(v.check)}[/] {escape(where)}: {escape(v.message)}")
    for d in sol.diagnostics:
        style = {"error": "bold red", "warning": "bold yellow"}.get(d.level.value, "cyan")
        # as ``capdsl check`` prints them: the diagnostic's own layout (its ``= help:``
        # lines, the source excerpt) is kept, long lines are left to the terminal
        head, _, rest = render_diagnostic(d).partition("\n")
        console.print(f"[{style}]{escape(head)}[/]", soft_wrap=True)
        if rest:
            console.print(escape(rest), soft_wrap=True)


def _result(console: Console, r: Result, timings: bool) -> None:
    _header(console, r, timings)
    if r.solved:
        _totals(console, r)
        console.print()
        _purchases(console, r)
        console.print()
        _months(console, r)
        console.print()
        _workloads(console, r)
        console.print()
        _explanations(console, r)
        _stress(console, r)
    _sources(console, r)
    _diagnostics(console, r)
    console.print()


def _comparison(console: Console, views: Sequence[Result]) -> None:
    from rich import box
    from rich.table import Table

    ref = views[0]
    cur = ref.currency
    ref_cost = ref.solution.totals.cost if ref.solved and ref.solution.totals else None
    table = Table(
        title="Scenarios",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for name, justify in (
        ("scenario", "left"),
        ("status", "left"),
        ("verified", "left"),
        ("cost", "right"),
        ("vs reference", "right"),
        ("savings", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for v in views:
        cost = v.solution.totals.cost if v.solved and v.solution.totals else None
        delta = cost - ref_cost if cost is not None and ref_cost is not None else None
        name = fmt.scenario_name(v.scenario)
        if v is ref:
            name += " (reference)"
        rows: list[RenderableType] = [
            name,
            f"[{STATUS_STYLE.get(v.status, 'bold red')}]{v.status}[/]",
            "[green]yes[/]" if v.trusted else "[bold red]NO[/]",
            fmt.money(cost, cur),
            "–" if v is ref else fmt.signed_money(delta, cur) if delta is not None else "–",
            fmt.pct(v.solution.totals.savings_pct) if v.solved and v.solution.totals else "–",
        ]
        table.add_row(*rows)
    console.print(table)
    console.print()
