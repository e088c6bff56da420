"""Charts as inline SVG (matplotlib, imported lazily so ``import capdsl`` stays fast).

Deterministic: every chart has its own ``svg.hashsalt`` (stable ids that never collide
between charts of one page), no date or creator metadata, text kept as text
(``svg.fonttype = none``: small files, selectable, printable). Charts are drawn on a bare
``matplotlib.figure.Figure`` (no pyplot, so no GUI backend and no global figure state),
and returned ready to inline in HTML: no XML prolog, no namespace URLs, no comments.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from capdsl.report import fmt
from capdsl.report.facts import OPTIONS, Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = {
    "reserved": "#1f4e79",
    "existing": "#7fa7cf",
    "on_demand": "#d98c1f",
    "spot": "#3f9a56",
    "demand": "#555555",
    "required": "#111111",
    "capacity": "#1f4e79",
    "cliff": "#c0392b",
}
SCENARIO_COLORS = ("#1f4e79", "#c0392b", "#3f9a56", "#d98c1f", "#7b4fa0", "#555555")

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "figure.dpi": 100,
}


@contextmanager
def _chart(key: str, height: float = 2.9) -> Iterator[tuple[Figure, Axes]]:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"capdsl-{key}"}):  # type: ignore[dict-item]
        fig = Figure(figsize=(7.6, height), layout="constrained")
        ax = fig.add_subplot()
        yield fig, ax


def _svg(fig: Figure, key: str, title: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"capdsl-{key}"}):  # type: ignore[dict-item]
        fig.savefig(
            buf,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return clean_svg(buf.getvalue(), title, prefix=key)


def clean_svg(svg: str, title: str = "", prefix: str = "") -> str:
    """Make matplotlib's standalone SVG fit for inlining in one offline HTML page: no prolog,
    comments, metadata or namespace URLs; ids prefixed so several charts share one page."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href", "href")
    if prefix:
        svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
        svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    if title:
        label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return svg.strip() + "\n"


def _months_axis(ax: Axes, labels: Sequence[str]) -> None:
    n = len(labels)
    step = 1 if n <= 12 else 3 if n <= 36 else 6
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[i] for i in ticks])
    ax.set_xlim(-0.6, n - 0.4)


def _count_axis(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v == int(v) else f"{v:,.1f}")
    )


def _legend(fig: Figure, handles: list[Any] | None = None, labels: list[str] | None = None) -> None:
    """One legend row under the plot, never over the data."""
    if handles is None or labels is None:
        handles, labels = fig.axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles, labels, loc="outside lower center", ncols=min(len(handles), 6), fontsize=8
        )


def _money_axis(ax: Axes, currency: str) -> None:
    from matplotlib.ticker import FuncFormatter

    sym = fmt.symbol(currency)

    def money(value: float, _pos: Any) -> str:
        a = abs(value)
        if a >= 1e6:
            return f"{sym}{value / 1e6:.{0 if value % 1e6 == 0 else 1}f}M"
        if a >= 1e3:
            return f"{sym}{value / 1e3:.{0 if value % 1e3 == 0 else 1}f}k"
        return f"{sym}{value:.0f}"

    ax.yaxis.set_major_formatter(FuncFormatter(money))


def cost_chart(r: Result, key: str = "cost") -> str:
    """Stacked cost per month by purchase option, cumulative cost on a second axis with the
    6/12/18/24-month marks."""
    months = r.solution.months
    labels = [m.month for m in months]
    x = list(range(len(months)))
    series = [
        ("new reserved", [float(m.reserved) for m in months], COLORS["reserved"]),
        ("owned reserved", [float(m.existing) for m in months], COLORS["existing"]),
        ("on-demand", [float(m.on_demand) for m in months], COLORS["on_demand"]),
        ("spot", [float(m.spot) for m in months], COLORS["spot"]),
    ]
    with _chart(key) as (fig, ax):
        bottom = [0.0] * len(x)
        for name, values, color in series:
            if any(values):
                ax.bar(x, values, bottom=bottom, color=color, label=name, width=0.75)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        _months_axis(ax, labels)
        _money_axis(ax, r.currency)
        ax.set_ylabel("per month")
        ax2 = ax.twinx()
        cum = [float(c) for c in r.cumulative]
        ax2.plot(x, cum, color="#111111", linewidth=1.4, label="cumulative")
        for mark in r.milestones():
            i = mark.months - 1
            ax2.plot([i], [cum[i]], marker="o", color="#111111", markersize=4)
            ax2.annotate(
                f"{mark.months} mo: {fmt.money(mark.cost, r.currency)}",
                (i, cum[i]),
                textcoords="offset points",
                xytext=(-4, 6),
                ha="right",
                fontsize=8,
            )
        _money_axis(ax2, r.currency)
        ax2.set_ylabel("cumulative")
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        handles, names = ax.get_legend_handles_labels()
        h2, n2 = ax2.get_legend_handles_labels()
        _legend(fig, handles + h2, names + n2)
        ax.set_ylim(0, max([*bottom, 1.0]) * 1.1)
        ax2.set_ylim(0, max([*cum, 1.0]) * 1.15)
        return _svg(fig, key, "Cost per month by purchase option, with the cumulative cost")


def capacity_chart(r: Result, workload: str, key: str = "") -> str:
    """Required capacity, peak demand and provisioned capacity; the cliff month marked."""
    w = r.plan.workload(workload)
    points = r.capacity.get(workload, [])
    labels = [p.month for p in points]
    x = list(range(len(points)))
    key = key or f"capacity-{workload}"
    with _chart(key) as (fig, ax):
        ax.step(
            x,
            [p.capacity for p in points],
            where="mid",
            color=COLORS["capacity"],
            linewidth=2,
            label="capacity",
        )
        ax.plot(
            x,
            [p.required for p in points],
            color=COLORS["required"],
            linestyle="--",
            linewidth=1.2,
            label="required",
        )
        ax.plot(
            x,
            [p.demand for p in points],
            color=COLORS["demand"],
            linewidth=1,
            marker=".",
            label="peak demand",
        )
        if w.cliff_month is not None and 0 <= w.cliff_month < len(points):
            ax.axvline(w.cliff_month - 0.5, color=COLORS["cliff"], linewidth=1.2, linestyle=":")
            ax.annotate(
                f"capacity cliff {points[w.cliff_month].month}",
                (w.cliff_month - 0.5, 0.97),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0),
                textcoords="offset points",
                color=COLORS["cliff"],
                fontsize=8,
                va="top",
            )
        _months_axis(ax, labels)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{w.unit}/month" if w.kind == "batch" else f"{w.unit}/s")
        _count_axis(ax)
        _legend(fig)
        return _svg(fig, key, f"{workload}: capacity vs demand")


def mix_chart(r: Result, key: str = "mix") -> str:
    """Instance-hours per month, stacked by purchase option."""
    labels = [m.month for m in r.solution.months]
    x = list(range(len(labels)))
    rows = r.instance_hours[: len(x)]
    with _chart(key) as (fig, ax):
        bottom = [0.0] * len(x)
        for option in OPTIONS:
            values = [row[option] for row in rows]
            if any(values):
                ax.bar(
                    x,
                    values,
                    bottom=bottom,
                    color=COLORS[option],
                    label=fmt.OPTION_LABEL[option],
                    width=0.75,
                )
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        _months_axis(ax, labels)
        ax.set_ylabel("instance-hours")
        ax.set_ylim(0, max([*bottom, 1.0]) * 1.1)
        _count_axis(ax)
        _legend(fig)
        return _svg(fig, key, "Instance-hours per month by purchase option")


def savings_chart(r: Result, key: str = "savings") -> str:
    """Cumulative cost of this plan against the same instances bought on-demand."""
    labels = [m.month for m in r.solution.months]
    x = list(range(len(labels)))
    plan_cum = [float(c) for c in r.cumulative]
    od_cum: list[float] = []
    total = 0.0
    for v in r.on_demand_equivalent[: len(x)]:
        total += float(v or 0)
        od_cum.append(total)
    with _chart(key) as (fig, ax):
        ax.plot(x, od_cum, color=COLORS["on_demand"], linewidth=1.6, label="all on-demand")
        ax.plot(x, plan_cum, color=COLORS["reserved"], linewidth=2, label="this plan")
        ax.fill_between(
            x,
            plan_cum,
            od_cum,
            where=[o >= p for o, p in zip(od_cum, plan_cum, strict=True)],
            color=COLORS["spot"],
            alpha=0.15,
            label="saved",
            interpolate=True,
        )
        _months_axis(ax, labels)
        _money_axis(ax, r.currency)
        ax.set_ylim(bottom=0)
        _legend(fig)
        return _svg(fig, key, "Cumulative cost: this plan vs the same instances on-demand")


def scenario_chart(views: Sequence[Result]) -> str:
    """Cost per month, one line per scenario (the first is the reference)."""
    longest = max(views, key=lambda v: len(v.solution.months))
    labels = [m.month for m in longest.solution.months]
    with _chart("scenarios") as (fig, ax):
        for i, v in enumerate(views):
            values = [float(m.total) for m in v.solution.months]
            ax.plot(
                range(len(values)),
                values,
                color=SCENARIO_COLORS[i % len(SCENARIO_COLORS)],
                linewidth=2.2 if i == 0 else 1.4,
                linestyle="-" if i == 0 else "--",
                label=fmt.scenario_name(v.scenario),
            )
        _months_axis(ax, labels)
        _money_axis(ax, views[0].currency)
        ax.set_ylim(bottom=0)
        _legend(fig)
        return _svg(fig, "scenarios", "Cost per month by scenario")
