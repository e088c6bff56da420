"""The diagnostics of the plan (and of the last solve), with jump-to-line and explain."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from capdsl.lang.diagnostics import Diagnostic

# keyed by the level's value (``Level`` is a StrEnum): this module, on the first screen, then
# does not load the language package (lark, the grammar) before the first paint
_ICON = {"error": ("✖", "error"), "warning": ("▲", "warning"), "note": ("●", "note")}


class DiagnosticsList(OptionList):
    """One line per diagnostic: level, code, position, message (help below, dimmed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "explain", "Explain code", id="diagnostics.explain"),
        Binding("enter", "select", "Jump to", show=False, id="diagnostics.jump"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diagnostics--error",
        "diagnostics--warning",
        "diagnostics--note",
        "diagnostics--dim",
    }

    class Jump(Message):
        """Show this diagnostic's span in the source."""

        def __init__(self, diagnostic: Diagnostic, *, focus: bool) -> None:
            super().__init__()
            self.diagnostic = diagnostic
            self.focus = focus

    class Explain(Message):
        """Open the long explanation of a diagnostic code."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.diagnostics: list[Diagnostic] = []
        self._origin: list[str] = []

    def show(
        self, plan_diags: Iterable[Diagnostic], solve_diags: Iterable[Diagnostic] = ()
    ) -> None:
        """Replace the list: the plan's diagnostics first, then the solver's."""
        diags = [(d, "") for d in plan_diags] + [(d, "solve") for d in solve_diags]
        # errors first, then warnings, then notes; stable within a level (source order)
        order = {"error": 0, "warning": 1, "note": 2}
        diags.sort(key=lambda p: order.get(p[0].level, 3))
        self.diagnostics = [d for d, _ in diags]
        self._origin = [o for _, o in diags]
        highlighted = self.highlighted
        self.clear_options()
        if not self.diagnostics:
            self.add_option(
                Option(Text("no problems found ✓", style="dim"), id="none", disabled=True)
            )
        else:
            self.add_options(
                Option(self._prompt(d, o), id=f"d{i}")
                for i, (d, o) in enumerate(zip(self.diagnostics, self._origin, strict=True))
            )
            self.highlighted = min(highlighted or 0, len(self.diagnostics) - 1)
        n_err = sum(d.is_error for d in self.diagnostics)
        n_warn = sum(d.level == "warning" for d in self.diagnostics)
        parts = []
        if n_err:
            parts.append(f"{n_err} error{'s' * (n_err != 1)}")
        if n_warn:
            parts.append(f"{n_warn} warning{'s' * (n_warn != 1)}")
        self.border_title = "Diagnostics" + (f" · {', '.join(parts)}" if parts else "")
        self.set_class(n_err > 0, "-has-errors")

    def _prompt(self, d: Diagnostic, origin: str) -> Text:
        icon, cls = _ICON.get(d.level, ("●", "note"))
        style = self.get_component_rich_style(f"diagnostics--{cls}")
        dim = self.get_component_rich_style("diagnostics--dim")
        text = Text()
        text.append(f"{icon} ", style)
        text.append(d.code, style + Style(bold=True))
        if d.span is not None:
            where = f" {d.span.line}:{d.span.column}"
            plan_path = str(getattr(self.app, "plan_path", ""))
            if d.span.file and Path(d.span.file).name != Path(plan_path).name:
                where = f" {Path(d.span.file).name}:{d.span.line}:{d.span.column}"
            text.append(where, dim)
        if origin:
            text.append(f" [{origin}]", dim)
        text.append(f"  {d.message}")
        if d.help:
            text.append(f"\n    help: {d.help}", dim)
        return text

    @property
    def current(self) -> Diagnostic | None:
        if self.highlighted is None or not self.diagnostics:
            return None
        if 0 <= self.highlighted < len(self.diagnostics):
            return self.diagnostics[self.highlighted]
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        d = self.current
        if d is not None:
            self.post_message(self.Jump(d, focus=True))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        d = self.current
        # follow the user's cursor, not the list being refilled
        if d is not None and d.span is not None and self.has_focus:
            self.post_message(self.Jump(d, focus=False))

    def action_explain(self) -> None:
        d = self.current
        if d is not None:
            self.post_message(self.Explain(d.code))

    def select_next(self, step: int = 1) -> Diagnostic | None:
        """Highlight the next (or previous) diagnostic, wrapping around."""
        if not self.diagnostics:
            return None
        current = self.highlighted if self.highlighted is not None else -step
        self.highlighted = (current + step) % len(self.diagnostics)
        return self.current
