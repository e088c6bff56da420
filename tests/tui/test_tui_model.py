"""The TUI's pure parts: session (undo/redo, caches, warm-start hint), derived rows and
series, display formatting, settings, the bar chart's drawing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from tui_fakes import C7G, M7G, built, shop_text, solve_plan

from capdsl.tui.derive import (
    binding_for,
    capacity_series,
    compare_rows,
    mix_rows,
    schedule_rows,
    why_not_for,
)
from capdsl.tui.display import gap_text, money, money_short, pct, si
from capdsl.tui.session import Session
from capdsl.tui.settings import TuiSettings, load_settings
from capdsl.tui.widgets.bar_chart import ChartData, Marker, Stack, nice_ceiling
from capdsl.tui.widgets.source import changed_lines, highlight_name

# --------------------------------------------------------------------------- session


def test_undo_redo_revert_walk_the_texts() -> None:
    s = Session("p.cap", "v0")
    assert not s.dirty
    s.push("v1")
    s.push("v2")
    assert s.dirty and s.text == "v2"
    assert s.undo() and s.text == "v1"
    assert s.redo() and s.text == "v2"
    assert not s.redo()
    assert s.revert() and s.text == "v0" and not s.dirty
    assert s.undo() and s.text == "v2"  # the revert itself is undoable
    s.push("v3")
    assert s.redo_stack == []
    s.undo(), s.undo(), s.undo()
    assert s.text == "v0"
    assert not s.undo()


def test_saved_carries_the_solution_over_to_the_formatted_text() -> None:
    b = built()
    assert b.plan is not None
    sol = solve_plan(b.plan)
    s = Session("p.cap", "a")
    s.push("b ")
    solved = s.remember_solution("b ", None, b.plan, sol)
    s.show(solved, "b ", None)
    assert not s.stale
    s.saved("b")
    assert s.file_text == s.text == "b" and not s.dirty and s.undo_stack == []
    assert s.solved_for("b", None) is solved
    assert not s.stale


def test_hint_is_the_same_scenarios_last_good_solution() -> None:
    b = built()
    assert b.plan is not None
    good = solve_plan(b.plan)
    other = good.model_copy(update={"scenario": "aggressive"})
    bad = good.model_copy(update={"status": "infeasible"})
    s = Session("p.cap", "t")
    assert s.hint(None) is None
    s.remember_solution("t", "aggressive", b.plan, other)
    assert s.hint(None) is None  # another scenario's answer is no warm start
    s.remember_solution("t", None, b.plan, good)
    s.remember_solution("t2", None, b.plan, bad)
    assert s.hint(None) is good
    assert s.hint("aggressive") is other


def test_stale_when_text_or_build_moved_on() -> None:
    b = built()
    assert b.plan is not None
    s = Session("p.cap", "t")
    s.show(s.remember_solution("t", None, b.plan, solve_plan(b.plan)), "t", None)
    assert not s.stale
    s.push("t2")
    assert s.stale
    s.undo()
    assert not s.stale
    s.build_failed = True
    assert s.stale


# --------------------------------------------------------------------------- derived rows


def test_mix_rows_aggregate_blocks_into_peak_low_and_hours() -> None:
    plan = built().plan
    assert plan is not None
    sol = solve_plan(plan)
    rows = mix_rows(plan, sol, month=0)
    assert {r.month for r in rows} == {0}
    od = next(r for r in rows if r.workload == "recs" and r.option == "on_demand")
    allocs = [
        a
        for a in sol.allocations
        if a.month == 0 and a.workload == "recs" and a.option == "on_demand"
    ]
    assert od.peak == max(a.count for a in allocs)
    by_block = {b.index: 0 for b in plan.demand[0].blocks} | {a.block: a.count for a in allocs}
    assert od.low == min(by_block.values())
    hours = {b.index: b.billed_hours for b in plan.demand[0].blocks}
    assert od.instance_hours == pytest.approx(sum(a.count * hours[a.block] for a in allocs))
    assert od.cost == Decimal("0.289") * Decimal(str(od.instance_hours))
    reserved = next(r for r in rows if r.option == "reserved")
    assert reserved.cost is None
    # rows come reserved first within a workload
    recs = [r.option for r in rows if r.workload == "recs"]
    assert recs == sorted(recs, key=["reserved", "on_demand", "spot"].index)
    assert len(mix_rows(plan, sol)) == len(plan.months) * len(rows)


def test_binding_for_keeps_plan_wide_settings_and_drops_other_workloads() -> None:
    plan = built().plan
    assert plan is not None
    sol = solve_plan(plan)
    from capdsl.solve.solution import Binding

    sol = sol.model_copy(
        update={
            "binding": [
                Binding(month=3, setting="recs.redundancy", text="a"),
                Binding(month=3, setting="train.work", text="b"),
                Binding(month=3, setting="budget.monthly", text="c"),
                Binding(month=4, setting="recs.headroom", text="d"),
                Binding(month=None, setting=None, text="e"),
            ]
        }
    )
    assert [b.text for b in binding_for(plan, sol, month=3, workload="recs")] == ["a", "c", "e"]
    assert [b.text for b in binding_for(plan, sol, month=3, workload="train")] == ["b", "c", "e"]
    assert len(binding_for(plan, sol)) == 5


def test_why_not_matches_the_chosen_offering_or_falls_back_to_the_workload() -> None:
    plan = built().plan
    assert plan is not None
    sol = solve_plan(plan)
    assert [w.alternative for w in why_not_for(sol, workload="recs", offering=C7G)] == [M7G]
    assert [w.alternative for w in why_not_for(sol, workload="recs", offering=M7G)] == [M7G]
    assert why_not_for(sol, workload="train") == []


def test_schedule_lists_purchases_and_fleet_expiry_in_month_order() -> None:
    plan = built().plan
    assert plan is not None
    rows = schedule_rows(plan, solve_plan(plan))
    assert [(r.kind, r.month) for r in rows] == [("buy", 0), ("expires", 5)]
    assert rows[0].order_by == "2026-12"


def test_capacity_series_at_the_peak_block_covers_the_need() -> None:
    plan = built().plan
    assert plan is not None
    series = capacity_series(plan, solve_plan(plan), "recs")
    assert series.unit == "prediction/s"
    assert series.cliff_month == 5
    for m in range(len(series.months)):
        assert series.capacity(m) >= series.required[m] > series.demand[m] > 0
    # the event month's peak is the sale
    nov = series.months.index("2027-11")
    assert series.demand[nov] == pytest.approx(4 * 1.03 * series.demand[nov - 1])
    assert series.fleet[0] == 20 * 60.0 and series.fleet[5] == 0


def test_capacity_series_for_batch_counts_work_over_the_month() -> None:
    plan = built().plan
    assert plan is not None
    series = capacity_series(plan, solve_plan(plan), "train")
    assert series.unit == "gpu_hour/month"
    assert series.required[0] == 600.0
    assert series.capacity(0) == pytest.approx(1 * 8.0 * 400)  # one instance, 400 h block


def test_compare_rows_align_months_and_sum() -> None:
    a = solve_plan(built().plan)  # type: ignore[arg-type]
    b = solve_plan(built(scenario="aggressive").plan)  # type: ignore[arg-type]
    rows = compare_rows(a, b)
    assert [r.month for r in rows] == [m.month for m in a.months]
    assert all(r.delta is not None and r.delta >= 0 for r in rows)
    assert sum(r.delta for r in rows if r.delta is not None) == b.totals.cost - a.totals.cost  # type: ignore[union-attr]


# --------------------------------------------------------------------------- display


def test_money_and_numbers() -> None:
    assert money(Decimal("52301.4")) == "$52,301"
    assert money(Decimal("-1200")) == "-$1,200"
    assert money(Decimal("0.25"), cents=True) == "$0.25"
    assert money(None) == "–"
    assert money(10, "EUR") == "€10"
    assert money(10, "CHF") == "CHF 10"
    assert money_short(52300) == "$52.3k"
    assert money_short(1_230_000) == "$1.23M"
    assert si(980) == "980" and si(45_200) == "45.2k" and si(0) == "0" and si(2.5) == "2.5"
    assert pct(0.184) == "18.4%" and gap_text(0.0) == "0.00%"


def test_nice_ceiling() -> None:
    assert nice_ceiling(0) == 1
    assert nice_ceiling(3.7) == 4
    assert nice_ceiling(1234) == 1500
    assert nice_ceiling(60_000) == 60_000


def test_changed_lines_and_token_names() -> None:
    assert changed_lines("a\nb\nc", "a\nB\nc\nd") == {1, 3}
    from pygments.token import Comment, Keyword, Name, Number

    assert highlight_name(Comment.Single) == "comment"
    assert highlight_name(Keyword.Type) == "type"
    assert highlight_name(Keyword) == "keyword"
    assert highlight_name(Name.Attribute) == "property"
    assert highlight_name(Number.Other) == "number"
    assert highlight_name(Name) is None


# --------------------------------------------------------------------------- settings


def test_settings_load_from_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "tui.toml"
    cfg.write_text(
        'theme = "nord"\ntime_limit = 3\n[keymap]\nsolve = "ctrl+enter"\n', encoding="utf-8"
    )
    settings, problem = load_settings(cfg)
    assert problem is None
    assert settings == TuiSettings(theme="nord", time_limit=3, keymap={"solve": "ctrl+enter"})


@pytest.mark.parametrize("body", ["time_limit = -1\n", "colour = 'red'\n", "theme = \n"])
def test_broken_settings_fall_back_to_defaults_with_a_reason(tmp_path: Path, body: str) -> None:
    cfg = tmp_path / "tui.toml"
    cfg.write_text(body, encoding="utf-8")
    settings, problem = load_settings(cfg)
    assert settings == TuiSettings()
    assert problem is not None and str(cfg) in problem


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("time_limt = 3\n", "`time_limt`: no such setting; did you mean `time_limit`?"),
        ("time_limit = 0\n", "time_limit must be above 0 seconds, not 0"),
        ("watch_interval = -2\n", "watch_interval must be 0 (off) or more seconds, not -2"),
        ("keymap = { solve = 1 }\n", "`keymap.solve`: Input should be a valid string"),
    ],
)
def test_broken_settings_say_what_is_wrong(tmp_path: Path, body: str, says: str) -> None:
    cfg = tmp_path / "tui.toml"
    cfg.write_text(body, encoding="utf-8")
    assert load_settings(cfg) == (TuiSettings(), f"{cfg}: {says}")


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match="time_limit must be above 0"):
        TuiSettings(time_limit=-1)


def test_missing_settings_file_is_fine(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.toml") == (TuiSettings(), None)


# --------------------------------------------------------------------------- the chart


@pytest.mark.anyio
async def test_bar_chart_draws_stacks_markers_flags_and_axes() -> None:
    from textual.app import App, ComposeResult

    from capdsl.tui.widgets.bar_chart import BarChart

    data = ChartData(
        labels=["2027-01", "2027-02", "2027-03", "2027-04"],
        stacks=[Stack("reserved", [10, 10, 10, 10], "s0"), Stack("spot", [0, 5, 10, 20], "s3")],
        markers=[Marker("needed", [12, 14, 18, 25])],
        line=(28.0, "budget"),
        flags={2: "cliff"},
    )

    class ChartApp(App[None]):
        def compose(self) -> ComposeResult:
            yield BarChart(id="c")

    app = ChartApp()
    async with app.run_test(size=(40, 12)) as pilot:
        chart = app.query_one(BarChart)
        chart.data = data
        await pilot.pause()
        console = Console(width=40, record=True, color_system=None)
        console.print(chart.render())
        text = console.export_text()
    lines = text.splitlines()
    assert lines[0].startswith("■ reserved   ■ spot   ━ needed   ╌ budg")
    assert lines[1].startswith("40 ┤")  # nice ceiling of 30 * 1.04
    assert lines[6].startswith("20 ┤") and lines[-2].startswith(" 0 ┤")
    assert lines[-1].strip().startswith("27-01")
    assert "▼" in lines[1]  # the flagged column
    assert "╌" in text  # the budget line is on the scale
    assert "━" in text or "▁" in text or "▔" in text
    bottom = lines[-2]
    assert bottom.count("█") >= 4  # every month has a bar


def test_repository_plan_fixture_is_the_one_the_fake_reads() -> None:
    assert "service recs" in shop_text()


def test_capacity_chart_flags_the_cliff_only_when_there_is_a_fleet() -> None:
    from capdsl.tui.widgets.capacity import capacity_chart_data

    plan = built().plan
    assert plan is not None
    series = capacity_series(plan, solve_plan(plan), "recs")
    assert capacity_chart_data(series).flags == {5: "cliff 2027-06"}
    no_fleet = plan.model_copy(update={"fleet": []})
    series = capacity_series(no_fleet, solve_plan(no_fleet), "recs")
    assert series.cliff_month == 5 and capacity_chart_data(series).flags == {}


def test_the_app_solves_with_the_command_lines_time_limit() -> None:
    """The same file gives the same plan in the app and from `capdsl solve` (the solver is
    deterministic for a time limit and a seed)."""
    import inspect

    from capdsl import cli

    default = inspect.signature(cli.solve).parameters["time_limit"].default
    assert TuiSettings().time_limit == default
    assert TuiSettings().seed == inspect.signature(cli.solve).parameters["seed"].default


# --------------------------------------------------------------------------- tables


@pytest.mark.anyio
async def test_fill_table_sizes_columns_before_the_table_idles() -> None:
    """A frame drawn between the rows' arrival and the table's next idle (a busy machine:
    a snapshot under a modal caught it) must not cut cells to their headers' widths."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from capdsl.tui.widgets.tables import fill_table

    class TableApp(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="t")

    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("Month", "Zone", "Spend")
        fill_table(
            table,
            [
                ("a", ("2027-01", "us-east-1a", Text("$1,234.56", justify="right"))),
                ("b", ("2027-02", "eu", "committed")),
            ],
        )
        # no await: the table has not idled yet
        widths = [c.get_render_width(table) - 2 * table.cell_padding for c in table.ordered_columns]
        assert widths == [len("2027-01"), len("us-east-1a"), len("committed")]
        assert table.row_count == 2
        await pilot.pause()
        fill_table(table, [("c", ("2027-03", "x", "$1"))])  # replaced, re-measured
        assert table.row_count == 1
        assert [c.width for c in table.ordered_columns] == [7, 4, 5]


def test_capdsl_tui_time_limit_and_seed_override_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from capdsl.cli import app as cli_app
    from capdsl.tui.app import CapApp

    cfg = tmp_path / "tui.toml"
    cfg.write_text('theme = "nord"\ntime_limit = 7\nseed = 3\n', encoding="utf-8")
    monkeypatch.setenv("CAPDSL_TUI_CONFIG", str(cfg))
    plan = tmp_path / "shop.cap"
    plan.write_text(shop_text(), encoding="utf-8")
    seen: list[TuiSettings] = []

    def fake_run(self: CapApp) -> int:
        seen.append(self.settings)
        return 0

    monkeypatch.setattr(CapApp, "run", fake_run)
    runner = CliRunner()
    assert runner.invoke(cli_app, ["tui", str(plan), "--time-limit", "2.5"]).exit_code == 0
    assert runner.invoke(cli_app, ["tui", str(plan), "--seed", "9"]).exit_code == 0
    assert runner.invoke(cli_app, ["tui", str(plan)]).exit_code == 0
    assert [(s.theme, s.time_limit, s.seed) for s in seen] == [
        ("nord", 2.5, 3),
        ("nord", 7.0, 9),
        ("nord", 7.0, 3),
    ]
    bad = runner.invoke(cli_app, ["tui", str(plan), "--time-limit", "0"])
    assert bad.exit_code != 0 and len(seen) == 3
