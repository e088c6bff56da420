"""The help screen: every key (as currently mapped), mouse use, what-if value forms."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

_TEXT = """\
# capdsl · keys

{keys}

Keys are remappable: put `[keymap]` in `{config}` with *binding id* = *keys*, e.g.
`solve = "ctrl+enter,f5"`.

## Mouse

Click a tab, a table row, a diagnostic (jumps to its line), a setting link in *Why*
(jumps to where it is written), a month column in a chart (selects that month; hover shows
its numbers).

## What-if values

| knob | you may type | written as |
|---|---|---|
| growth | `6`, `6%`, `6% per month` | `6% per month` |
| headroom, spot max | `40`, `40%` (`0%` forbids spot) | `40%` |
| event scale | `6`, `6x` | `6x` |
| budget | `80k`, `$80k` | `$80k` |
| terms | `1y 3y`, `[1y]`, `none` | `[1y, 3y]`, `[1y]`, `[]` |

In a scenario, a what-if is written as an override in `scenario NAME {{ }}`. The command
palette (`ctrl+p`) also takes `set recs.growth = 6%` directly.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, keys_markdown: str, config: str) -> None:
        super().__init__()
        self._md = _TEXT.format(keys=keys_markdown, config=config)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body", classes="modal-body"):
            yield Markdown(self._md)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
