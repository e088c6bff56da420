"""Helpers shared by the TUI tests."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.worker import WorkerState

from capdsl.tui.app import CapApp


async def until_started(pilot: Pilot[Any], app: CapApp, timeout: float = 30.0) -> None:
    """Wait until the app has started: its first frame painted, its views mounted, its open
    job begun (``CapApp.started``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not app.started:
        if loop.time() > deadline:
            raise TimeoutError("the app never started")
        await pilot.pause(0.01)


async def settle(pilot: Pilot[Any], app: CapApp, rounds: int = 3, timeout: float = 20.0) -> None:
    """Wait until the app has started (``until_started``), no worker runs (failed and
    cancelled ones included) and the messages they posted are handled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    await until_started(pilot, app, timeout)
    quiet = 0
    while quiet < rounds:
        running = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        if running:
            quiet = 0
            if loop.time() > deadline:
                raise TimeoutError("workers still running")
            await pilot.pause(0.02)
        else:
            quiet += 1
            await pilot.pause()
    await pilot.pause(0.02)


def of_type(seen: list[Message], kind: type[Message]) -> list[Any]:
    return [m for m in seen if isinstance(m, kind)]
