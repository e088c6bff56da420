"""A problem the user must see: an infeasible plan, a solver error, a failed save."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ProblemScreen(ModalScreen[str | None]):
    """Title, a one-line summary and rendered diagnostics; dismisses with a button id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="problem.close")
    ]

    def __init__(
        self,
        title: str,
        summary: str,
        details: str = "",
        *,
        severity: str = "error",
        buttons: tuple[tuple[str, str], ...] = (("ok", "OK"),),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.details = details
        self.severity = severity
        self.buttons = buttons

    def compose(self) -> ComposeResult:
        box = Vertical(id="problem-box", classes=f"modal-body -{self.severity}")
        box.border_title = self.title_text
        with box:
            yield Static(Content(self.summary), id="problem-summary")
            if self.details:
                with VerticalScroll(id="problem-details"):
                    yield Static(Content(self.details), id="problem-text")
            with Horizontal(id="problem-buttons"):
                for i, (bid, label) in enumerate(self.buttons):
                    yield Button(
                        label,
                        id=f"problem-{bid}",
                        variant="primary" if i == 0 else "default",
                        compact=True,
                    )

    def on_mount(self) -> None:
        self.query_one("#problem-buttons Button").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("problem-"))

    async def action_dismiss(self, result: str | None = None) -> None:
        self.dismiss(result)
