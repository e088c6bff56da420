"""The TUI against the real pipeline (``capdsl.api``) and the real example plans.

What-if edits go through the real parser, model builder and formatter: every knob of
every example (base and each scenario) is written into the text, rebuilt, and must read
back as the new value, with the file's comments intact. The app tests open real plans;
those that solve are skipped until the optimiser (solve + verify + explain) is in place.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from capdsl.api import build_file, build_text
from capdsl.tui.whatif import apply_whatif, current_value, knobs_for, normalise

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLANS = sorted(EXAMPLES.glob("*.cap"))
NEW_VALUE = {
    "growth": "7",
    "headroom": "45",
    "spot_max": "20",
    "event_scale": "5",
    "budget_monthly": "987k",
    "budget_total": "9.9M",
    "terms": "1y",
}

needs_examples = pytest.mark.skipif(not PLANS, reason="no example plans yet")
has_solver = all(
    importlib.util.find_spec(m) is not None
    for m in ("capdsl.solve.solver", "capdsl.solve.verify", "capdsl.solve.explain")
)


def _cases() -> list[tuple[Path, str | None]]:
    out: list[tuple[Path, str | None]] = []
    for path in PLANS:
        built = build_file(path)
        if built.plan is None:
            continue
        out += [(path, None), *((path, s) for s in built.plan.scenarios)]
    return out


@needs_examples
@pytest.mark.parametrize(
    ("path", "scenario"), _cases(), ids=lambda v: getattr(v, "stem", v) or "base"
)
def test_every_knob_of_every_example_round_trips_through_the_real_builder(
    path: Path, scenario: str | None
) -> None:
    text = path.read_text(encoding="utf-8")
    built = build_text(text, str(path), scenario=scenario)
    assert built.plan is not None, [d.message for d in built.diagnostics]
    plan = built.plan
    knobs = knobs_for(plan)
    assert {k.kind for k in knobs} >= {"growth", "spot_max", "budget_monthly", "terms"}
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    base_before = build_text(text, str(path)).plan if scenario is not None else None
    for knob in knobs:
        value = normalise(knob, NEW_VALUE[knob.kind])
        edited = apply_whatif(text, plan, knob, value, path=str(path), scenario=scenario)
        again = build_text(edited, str(path), scenario=scenario)
        errors = [f"{d.code} {d.message}" for d in again.diagnostics if d.is_error]
        assert again.plan is not None, (knob.path, value, errors)
        assert current_value(again.plan, knob) == value, knob.path
        # nothing else changed: every other knob reads as before
        for other in knobs:
            if other.path != knob.path:
                assert current_value(again.plan, other) == current_value(plan, other), (
                    knob.path,
                    other.path,
                )
        # comments are kept
        assert [line for line in edited.splitlines() if line.lstrip().startswith("#")] == comments
        if scenario is not None:
            # the base plan does not see a scenario's what-if
            base_after = build_text(edited, str(path)).plan
            assert base_before is not None and base_after is not None
            assert current_value(base_after, knob) == current_value(base_before, knob)


@needs_examples
def test_saving_a_whatif_through_the_real_formatter_keeps_comments() -> None:
    from capdsl.lang.format import format_text

    path = EXAMPLES / "retail-sale.cap"
    text = path.read_text(encoding="utf-8")
    plan = build_text(text, str(path)).plan
    assert plan is not None
    knob = next(k for k in knobs_for(plan) if k.kind == "growth")
    edited = apply_whatif(text, plan, knob, "6% per month", path=str(path), scenario=None)
    formatted = format_text(edited, str(path))
    assert "6% per month" in formatted
    assert [ln.strip() for ln in formatted.splitlines() if ln.strip().startswith("#")] == [
        ln.strip() for ln in text.splitlines() if ln.strip().startswith("#")
    ]
    rebuilt = build_text(formatted, str(path)).plan
    assert rebuilt is not None and current_value(rebuilt, knob) == "6% per month"


# --------------------------------------------------------------------------- the app on real plans


@needs_examples
@pytest.mark.anyio
async def test_open_a_real_plan_without_solving(tmp_path: Path) -> None:
    from tui_helpers import settle

    from capdsl.tui.app import CapApp
    from capdsl.tui.settings import TuiSettings
    from capdsl.tui.widgets.diagnostics import DiagnosticsList
    from capdsl.tui.widgets.source import SourceView

    plan_path = tmp_path / "retail-sale.cap"
    shutil.copy(EXAMPLES / "retail-sale.cap", plan_path)
    app = CapApp(plan_path, settings=TuiSettings(watch_interval=0, solve_on_open=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert app.session.plan is not None and app.session.plan.name == "shop-recs"
        source = app.query_one(SourceView)
        assert source.lexer is not None  # the real CapLexer
        assert any(name == "comment" for line in source._highlights.values() for *_, name in line)
        assert any(name == "keyword" for line in source._highlights.values() for *_, name in line)
        codes = [d.code for d in app.query_one(DiagnosticsList).diagnostics]
        assert all(not c.startswith("E") for c in codes)
        assert {k.path for k in app.knobs} >= {
            "recs.growth",
            "recs.headroom",
            "recs.spot.max",
            "recs.event.annual sale.scale",
            "budget.monthly",
        }
        assert app.sub_title == "shop-recs (retail-sale.cap) · base"


@needs_examples
@pytest.mark.anyio
async def test_a_broken_real_plan_lists_real_diagnostics(tmp_path: Path) -> None:
    from tui_helpers import settle

    from capdsl.tui.app import CapApp
    from capdsl.tui.settings import TuiSettings
    from capdsl.tui.widgets.diagnostics import DiagnosticsList
    from capdsl.tui.widgets.source import SourceView

    plan_path = tmp_path / "broken.cap"
    text = (EXAMPLES / "retail-sale.cap").read_text(encoding="utf-8")
    plan_path.write_text(
        text.replace("headroom     = 30%", "headroom     = 30 reqs"), encoding="utf-8"
    )
    app = CapApp(plan_path, settings=TuiSettings(watch_interval=0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        diags = app.query_one(DiagnosticsList)
        errors = [d for d in diags.diagnostics if d.is_error]
        assert errors and errors[0].span is not None
        line = errors[0].span.line
        assert "reqs" in text.splitlines()[line - 1].replace("30%", "30 reqs")
        diags.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert (
            app.query_one(SourceView).cursor_location[0] == line - 1
            or app.query_one(SourceView).selection
        )
        assert app.session.shown is None and app.session.build_failed


# --------------------------------------------------------------------------- solving real plans

TINY = Path(__file__).parent / "plans" / "tiny.cap"
needs_solver = pytest.mark.skipif(
    not has_solver, reason="the optimiser (solve, verify, explain) is not in place yet"
)


def _real_app(tmp_path: Path, source: Path = TINY, **settings: object):  # type: ignore[no-untyped-def]
    from capdsl.tui.app import CapApp
    from capdsl.tui.settings import TuiSettings

    plan_path = tmp_path / source.name
    shutil.copy(source, plan_path)
    settings.setdefault("watch_interval", 0)
    settings.setdefault("time_limit", 10)
    return CapApp(plan_path, settings=TuiSettings(**settings))  # type: ignore[arg-type]


@needs_solver
@pytest.mark.anyio
async def test_real_open_solve_scenario_whatif_undo(tmp_path: Path) -> None:
    from textual.widgets import DataTable
    from tui_helpers import settle

    app = _real_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, timeout=60)
        shown = app.session.shown
        assert shown is not None, [n.message for n in app._notifications]
        assert shown.solution.status in ("optimal", "feasible") and shown.solution.verified
        base = shown.solution.totals.cost  # type: ignore[union-attr]
        # the plan `capdsl solve` prints for the same file, time limit and seed
        from capdsl.api import build_file, solve_plan

        built = build_file(app.plan_path)
        assert built.plan is not None
        cli = solve_plan(built.plan, time_limit=app.settings.time_limit, seed=app.settings.seed)
        assert cli.totals is not None and cli.totals.cost == base
        assert cli.purchases == shown.solution.purchases
        assert app.query_one("#mix-table", DataTable).row_count > 0
        assert app.query_one("#cost-table", DataTable).row_count == 3
        # export the report (the real HTML renderer)
        await pilot.press("f9")
        await settle(pilot, app, timeout=60)
        report = tmp_path / "tiny.report.html"
        assert report.exists() and "<html" in report.read_text(encoding="utf-8").lower()
        # another scenario: more growth costs more
        app.switch_scenario("busy")
        await settle(pilot, app, timeout=60)
        busy = app.session.shown
        assert busy is not None and busy.solution.scenario == "busy"
        assert busy.solution.totals.cost > base  # type: ignore[union-attr]
        app.switch_scenario(None)
        await settle(pilot, app, timeout=60)
        # a what-if: growth 30% a month, re-solved warm
        knob = next(k for k in app.knobs if k.path == "api.growth")
        app.apply_whatif(knob, "30")
        await settle(pilot, app, timeout=60)
        after = app.session.shown
        assert after is not None and "growth   = 30% per month   # organic" in app.session.text
        assert after.solution.totals.cost > base  # type: ignore[union-attr]
        assert after.solution.stats.warm_start
        # undo: back to the file's value and its solution
        app.action_undo()
        await settle(pilot, app, timeout=60)
        assert app.session.shown is not None and app.session.shown.solution.totals.cost == base  # type: ignore[union-attr]
        assert not app.session.dirty


@needs_solver
@pytest.mark.anyio
async def test_real_infeasible_budget_whatif(tmp_path: Path) -> None:
    from tui_helpers import settle

    from capdsl.tui.screens.problem import ProblemScreen

    app = _real_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, timeout=60)
        good = app.session.shown
        assert good is not None
        app.apply_whatif(next(k for k in app.knobs if k.path == "budget.monthly"), "100")
        await settle(pilot, app, timeout=60)
        assert isinstance(app.screen, ProblemScreen)
        assert app.screen.title_text == "Infeasible plan", (app.screen.summary, app.screen.details)
        await pilot.press("escape")
        assert app.session.shown is good and app.session.stale


@needs_solver
@pytest.mark.anyio
async def test_real_cancel_a_long_solve(tmp_path: Path) -> None:
    import time

    from tui_helpers import settle

    app = _real_app(tmp_path, EXAMPLES / "saas-growth.cap", time_limit=120)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(2.0)
        assert app.busy, "the solve is still running"
        t0 = time.monotonic()
        await pilot.press("escape")
        await settle(pilot, app, timeout=30)
        assert not app.busy
        assert time.monotonic() - t0 < 15, "the solver stopped soon after the cancel key"
        assert app.is_running


@needs_solver
@needs_examples
@pytest.mark.anyio
async def test_real_example_whatif_changes_the_cost(tmp_path: Path) -> None:
    """examples/data-pipelines.cap: solve, raise the stream's growth, the cost goes up."""
    from tui_helpers import settle

    app = _real_app(tmp_path, EXAMPLES / "data-pipelines.cap", time_limit=4)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, timeout=60)
        shown = app.session.shown
        assert shown is not None and shown.solution.verified, [
            n.message for n in app._notifications
        ]
        before = shown.solution.totals.cost  # type: ignore[union-attr]
        app.apply_whatif(next(k for k in app.knobs if k.path == "ingest.growth"), "12")
        await settle(pilot, app, timeout=60)
        after = app.session.shown
        assert after is not None and after is not shown and after.solution.verified
        assert after.solution.totals.cost > before  # type: ignore[union-attr]
        assert (
            "growth   = 12% per month" in app.session.text
            or "growth = 12% per month" in app.session.text
        )


@needs_solver
@needs_examples
@pytest.mark.anyio
async def test_real_example_switch_scenario(tmp_path: Path) -> None:
    """examples/saas-growth.cap: the aggressive scenario (faster growth) costs more."""
    from tui_helpers import settle

    app = _real_app(tmp_path, EXAMPLES / "saas-growth.cap", time_limit=8)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, timeout=90)
        base = app.session.shown
        assert base is not None and base.solution.verified, [n.message for n in app._notifications]
        app.switch_scenario("aggressive")
        await settle(pilot, app, timeout=90)
        aggressive = app.session.shown
        assert aggressive is not None and aggressive.solution.scenario == "aggressive"
        assert aggressive.solution.verified
        assert aggressive.solution.totals.cost > base.solution.totals.cost  # type: ignore[union-attr]
        assert app.sub_title.endswith("· aggressive")


@needs_solver
@pytest.mark.anyio
async def test_real_infeasible_plan_on_open(tmp_path: Path) -> None:
    """A budget below the cheapest plan: the solver's explanation, at the budget's line."""
    from tui_helpers import settle

    from capdsl.tui.screens.problem import ProblemScreen
    from capdsl.tui.widgets.diagnostics import DiagnosticsList

    source = tmp_path / "src" / "tiny.cap"
    source.parent.mkdir()
    source.write_text(
        TINY.read_text(encoding="utf-8").replace("monthly <= $20k", "monthly <= $100"),
        encoding="utf-8",
    )
    app = _real_app(tmp_path, source)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, timeout=60)
        assert isinstance(app.screen, ProblemScreen), [n.message for n in app._notifications]
        assert app.screen.title_text == "Infeasible plan"
        assert "budget" in app.screen.summary
        await pilot.press("escape")
        errors = [
            d
            for d in app.query_one(DiagnosticsList).diagnostics
            if d.is_error and d.span is not None
        ]
        assert errors, "the conflict is listed"
        budget_line = next(
            i for i, line in enumerate(app.session.text.splitlines(), 1) if "monthly <=" in line
        )
        assert any(d.span.line == budget_line for d in errors if d.span is not None)
        assert app.session.shown is None
