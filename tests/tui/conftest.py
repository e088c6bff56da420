"""Fixtures for the TUI tests: a plan file in a temp dir, an app on the fake pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_fakes import FakeBackend, write_plan

from capdsl.tui.app import CapApp
from capdsl.tui.settings import TuiSettings


@pytest.fixture(autouse=True)
def _no_user_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's own tui.toml."""
    monkeypatch.setenv("CAPDSL_TUI_CONFIG", str(tmp_path_factory.mktemp("cfg") / "tui.toml"))


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
