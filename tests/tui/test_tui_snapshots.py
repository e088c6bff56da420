"""Snapshots of the main screens at 120x40 (pytest-textual-snapshot), on the fake
pipeline so every number is deterministic. Update with ``--snapshot-update`` after
checking the SVGs in ``__snapshots__`` by eye."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_fakes import shop_text, write_plan
from tui_helpers import settle

from capdsl.tui.app import CapApp
from capdsl.tui.widgets.source import SourceView

SIZE = (120, 40)
MakeApp = Callable[..., CapApp]
Snap = Callable[..., bool]


def _quiet(app: CapApp) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, app)
        app.clear_notifications()
        app.query_one(SourceView).focus()
        await pilot.pause()

    return run_before


def _then(app: CapApp, step: Callable[[CapApp], Any]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, app)
        app.clear_notifications()
        await pilot.pause()
        result = step(app)
        if hasattr(result, "__await__"):
            await result
        await settle(pilot, app)
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_main_screen_mix_and_why(snap_compare: Snap, make_app: MakeApp) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_quiet(app))


@pytest.mark.parametrize("tab", ["schedule", "cost", "capacity"])
def test_solution_tabs(snap_compare: Snap, make_app: MakeApp, tab: str) -> None:
    app = make_app()
    assert snap_compare(
        app, terminal_size=SIZE, run_before=_then(app, lambda a: a.action_show_tab(tab))
    )


def test_whatif_applied_and_unsaved(snap_compare: Snap, make_app: MakeApp) -> None:
    app = make_app()

    def step(a: CapApp) -> None:
        a.action_show_tab("whatif")
        a.apply_whatif(next(k for k in a.knobs if k.path == "recs.growth"), "6")

    assert snap_compare(app, terminal_size=SIZE, run_before=_then(app, step))


def test_compare_scenarios(snap_compare: Snap, make_app: MakeApp) -> None:
    app = make_app()
    assert snap_compare(
        app, terminal_size=SIZE, run_before=_then(app, lambda a: a.compare(None, "aggressive"))
    )


def test_broken_plan(snap_compare: Snap, make_app: MakeApp, tmp_path: Path) -> None:
    path = write_plan(
        tmp_path, shop_text().replace("headroom   = 30%", "headroom   = !!30%"), "broken.cap"
    )
    app = make_app(path)

    def step(a: CapApp) -> None:
        a.query_one("#diagnostics").focus()

    assert snap_compare(app, terminal_size=SIZE, run_before=_then(app, step))


def test_stale_after_a_broken_reload(
    snap_compare: Snap, make_app: MakeApp, plan_file: Path
) -> None:
    app = make_app()

    def step(a: CapApp) -> None:
        plan_file.write_text(
            shop_text().replace("growth   = 3%", "growth   = !!3%"), encoding="utf-8"
        )
        a._disk_stamp = ()
        a.check_disk()

    assert snap_compare(app, terminal_size=SIZE, run_before=_then(app, step))


def test_infeasible_modal(snap_compare: Snap, make_app: MakeApp) -> None:
    app = make_app()
    step: Callable[[CapApp], Any] = lambda a: a.apply_whatif(  # noqa: E731
        next(k for k in a.knobs if k.path == "budget.monthly"), "2k"
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=_then(app, step))


def test_help_screen(snap_compare: Snap, make_app: MakeApp) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_then(app, lambda a: a.action_help()))
