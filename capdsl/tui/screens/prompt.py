"""A one-line prompt (a what-if value from the palette, a line number to go to)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel")
    ]

    def __init__(
        self, title: str, *, value: str = "", help: str = "", placeholder: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.help = help
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        box = Vertical(id="prompt-box", classes="modal-body")
        box.border_title = self.title_text
        box.border_subtitle = "enter applies · esc cancels"
        with box:
            yield Input(
                value=self.value,
                placeholder=self.placeholder,
                id="prompt-input",
                select_on_focus=True,
            )
            if self.help:
                yield Static(
                    Content.from_markup("[$text-muted]$h[/]", h=self.help), id="prompt-help"
                )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
