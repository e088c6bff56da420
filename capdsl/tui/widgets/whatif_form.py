"""The what-if form: one row per knob (file value, current value, an input).

Enter in an input applies that value: the app edits the in-memory source, rebuilds it
through ``capdsl.api`` (same validation as the file) and re-solves, warm-started. Buttons
undo, revert to the file's values and save to the file.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from capdsl.tui.whatif import Knob


class KnobRow(Horizontal):
    def __init__(self, index: int, knob: Knob) -> None:
        super().__init__(classes="knob-row", id=f"knob-{index}")
        self.knob = knob
        self.index = index

    def compose(self) -> ComposeResult:
        yield Label(escape(self.knob.label), classes="knob-label")
        yield Input(
            placeholder=self.knob.help,
            id=f"knob-input-{self.index}",
            classes="knob-input",
            select_on_focus=True,
            compact=True,
        )
        yield Static("", classes="knob-state")


class WhatIfForm(Vertical):
    """Knobs of the plan on screen; emits :class:`WhatIfForm.Apply`."""

    class Apply(Message):
        def __init__(self, knob: Knob, value: str) -> None:
            super().__init__()
            self.knob = knob
            self.value = value

    class Command(Message):
        """A button: "undo", "revert" or "save"."""

        def __init__(self, command: str) -> None:
            super().__init__()
            self.command = command

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.knobs: list[Knob] = []
        self._current: dict[str, str] = {}
        self._file: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(
            Content.from_markup(
                "[$text-muted]type a value and press enter: the plan is rebuilt and re-solved, warm-started. "
                "Nothing is written to the file until you save.[/]"
            ),
            id="whatif-help",
        )
        yield VerticalScroll(id="knobs")
        with Horizontal(id="whatif-buttons"):
            yield Button("Undo", id="whatif-undo", compact=True)
            yield Button("Revert to file", id="whatif-revert", compact=True)
            yield Button("Save to file", id="whatif-save", compact=True, variant="primary")
            yield Label("", id="whatif-changes")

    async def set_knobs(
        self, knobs: list[Knob], current: dict[str, str], file_values: dict[str, str]
    ) -> None:
        """Show these knobs with their values (rebuilding rows only when the set changed)."""
        container = self.query_one("#knobs", VerticalScroll)
        if [k.path for k in knobs] != [k.path for k in self.knobs]:
            self.knobs = list(knobs)
            await container.remove_children()
            await container.mount_all([KnobRow(i, k) for i, k in enumerate(knobs)])
        else:
            self.knobs = list(knobs)
        self._current = dict(current)
        self._file = dict(file_values)
        changed = 0
        for i, k in enumerate(self.knobs):
            row = container.query_one(f"#knob-{i}", KnobRow)
            value = current.get(k.path, k.default)
            file_value = file_values.get(k.path)
            inp = row.query_one(Input)
            if not inp.has_class("-rejected") and (not inp.has_focus or inp.value == ""):
                inp.value = value
            state = row.query_one(".knob-state", Static)
            if file_value is not None and file_value != value:
                changed += 1
                state.update(Content.from_markup("[$warning]was $v[/]", v=file_value))
                row.add_class("-changed")
            else:
                state.update("")
                row.remove_class("-changed")
        self.query_one("#whatif-changes", Label).update(f"{changed} changed" if changed else "")

    def mark_invalid(self, knob: Knob) -> None:
        for i, k in enumerate(self.knobs):
            if k.path == knob.path:
                self.query_one(f"#knob-input-{i}", Input).add_class("-rejected")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.has_class("-rejected") and event.input.has_focus:
            event.input.remove_class("-rejected")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        row = next((a for a in event.input.ancestors if isinstance(a, KnobRow)), None)
        if row is None:
            return
        event.stop()
        self.post_message(self.Apply(row.knob, event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("whatif-"):
            event.stop()
            self.post_message(self.Command(event.button.id.removeprefix("whatif-")))
