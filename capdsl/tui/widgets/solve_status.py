"""Live progress of a running solve: elapsed, best objective, bound, gap; cancel hint."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.markup import escape
from textual.widgets import ProgressBar, Static

from capdsl.tui.display import gap_text, money

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class SolveStatus(Horizontal):
    """Hidden unless a build or solve runs (class ``-running``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._started = 0.0
        self._what = ""
        self._objective: float | None = None
        self._bound: float | None = None
        self._gap: float | None = None
        self._time_limit = 0.0
        self._frame = 0
        self._currency = "USD"
        self._cancel_key = "esc"

    def compose(self) -> ComposeResult:
        yield Static("", id="solve-text")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="solve-bar")

    def on_mount(self) -> None:
        # five frames a second: the spinner stays alive, and redrawing the line (with the
        # widgets it overlaps) costs the solver beside it little
        self._timer = self.set_interval(0.2, self._tick, pause=True)

    def start(
        self, what: str, *, time_limit: float, currency: str = "USD", cancel_key: str = "esc"
    ) -> None:
        self._started = time.monotonic()
        self._what = what
        self._objective = self._bound = self._gap = None
        self._time_limit = time_limit
        self._currency = currency
        self._cancel_key = cancel_key
        self.query_one(ProgressBar).update(total=max(time_limit, 0.1), progress=0)
        self.add_class("-running")
        self._timer.resume()
        self._tick()

    def progress(self, objective: float | None, bound: float | None, gap: float | None) -> None:
        self._objective, self._bound, self._gap = objective, bound, gap
        self._tick()

    def stage(self, what: str) -> None:
        self._what = what
        self._tick()

    def stop(self) -> None:
        self.remove_class("-running")
        self._timer.pause()

    @property
    def running(self) -> bool:
        return self.has_class("-running")

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        self._frame = (self._frame + 1) % len(_SPINNER)
        parts = [
            f"[b $accent]{_SPINNER[self._frame]}[/] {escape(self._what)} [$text-muted]{elapsed:4.1f} s[/]"
        ]
        if self._objective is not None:
            parts.append(f"best [b]{money(self._objective, self._currency)}[/]")
        if self._bound is not None:
            parts.append(f"bound {money(self._bound, self._currency)}")
        if self._gap is not None:
            parts.append(f"gap [b]{gap_text(self._gap)}[/]")
        parts.append(f"[$text-muted]{escape(self._cancel_key)} cancels[/]")
        # one fixed line (CSS: 1fr x 1): no layout, which, ten times a second, re-arranged
        # the whole screen and took a third of a core from the solver beside it
        self.query_one("#solve-text", Static).update(
            Content.from_markup("  ·  ".join(parts)), layout=False
        )
        self.query_one(ProgressBar).update(progress=min(elapsed, self._time_limit))
