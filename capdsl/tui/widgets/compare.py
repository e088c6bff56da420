"""Two scenarios side by side: cost per month, the delta, and the total difference."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, Label, Select, Static

from capdsl.tui.derive import CompareRow, compare_rows, total_of
from capdsl.tui.display import money, pct
from capdsl.tui.widgets.tables import fill_table

if TYPE_CHECKING:
    from capdsl.solve.solution import Solution


BASE = "(base)"
FILE = " in the file"
Target = tuple[str | None, bool]  # (scenario, solved from the file's text rather than the what-ifs)


def scenario_label(name: str | None) -> str:
    return BASE if name is None else name


def target_label(target: Target) -> str:
    return scenario_label(target[0]) + (FILE if target[1] else "")


def parse_target(value: str) -> Target:
    from_file = value.endswith(FILE)
    name = value.removesuffix(FILE)
    return (None if name == BASE else name), from_file


class CompareView(Vertical):
    """Pick A and B, press Compare: both are solved (if needed) and shown month by month.

    With unsaved what-ifs, "<scenario> in the file" is offered too: the same scenario as the
    file has it, so a what-if's cost shows month by month."""

    class Requested(Message):
        def __init__(self, a: Target, b: Target) -> None:
            super().__init__()
            self.a = a
            self.b = b

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._names: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Select[str]([], prompt="scenario A", id="compare-a", compact=True)
            yield Label("vs", classes="toolbar-label")
            yield Select[str]([], prompt="scenario B", id="compare-b", compact=True)
            yield Button("Compare", id="compare-run", compact=True, variant="primary")
        yield Static("", id="compare-summary")
        table: DataTable[object] = DataTable(
            id="compare-table", cursor_type="row", zebra_stripes=True
        )
        yield table

    def on_mount(self) -> None:
        self.query_one("#compare-summary", Static).update(
            Content.from_markup(
                "[$text-muted]pick two scenarios and press Compare (both are solved if needed)[/]"
            )
        )

    def set_scenarios(
        self,
        scenarios: tuple[str, ...],
        *,
        current: str | None,
        plan_for: str | None,
        dirty: bool = False,
    ) -> None:
        names = (BASE, *scenarios) + ((target_label((current, True)),) if dirty else ())
        if names == self._names:
            return
        self._names = names
        a, b = self.query_one("#compare-a", Select), self.query_one("#compare-b", Select)
        options = [(n, n) for n in names]
        a.set_options(options)
        b.set_options(options)
        if dirty:  # what the what-ifs change, month by month
            a.value = target_label((current, True))
            b.value = scenario_label(current)
            return
        a.value = scenario_label(current)
        other = (
            plan_for
            if plan_for and plan_for != current
            else next((n for n in names if n != scenario_label(current)), scenario_label(current))
        )
        b.value = other if other in names else BASE

    def selection(self) -> tuple[Target, Target]:
        def pick(sel: Select[str]) -> Target:
            v = sel.value
            return parse_target(v) if isinstance(v, str) else (None, False)

        return pick(self.query_one("#compare-a", Select)), pick(
            self.query_one("#compare-b", Select)
        )

    def select(self, a: Target, b: Target) -> None:
        for sel, target in (
            (self.query_one("#compare-a", Select), a),
            (self.query_one("#compare-b", Select), b),
        ):
            label = target_label(target)
            if label in self._names:
                sel.value = label

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "compare-run":
            event.stop()
            a, b = self.selection()
            self.post_message(self.Requested(a, b))

    def show(self, a_target: Target, a: Solution, b_target: Target, b: Solution) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        la, lb = escape(target_label(a_target)), escape(target_label(b_target))
        for label, key in (
            ("Month", "month"),
            (la, "a"),
            (lb, "b"),
            ("Δ", "delta"),
            ("Δ%", "pct"),
            ("", "bar"),
        ):
            table.add_column(label, key=key)
        cur = a.currency
        rows = compare_rows(a, b)
        biggest = max(
            (abs(r.delta) for r in rows if r.delta is not None), default=Decimal(0)
        ) or Decimal(1)

        def row(r: CompareRow) -> tuple[str, tuple[RenderableType, ...]]:
            d = r.delta
            if d is None:
                return r.month, (r.month, money(r.a, cur), money(r.b, cur), "–", "–", "")
            style = "red" if d > 0 else ("green" if d < 0 else "")
            share = pct(float(d / r.a) if r.a else None)
            bar = "█" * max(1 if d else 0, round(float(abs(d) / biggest) * 12))
            return r.month, (
                r.month,
                Text(money(r.a, cur), justify="right"),
                Text(money(r.b, cur), justify="right"),
                Text(("+" if d > 0 else "") + money(d, cur), style=style, justify="right"),
                Text(("+" if d > 0 else "") + share, style=style, justify="right"),
                Text(bar, style=style),
            )

        fill_table(table, (row(r) for r in rows))
        ta, tb = total_of(rows, "a"), total_of(rows, "b")
        delta = tb - ta
        worst = max(
            (r for r in rows if r.delta is not None), key=lambda r: r.delta or 0, default=None
        )
        word = "more" if delta > 0 else "less"
        colour = "$error" if delta > 0 else "$success"
        lines = [
            f"[b]{lb}[/b] costs [b {colour}]{money(abs(delta), cur)} {word}[/] than [b]{la}[/b] over "
            f"{len(rows)} months ({money(tb, cur)} vs {money(ta, cur)}, "
            f"{'+' if delta > 0 else ''}{pct(float(delta / ta) if ta else None)})"
        ]
        if worst is not None and worst.delta and worst.delta > 0:
            lines.append(
                f"[$text-muted]largest monthly gap: {worst.month}, +{money(worst.delta, cur)}[/]"
            )
        for name, s in ((la, a), (lb, b)):
            if not s.verified:
                lines.append(f"[$warning]{name} is not verified ({s.status})[/]")
        self.query_one("#compare-summary", Static).update(Content.from_markup("\n".join(lines)))

    def show_message(self, message: str) -> None:
        self.query_one("#compare-summary", Static).update(
            Content.from_markup("[$warning]$m[/]", m=message)
        )
