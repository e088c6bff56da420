"""Helpers shared by the TUI tests."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.pilot import Pilot

from capdsl.tui.app import CapApp


async def settle(pilot: Pilot[Any], app: CapApp, rounds: int = 4) -> None:
    """Wait until workers are done and their messages handled."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause(0.05)


def of_type(seen: list[Message], kind: type[Message]) -> list[Any]:
    return [m for m in seen if isinstance(m, kind)]
