"""The long explanation of a diagnostic code (``capdsl explain CODE``), as a modal."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


class ExplainCodeScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="explain.close")
    ]

    def __init__(self, code: str, markdown: str) -> None:
        super().__init__()
        self.code = code
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        body = VerticalScroll(id="explain-code-body", classes="modal-body")
        body.border_title = f"explain {self.code}"
        body.border_subtitle = "esc closes"
        with body:
            yield Markdown(self.markdown)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
