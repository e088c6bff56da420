"""Fixtures for the TUI tests: a plan file in a temp dir, an app on the fake pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_fakes import FakeBackend, write_plan
from tui_helpers import until_started

from capdsl.tui.app import CapApp
from capdsl.tui.settings import TuiSettings


@pytest.fixture(autouse=True)
def _no_user_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's own tui.toml."""
    monkeypatch.setenv("CAPDSL_TUI_CONFIG", str(tmp_path_factory.mktemp("cfg") / "tui.toml"))


@pytest.fixture(autouse=True)
def _run_test_waits_for_the_first_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """``App.run_test`` hands over the pilot once the app is mounted, before its first frame;
    the app mounts its hidden tabs' views and starts the open job only then (``on_ready``).
    Tests drive it as a user would, after the first frame: wait for ``started``."""
    original = CapApp.run_test

    @contextlib.asynccontextmanager
    async def run_test(self: CapApp, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot[Any]]:
        async with original(self, *args, **kwargs) as pilot:
            await until_started(pilot, self)
            yield pilot

    monkeypatch.setattr(CapApp, "run_test", run_test)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, Textual's loop."""
    return "asyncio"


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    return write_plan(tmp_path)


@pytest.fixture
def make_app(plan_file: Path) -> Callable[..., CapApp]:
    def make(
        path: Path | None = None,
        *,
        backend: Any = None,
        scenario: str | None = None,
        **settings: Any,
    ) -> CapApp:
        settings.setdefault("watch_interval", 0)
        settings.setdefault("time_limit", 5)
        return CapApp(
            path or plan_file,
            scenario=scenario,
            backend=backend or FakeBackend(),
            settings=TuiSettings(**settings),
        )

    return make
