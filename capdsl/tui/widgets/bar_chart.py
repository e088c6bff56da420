"""A stacked bar chart drawn with eighth blocks, one column per month.

Stacks (e.g. existing / reserved / on-demand / spot), markers (demand drawn over the
bars), a horizontal line (a budget) and flagged columns (the capacity cliff). Colours are
component classes styled in ``app.tcss`` with theme variables. Hover shows a column's
details as a tooltip; a click posts :class:`BarChart.ColumnSelected`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from capdsl.tui.display import si

_BLOCKS = " ▁▂▃▄▅▆▇█"


@dataclass
class Stack:
    name: str
    values: list[float]
    style: str  # component class suffix: "s0".."s3"


@dataclass
class Marker:
    name: str
    values: list[float | None]
    style: str = "marker"


@dataclass
class ChartData:
    labels: list[str]  # one per column ("2027-01")
    stacks: list[Stack]
    markers: list[Marker] = field(default_factory=list)
    line: tuple[float, str] | None = None  # (value, legend) drawn as a dashed line
    flags: dict[int, str] = field(default_factory=dict)  # column -> legend ("cliff")
    fmt: Callable[[float], str] = si
    details: list[str] = field(default_factory=list)  # tooltip per column

    def total(self, i: int) -> float:
        return sum(s.values[i] for s in self.stacks if i < len(s.values))

    def top(self) -> float:
        """The largest value drawn; a line far above the bars (a budget 3x the cost) is
        left off the scale, so it does not squash the bars (the legend says so)."""
        vals = [self.total(i) for i in range(len(self.labels))]
        for m in self.markers:
            vals += [v for v in m.values if v is not None]
        top = max(vals, default=0.0)
        if self.line is not None and self.line_on_scale(top):
            top = max(top, self.line[0])
        return top

    def line_on_scale(self, top: float) -> bool:
        return self.line is not None and (top <= 0 or self.line[0] <= top * 1.6)


def nice_ceiling(v: float) -> float:
    """A round number >= v (1, 2, 2.5, 5 x 10^k) for the y axis."""
    if v <= 0:
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        c = m * 10**exp
        if c >= v * 0.999:
            return c
    return 10 ** (exp + 1)


class BarChart(Widget):
    """Stacked monthly bars; ``data`` is a :class:`ChartData` or None (empty text)."""

    DEFAULT_CSS = """
    BarChart { height: 1fr; min-height: 6; }
    BarChart > .bar-chart--axis { color: $text-muted; }
    BarChart > .bar-chart--s0 { color: $primary; }
    BarChart > .bar-chart--s1 { color: $secondary; }
    BarChart > .bar-chart--s2 { color: $warning; }
    BarChart > .bar-chart--s3 { color: $success; }
    BarChart > .bar-chart--marker { color: $text; text-style: bold; }
    BarChart > .bar-chart--line { color: $error; }
    BarChart > .bar-chart--flag { color: $error; text-style: bold; }
    BarChart > .bar-chart--selected { color: $accent; text-style: bold reverse; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "bar-chart--axis",
        "bar-chart--s0",
        "bar-chart--s1",
        "bar-chart--s2",
        "bar-chart--s3",
        "bar-chart--marker",
        "bar-chart--line",
        "bar-chart--flag",
        "bar-chart--selected",
    }

    data: reactive[ChartData | None] = reactive(None, layout=False)
    selected: reactive[int | None] = reactive(None)

    class ColumnSelected(Message):
        def __init__(self, chart: BarChart, index: int) -> None:
            super().__init__()
            self.chart = chart
            self.index = index

        @property
        def control(self) -> BarChart:
            return self.chart

    def __init__(
        self,
        *,
        empty: str = "nothing to show yet",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.empty = empty
        self._geometry: tuple[int, int, int] | None = None  # (x0, col_w, group)

    # ------------------------------------------------------------------ geometry

    def _layout(self, width: int, data: ChartData) -> tuple[int, int, int, int, float]:
        top = nice_ceiling(data.top() * 1.04)
        y_w = max(len(data.fmt(top)), len(data.fmt(top / 2)), 1) + 2
        n = max(len(data.labels), 1)
        avail = max(width - y_w, 1)
        group = max(1, math.ceil(n / avail))
        cols = math.ceil(n / group)
        col_w = max(1, avail // cols)
        return y_w, col_w, group, cols, top

    def _column_at(self, x: int) -> int | None:
        if self._geometry is None or self.data is None:
            return None
        x0, col_w, group = self._geometry
        if x < x0:
            return None
        col = (x - x0) // col_w
        index = col * group
        return index if index < len(self.data.labels) else None

    # ------------------------------------------------------------------ rendering

    def render(self) -> Text:
        data = self.data
        width, height = self.content_size.width, self.content_size.height
        if data is None or not data.labels or height < 4 or width < 10:
            self._geometry = None
            return Text(self.empty, style="dim", justify="center")
        y_w, col_w, group, cols, top = self._layout(width, data)
        self._geometry = (y_w, col_w, group)
        bar_w = col_w - 1 if col_w >= 3 else col_w
        plot_h = height - 2
        unit = top / plot_h

        def style_of(name: str) -> Style:
            return self.get_component_rich_style(f"bar-chart--{name}")

        stack_colors = [style_of(s.style).color for s in data.stacks]
        axis = style_of("axis")
        marker_style = style_of("marker")
        line_style = style_of("line")
        flag_style = style_of("flag")

        def grouped(values: list[float | None], how: str = "max") -> list[float | None]:
            out: list[float | None] = []
            for c in range(cols):
                chunk = [v for v in values[c * group : (c + 1) * group] if v is not None]
                out.append(max(chunk) if chunk else None)
            return out

        stacks = [[v or 0.0 for v in grouped(list(s.values))] for s in data.stacks]
        markers = [(grouped(list(m.values)), style_of(m.style)) for m in data.markers]
        flags = {i // group for i in data.flags}
        selected = None if self.selected is None else self.selected // group

        lines: list[Text] = [
            self._legend(data, stack_colors, marker_style, line_style, flag_style, width)
        ]
        y_labels = {0: data.fmt(top), plot_h // 2: data.fmt(top / 2), plot_h - 1: data.fmt(0)}
        for r in range(plot_h):
            lo = (plot_h - 1 - r) * unit
            hi = lo + unit
            line = Text()
            label = y_labels.get(r, "")
            line.append(label.rjust(y_w - 2) + (" ┤" if label else " │"), axis)
            for c in range(cols):
                cell_chars = self._cell(c, lo, hi, unit, stacks, stack_colors)
                char, style = cell_chars
                # markers and the line are drawn over the bar
                for values, m_style in markers:
                    v = values[c]
                    if (v is not None and lo <= v < hi) or (v is not None and r == 0 and v >= hi):
                        f = min(max((v - lo) / unit, 0.0), 1.0)
                        glyph = "▁" if f < 0.34 else ("━" if f < 0.67 else "▔")
                        char, style = (
                            glyph,
                            Style(
                                color=m_style.color,
                                bold=True,
                                bgcolor=style.color if char == "█" else None,
                            ),
                        )
                if data.line is not None and lo <= data.line[0] < hi and char == " ":
                    char, style = "╌", line_style
                if r == 0 and c in flags and char == " ":
                    char, style = "▼", flag_style
                line.append(char * bar_w, style)
                gap = col_w - bar_w
                if gap:
                    g_char = "╌" if data.line is not None and lo <= data.line[0] < hi else " "
                    line.append(g_char * gap, line_style if g_char != " " else Style())
            lines.append(line)
        lines.append(self._x_axis(data, y_w, col_w, group, cols, flags, selected, axis, flag_style))
        return Text("\n").join(lines)

    @staticmethod
    def _cell(
        c: int,
        lo: float,
        hi: float,
        unit: float,
        stacks: list[list[float]],
        colors: list[RichColor | None],
    ) -> tuple[str, Style]:
        total = sum(s[c] for s in stacks)
        if total <= lo + unit / 16:
            return " ", Style()
        # the segment under the cell's top and a boundary inside the cell, if any
        cum = 0.0
        bounds: list[tuple[float, int]] = []
        for k, s in enumerate(stacks):
            if s[c] <= 0:
                continue
            cum += s[c]
            bounds.append((cum, k))
        below = next((k for b, k in bounds if b > lo), bounds[-1][1])
        if total < hi:
            f = round((total - lo) / unit * 8)
            top_k = bounds[-1][1]
            return _BLOCKS[max(1, min(f, 8))], Style(color=colors[top_k])
        inside = [(b, k) for b, k in bounds if lo < b < hi]
        if inside:
            b, k = inside[0]
            nxt = next((kk for bb, kk in bounds if bb > b), k)
            f = round((b - lo) / unit * 8)
            if 0 < f < 8:
                return _BLOCKS[f], Style(color=colors[k], bgcolor=colors[nxt])
            return "█", Style(color=colors[k] if f >= 8 else colors[nxt])
        return "█", Style(color=colors[below])

    def _legend(
        self,
        data: ChartData,
        colors: list[RichColor | None],
        marker: Style,
        line_style: Style,
        flag_style: Style,
        width: int,
    ) -> Text:
        legend = Text()
        for s, color in zip(data.stacks, colors, strict=True):
            if any(v > 0 for v in s.values):
                legend.append("■ ", Style(color=color))
                legend.append(f"{s.name}   ")
        for m in data.markers:
            legend.append(
                "━ ",
                Style(
                    color=self.get_component_rich_style(f"bar-chart--{m.style}").color, bold=True
                ),
            )
            legend.append(f"{m.name}   ")
        if data.line is not None:
            bars = max((data.total(i) for i in range(len(data.labels))), default=0.0)
            legend.append("╌ ", line_style)
            above = "" if data.line_on_scale(bars) else " (far above)"
            legend.append(f"{data.line[1]}{above}   ")
        for label in dict.fromkeys(data.flags.values()):
            legend.append("▼ ", flag_style)
            legend.append(f"{label}   ")
        legend.truncate(width)
        return legend

    @staticmethod
    def _x_axis(
        data: ChartData,
        y_w: int,
        col_w: int,
        group: int,
        cols: int,
        flags: set[int],
        selected: int | None,
        axis: Style,
        flag_style: Style,
    ) -> Text:
        text = Text(" " * y_w)
        short = [lab[2:] if len(lab) == 7 and lab[4] == "-" else lab for lab in data.labels]
        label_w = max(len(s) for s in short) + 1
        every = max(1, math.ceil(label_w / col_w))
        pos = 0
        out = [" "] * (cols * col_w)
        styles: list[Style] = [axis] * (cols * col_w)
        for c in range(cols):
            want = c % every == 0 or c in flags or c == selected
            if not want or c * col_w < pos:
                continue
            lab = short[c * group]
            start = c * col_w
            if start + len(lab) > len(out):
                continue
            st = flag_style if c in flags else axis
            if c == selected:
                st = Style(reverse=True, bold=True)
            for k, ch in enumerate(lab):
                out[start + k] = ch
                styles[start + k] = st
            pos = start + len(lab) + 1
        for ch, st in zip(out, styles, strict=True):
            text.append(ch, st)
        return text

    # ------------------------------------------------------------------ mouse

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._column_at(event.x - self.styles.gutter.left)
        data = self.data
        if index is None or data is None:
            self.tooltip = None
            return
        detail = data.details[index] if index < len(data.details) else ""
        self.tooltip = f"{data.labels[index]}\n{detail}".strip()

    def on_click(self, event: events.Click) -> None:
        index = self._column_at(event.x - self.styles.gutter.left)
        if index is not None:
            self.selected = index
            self.post_message(self.ColumnSelected(self, index))
