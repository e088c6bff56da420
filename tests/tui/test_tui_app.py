"""The app, driven with Pilot on the fake pipeline: every flow of issue 7.

The fake pipeline (``tui_fakes``) builds real ``Plan`` objects from the text and prices a
closed-form sizing, so a what-if really changes the cost, a low budget really makes the
plan infeasible and ``# fake: slow`` makes a solve only a stop can end.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.widgets import DataTable, Input, Select, TabbedContent
from tui_fakes import FakeBackend, shop_text, write_plan
from tui_helpers import of_type, settle

from capdsl.tui.app import CapApp
from capdsl.tui.messages import BuildFinished, SolveFinished, SolveProgress
from capdsl.tui.screens.explain_code import ExplainCodeScreen
from capdsl.tui.screens.help import HelpScreen
from capdsl.tui.screens.problem import ProblemScreen
from capdsl.tui.widgets.compare import CompareView
from capdsl.tui.widgets.diagnostics import DiagnosticsList
from capdsl.tui.widgets.mix import MixView
from capdsl.tui.widgets.solve_status import SolveStatus
from capdsl.tui.widgets.source import SourceView
from capdsl.tui.widgets.summary import SolutionSummary
from capdsl.tui.widgets.whatif_form import WhatIfForm

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
MakeApp = Callable[..., CapApp]


def total(app: CapApp) -> Decimal:
    shown = app.session.shown
    assert shown is not None and shown.solution.totals is not None
    return shown.solution.totals.cost


def summary_text(app: CapApp) -> str:
    return str(app.query_one(SolutionSummary).render())


async def test_open_builds_and_solves_then_shows_everything(make_app: MakeApp) -> None:
    seen: list[Message] = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot, app)
        builds, solves = of_type(seen, BuildFinished), of_type(seen, SolveFinished)
        assert [(b.purpose, b.scenario) for b in builds] == [("open", None)]
        assert [s.solution.status for s in solves] == ["optimal"]
        assert of_type(seen, SolveProgress), "progress reached the UI"
        assert not app.busy and not app.query_one(SolveStatus).running
        # the solution headline
        text = summary_text(app)
        assert (
            "$28,867" in text and "saves 29.3%" in text and "OPTIMAL" in text and "VERIFIED" in text
        )
        assert "STALE" not in text
        # every tab got its data
        mix = app.query_one("#mix-table", DataTable)
        assert mix.row_count == len(app.query_one(MixView).rows) == 48
        assert app.query_one("#schedule", DataTable).row_count == 2
        assert app.query_one("#cost-table", DataTable).row_count == 12
        assert app.query_one("#capacity-workload", Select).value == "recs"
        # the source pane shows the file; no diagnostics
        assert app.query_one(SourceView).text == shop_text()
        assert app.query_one(DiagnosticsList).diagnostics == []
        assert app.sub_title == "shop-recs (shop.cap) · base"
        # the first solve is a cold start; scenario select lists the file's scenarios
        options = [v for _, v in app.query_one("#scenario", Select)._options]
        assert options == ["", "conservative", "aggressive"]
        assert app.backend.solves[0]["hint"] is None  # type: ignore[attr-defined]
    assert app.backend.closed  # type: ignore[attr-defined]  # the solver process is stopped on exit


async def test_the_why_panel_follows_the_highlighted_row(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = app.query_one("#mix-table", DataTable)
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        panel = app.query_one("#explain")
        assert panel.border_title == "Why · recs · 2027-01"
        body = str(app.query_one("#explain-body").render())
        assert "spot share of recs at its 40% cap" in body
        assert "aws.m7g.2xlarge@us-east-1 instead of aws.c7g.2xlarge@us-east-1" in body
        # the month filter narrows the table
        app.query_one(MixView).set_month(10)
        await pilot.pause()
        assert {r.month for r in app.query_one(MixView).rows} == {10}
        assert table.row_count == 4


async def test_clicking_a_setting_link_jumps_to_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.action_jump_setting("recs.spot.max")
        await pilot.pause()
        source = app.query_one(SourceView)
        assert source.has_focus
        assert source.selected_text == "max = 40%"
        app.action_jump_setting("recs.nothing")
        await pilot.pause()
        assert any("not written" in n.message for n in app._notifications)


async def test_whatif_from_the_form_changes_the_cost_and_undo_restores_it(
    make_app: MakeApp,
) -> None:
    seen: list[Message] = []
    backend = FakeBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot, app)
        before = total(app)
        await pilot.press("6")  # the What-if tab
        assert app.query_one(TabbedContent).active == "tab-whatif"
        form = app.query_one(WhatIfForm)
        index = next(i for i, k in enumerate(form.knobs) if k.path == "recs.growth")
        inp = app.query_one(f"#knob-input-{index}", Input)
        inp.focus()
        inp.value = "6"
        await pilot.press("enter")
        await settle(pilot, app)
        after = total(app)
        assert after > before
        # the what-if is in the source pane, not in the file
        source = app.query_one(SourceView).text
        assert "growth   = 6% per month   # from last year's trend" in source
        assert app.plan_path and Path(app.plan_path).read_text(encoding="utf-8") == shop_text()
        assert app.session.dirty and "unsaved what-ifs" in app.sub_title
        assert "1 unsaved what-if" in summary_text(app)
        # warm start: the re-solve got the previous solution as its hint
        assert backend.solves[-1]["hint"] is not None
        assert backend.solves[-1]["hint"].totals.cost == before
        # undo shows the file's values and their cached solution at once (no new solve)
        n_solves = len(backend.solves)
        await pilot.press("ctrl+z")
        await settle(pilot, app)
        assert total(app) == before
        assert len(backend.solves) == n_solves
        assert not app.session.dirty and app.query_one(SourceView).text == shop_text()
        await pilot.press("ctrl+y")
        await settle(pilot, app)
        assert total(app) == after


async def test_whatif_from_the_palette_query(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        before = total(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "set recs.headroom = 60":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert total(app) > before
        assert "headroom   = 60%" in app.session.text


async def test_an_invalid_whatif_is_rejected_and_nothing_changes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text, before = app.session.text, total(app)
        knob = next(k for k in app.knobs if k.path == "recs.headroom")
        app.apply_whatif(knob, "lots")  # the build rejects it ("bad value")
        await settle(pilot, app)
        assert app.session.text == text and total(app) == before
        assert any(n.title == "what-if rejected" for n in app._notifications)
        inp = app.query_one(f"#knob-input-{app.knobs.index(knob)}", Input)
        assert inp.has_class("-rejected")
        app.apply_whatif(
            next(k for k in app.knobs if k.kind == "terms"), "2 weeks"
        )  # refused before building
        await pilot.pause()
        assert any("not a reserved term" in n.message for n in app._notifications)


async def test_an_infeasible_whatif_shows_a_modal_and_keeps_the_last_good_plan(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        before = total(app)
        budget = next(k for k in app.knobs if k.path == "budget.monthly")
        app.apply_whatif(budget, "2k")
        await settle(pilot, app)
        assert isinstance(app.screen, ProblemScreen)
        assert app.screen.title_text == "Infeasible plan"
        assert "E0401" in app.screen.details and "budget" in app.screen.details
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProblemScreen)
        # the solver's conflict is listed with the plan's diagnostics, at the budget line
        diags = app.query_one(DiagnosticsList).diagnostics
        assert [d.code for d in diags] == ["E0401"]
        assert diags[0].span is not None and diags[0].span.line == 40
        # the last good solution stays, marked stale
        assert total(app) == before
        assert "STALE" in summary_text(app) and "infeasible" in summary_text(app)


async def test_switch_scenario_with_the_select_and_back_from_the_cache(make_app: MakeApp) -> None:
    seen: list[Message] = []
    backend = FakeBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot, app)
        base = total(app)
        await pilot.click("#scenario")  # open the drop-down, pick the third entry
        await pilot.press("down", "down", "enter")
        await settle(pilot, app)
        assert app.session.scenario == "aggressive"
        assert total(app) > base
        assert app.sub_title == "shop-recs (shop.cap) · aggressive"
        assert backend.builds[-1][0] == "aggressive"
        # the what-if knobs show the scenario's values
        growth = next(i for i, k in enumerate(app.knobs) if k.path == "recs.growth")
        assert app.query_one(f"#knob-input-{growth}", Input).value == "6% per month"
        n_solves = len(backend.solves)
        app.switch_scenario(None)
        await settle(pilot, app)
        assert total(app) == base and len(backend.solves) == n_solves  # cached
        assert app.query_one("#scenario", Select).value == ""


async def test_scenario_picker_key_opens_a_palette_of_scenarios(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")
        await pilot.pause(0.3)
        for ch in "conserv":
            await pilot.press(ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.session.scenario == "conservative"
        assert (
            app.session.shown is not None and app.session.shown.solution.scenario == "conservative"
        )


async def test_whatif_in_a_scenario_writes_an_override(make_app: MakeApp) -> None:
    app = make_app(scenario="conservative")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.session.shown is not None and app.session.shown.plan.scenario == "conservative"
        app.apply_whatif(next(k for k in app.knobs if k.path == "recs.headroom"), "50")
        await settle(pilot, app)
        assert (
            "scenario conservative { recs.growth = 1% per month, recs.headroom = 50% }"
            in app.session.text
        )
        assert "headroom   = 30%" in app.session.text  # the base is untouched


async def test_compare_two_scenarios_side_by_side(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.compare(None, "aggressive")
        await settle(pilot, app)
        assert app.query_one(TabbedContent).active == "tab-compare"
        table = app.query_one("#compare-table", DataTable)
        assert table.row_count == 12
        assert [c.label.plain for c in table.columns.values()][:5] == [
            "Month",
            "(base)",
            "aggressive",
            "Δ",
            "Δ%",
        ]
        summary = str(app.query_one("#compare-summary").render())
        base = app.session.solved_for(app.session.text, None)
        aggr = app.session.solved_for(app.session.text, "aggressive")
        assert base is not None and aggr is not None
        delta = aggr.solution.totals.cost - base.solution.totals.cost  # type: ignore[union-attr]
        from capdsl.tui.display import money

        assert f"aggressive costs {money(delta)} more than (base)" in summary
        # comparing does not change the scenario on screen, nor its plan and knobs
        assert app.session.scenario is None and app.session.shown.solution.scenario is None  # type: ignore[union-attr]
        assert app.session.plan is not None and app.session.plan.scenario is None
        growth = next(i for i, k in enumerate(app.knobs) if k.path == "recs.growth")
        assert app.query_one(f"#knob-input-{growth}", Input).value == "3% per month"


async def test_compare_the_whatifs_with_the_file_month_by_month(make_app: MakeApp) -> None:
    backend = FakeBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        before = total(app)
        app.apply_whatif(next(k for k in app.knobs if k.path == "recs.growth"), "6")
        await settle(pilot, app)
        after = total(app)
        n_solves = len(backend.solves)
        app.action_show_tab("compare")
        await pilot.pause()
        view = app.query_one(CompareView)
        assert view.selection() == (
            (None, True),
            (None, False),
        )  # offered by default after a what-if
        await pilot.click("#compare-run")
        await settle(pilot, app)
        assert len(backend.solves) == n_solves  # both sides were solved already
        table = app.query_one("#compare-table", DataTable)
        assert [c.label.plain for c in table.columns.values()][1:3] == [
            "(base) in the file",
            "(base)",
        ]
        summary = str(app.query_one("#compare-summary").render())
        from capdsl.tui.display import money

        assert f"(base) costs {money(after - before)} more than (base) in the file" in summary


async def test_compare_button(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.action_show_tab("compare")
        await pilot.pause()
        view = app.query_one(CompareView)
        assert view.selection() == ((None, False), ("conservative", False))
        await pilot.click("#compare-run")
        await settle(pilot, app)
        assert app.query_one("#compare-table", DataTable).row_count == 12


async def test_cancel_a_long_solve_keeps_the_app_alive(make_app: MakeApp, plan_file: Path) -> None:
    seen: list[Message] = []
    plan_file.write_text(shop_text() + "# fake: slow\n", encoding="utf-8")
    app = make_app(plan_file)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if of_type(seen, SolveProgress):
                break
        assert app.busy and app.query_one(SolveStatus).running
        assert "best $" in str(app.query_one("#solve-text").render())
        assert app.check_action("cancel", ()) is True
        await pilot.press("escape")
        await settle(pilot, app)
        assert not app.busy
        finished = of_type(seen, SolveFinished)
        assert len(finished) == 1 and finished[0].cancelled
        # the best plan so far is shown, flagged
        assert app.session.shown is not None and app.session.shown.solution.status == "feasible"
        assert "stopped early" in summary_text(app)
        assert any(n.title == "solve stopped" for n in app._notifications)
        # escape does nothing when nothing runs
        assert app.check_action("cancel", ()) is False


async def test_a_new_solve_supersedes_a_running_one(make_app: MakeApp, plan_file: Path) -> None:
    seen: list[Message] = []
    plan_file.write_text(shop_text() + "# fake: slow\n", encoding="utf-8")
    app = make_app(plan_file)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if of_type(seen, SolveProgress):
                break
        first_job = app._job
        app.switch_scenario("aggressive")  # stops the slow solve, starts another (also slow)
        await pilot.pause(0.2)
        assert app._job > first_job and app.busy
        await pilot.press("escape")
        await settle(pilot, app)
        shown = app.session.shown
        assert shown is not None and shown.solution.scenario == "aggressive"


async def test_solver_crash_is_a_modal_not_a_crash(make_app: MakeApp, plan_file: Path) -> None:
    plan_file.write_text(shop_text() + "# fake: crash\n", encoding="utf-8")
    app = make_app(plan_file)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, ProblemScreen)
        assert "RuntimeError: the solver crashed (fake)" in app.screen.summary
        assert not app.busy
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running


async def test_a_broken_plan_shows_diagnostics_and_jumps_to_them(
    make_app: MakeApp, tmp_path: Path
) -> None:
    broken = write_plan(
        tmp_path, shop_text().replace("headroom   = 30%", "headroom   = !!30%"), "broken.cap"
    )
    app = make_app(broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        diags = app.query_one(DiagnosticsList)
        assert [d.code for d in diags.diagnostics] == ["E0101"]
        assert "1 error" in str(diags.border_title)
        assert app.session.shown is None
        assert "errors" in summary_text(app)
        diags.focus()
        await pilot.press("enter")
        await pilot.pause()
        source = app.query_one(SourceView)
        assert source.has_focus and source.selected_text == "!!"
        assert source.cursor_location[0] == 29  # line 30, 0-based
        await pilot.press("f1")  # help works on a broken plan too
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_reload_on_disk_change_with_errors_keeps_the_last_good_solution_stale(
    make_app: MakeApp, plan_file: Path
) -> None:
    app = make_app(watch_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        good = total(app)
        plan_file.write_text(
            shop_text().replace("growth   = 3%", "growth   = !!3%"), encoding="utf-8"
        )
        for _ in range(40):
            await pilot.pause(0.05)
            if app.session.build_failed:
                break
        await settle(pilot, app)
        assert app.session.build_failed
        assert [d.code for d in app.query_one(DiagnosticsList).diagnostics] == ["E0101"]
        assert "!!3%" in app.query_one(SourceView).text
        assert total(app) == good
        assert "STALE" in summary_text(app) and "plan has errors" in summary_text(app)
        # fixed on disk: reloads, re-solves, no longer stale
        plan_file.write_text(
            shop_text().replace("growth   = 3%", "growth   = 4%"), encoding="utf-8"
        )
        for _ in range(40):
            await pilot.pause(0.05)
            if not app.session.build_failed and not app.busy and not app.session.stale:
                break
        await settle(pilot, app)
        assert not app.session.stale and total(app) > good
        assert "STALE" not in summary_text(app)


async def test_disk_change_with_unsaved_whatifs_warns_and_keeps_them(
    make_app: MakeApp, plan_file: Path
) -> None:
    app = make_app(watch_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.apply_whatif(next(k for k in app.knobs if k.path == "recs.growth"), "5")
        await settle(pilot, app)
        plan_file.write_text(shop_text() + "\n# edited elsewhere\n", encoding="utf-8")
        for _ in range(40):
            await pilot.pause(0.05)
            if any(n.title == "file changed" for n in app._notifications):
                break
        assert "5% per month" in app.session.text and "edited elsewhere" not in app.session.text
        await pilot.press("ctrl+r")  # reload drops the what-ifs
        await settle(pilot, app)
        assert "edited elsewhere" in app.session.text and not app.session.dirty


async def test_save_writes_the_whatif_through_the_formatter(
    make_app: MakeApp, plan_file: Path
) -> None:
    backend = FakeBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.check_action("save", ()) is None  # shown disabled: nothing to save
        app.action_save()
        await pilot.pause()
        assert any("nothing to save" in n.message for n in app._notifications)
        app.apply_whatif(next(k for k in app.knobs if k.path == "recs.growth"), "5")
        await settle(pilot, app)
        solved = total(app)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        written = plan_file.read_text(encoding="utf-8")
        assert "growth   = 5% per month   # from last year's trend" in written  # comment kept
        assert backend.formatted, "the text went through the formatter"
        assert not app.session.dirty and app.session.undo_stack == []
        assert total(app) == solved and not app.session.stale
        assert "unsaved" not in app.sub_title


async def test_save_refuses_to_clobber_a_file_changed_on_disk(
    make_app: MakeApp, plan_file: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.apply_whatif(next(k for k in app.knobs if k.path == "recs.growth"), "5")
        await settle(pilot, app)
        plan_file.write_text(shop_text() + "# theirs\n", encoding="utf-8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProblemScreen)
        await pilot.click("#problem-cancel")
        await pilot.pause()
        assert plan_file.read_text(encoding="utf-8").endswith("# theirs\n")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#problem-overwrite")
        await settle(pilot, app)
        assert "5% per month" in plan_file.read_text(encoding="utf-8")


async def test_export_report_writes_html_of_every_solved_scenario(
    make_app: MakeApp, plan_file: Path
) -> None:
    backend = FakeBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.compare(None, "aggressive")
        await settle(pilot, app)
        await pilot.press("f9")
        await settle(pilot, app)
        report = plan_file.parent / "shop.report.html"
        assert report.read_text(encoding="utf-8").count("<h1>") == 2
        results, fmt = backend.reports[-1]
        assert fmt == "html" and [s.scenario for _, s in results] == [None, "aggressive"]
        assert any(str(report) in n.message for n in app._notifications)


async def test_explain_a_diagnostic_code(make_app: MakeApp, tmp_path: Path) -> None:
    broken = write_plan(
        tmp_path, shop_text().replace("headroom   = 30%", "headroom   = !!30%"), "broken.cap"
    )
    app = make_app(broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one(DiagnosticsList).focus()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExplainCodeScreen) and app.screen.code == "E0101"
        await pilot.press("escape")
        await pilot.pause()
        app.show_code("E9999")
        await pilot.pause()
        assert any("no explanation" in n.message for n in app._notifications)


async def test_palette_lists_the_apps_commands(make_app: MakeApp) -> None:
    from capdsl.tui.commands import CapCommands

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        provider = CapCommands(app.screen)
        names = [c[0] for c in provider.commands()]
        for expected in (
            "Solve",
            "Cancel solve",
            "Export report (HTML)",
            "Scenario: aggressive",
            "Compare: base vs aggressive",
            "What-if: recs · growth (now 3% per month)",
            "Explain E0203",
        ):
            assert expected in names, expected
        hits = [h async for h in provider.search("set budget.monthly <= 90k")]
        assert hits[0].text == "What-if: budget.monthly <= 90k" and hits[0].score == 1.0


async def test_remapped_keys_from_the_settings(make_app: MakeApp) -> None:
    backend = FakeBackend()
    app = make_app(backend=backend, keymap={"solve": "ctrl+o", "help": "f12"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        n = len(backend.solves)
        await pilot.press("f5")  # no longer bound
        await settle(pilot, app)
        assert len(backend.solves) == n
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        assert len(backend.solves) == n + 1
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert (
            "`ctrl+o`" in app.keys_markdown().replace("^o", "ctrl+o")
            or "ctrl+o" in app.keys_markdown()
        )


async def test_unreadable_plan_file(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app(tmp_path / "missing.cap")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, ProblemScreen)
        assert "missing.cap" in app.screen.summary


async def test_goto_line_and_next_problem(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+g")
        await pilot.pause()
        for ch in "31":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        source = app.query_one(SourceView)
        assert source.has_focus and source.cursor_location == (30, 0)
        await pilot.press("f8")
        await pilot.pause()
        assert any(n.message == "no problems" for n in app._notifications)


async def test_mouse_click_on_a_chart_month_selects_it(make_app: MakeApp) -> None:
    from capdsl.tui.widgets.bar_chart import BarChart

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.action_show_tab("cost")
        await pilot.pause()
        chart = app.query_one("#cost-chart", BarChart)
        assert chart._geometry is not None
        x0, col_w, _ = chart._geometry
        await pilot.click(chart, offset=(x0 + 3 * col_w + 1, 5))
        await pilot.pause()
        assert chart.selected == 3
        assert app.query_one("#cost-table", DataTable).cursor_row == 3


def test_run_returns_the_exit_code(monkeypatch: pytest.MonkeyPatch, plan_file: Path) -> None:
    from capdsl.tui import app as app_module

    def fake_run(self: CapApp, *args: Any, **kwargs: Any) -> int:
        return 0

    monkeypatch.setattr(app_module.CapApp, "run", fake_run)
    assert app_module.run(str(plan_file)) == 0


async def test_a_crashed_solver_process_is_a_modal_and_the_next_solve_works(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A C++ abort in the solver's child process: the app shows it and carries on."""
    from capdsl.tui.solver_process import SolverCrashed

    backend = FakeBackend()
    real_solve = backend.solve
    crash = {"next": False}

    def solve(plan: Any, **kw: Any) -> Any:
        if crash["next"]:
            crash["next"] = False
            raise SolverCrashed(
                "the solver process was killed by SIGABRT:\nCheck failed: x != nullptr"
            )
        return real_solve(plan, **kw)

    monkeypatch.setattr(backend, "solve", solve)
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        good = total(app)
        crash["next"] = True
        await pilot.press("f5")
        await settle(pilot, app)
        assert isinstance(app.screen, ProblemScreen)
        assert app.screen.title_text == "The solver crashed"
        assert "SIGABRT" in app.screen.details and "last good one" in app.screen.summary
        await pilot.press("escape")
        await pilot.press("f5")
        await settle(pilot, app)
        assert total(app) == good and not app.busy


async def test_a_theme_change_restyles_the_source_highlighting(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        source = app.query_one(SourceView)
        before = source._theme.syntax_styles["keyword"]
        app.theme = "textual-light"
        await pilot.pause(0.2)
        after = source._theme.syntax_styles["keyword"]
        assert before != after
        # light theme: the keyword colour is readable on a light background (dark enough)
        assert after.color is not None and after.color.triplet is not None
        assert sum(after.color.triplet) / 3 < 200


async def test_a_stopped_solve_is_the_next_warm_start_but_not_the_cached_answer(
    make_app: MakeApp, plan_file: Path
) -> None:
    seen: list[Message] = []
    backend = FakeBackend()
    plan_file.write_text(shop_text() + "# fake: slow\n", encoding="utf-8")
    app = make_app(plan_file, backend=backend)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if of_type(seen, SolveProgress):
                break
        await pilot.press("escape")
        await settle(pilot, app)
        stopped = app.session.shown
        assert stopped is not None and stopped.solution.status == "feasible"
        assert app.session.solved_for(app.session.text, None) is None
        assert app.session.hint(None) is stopped.solution
        app.action_solve()
        await pilot.pause(0.2)
        assert backend.solves[-1]["hint"] is stopped.solution
        await pilot.press("escape")
        await settle(pilot, app)
