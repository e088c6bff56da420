"""The machine's speed: the work budget a time limit buys (``capdsl.solve.speed``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capdsl.cli import app
from capdsl.solve import speed as sp


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAPDSL_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv(sp.ENV, raising=False)
    monkeypatch.setattr(sp, "_speeds", {})
    return tmp_path / sp.CACHE_FILE


def test_env_fixes_the_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sp.ENV, "1.75")
    assert sp.fixed_speed() == 1.75
    assert sp.machine_speed(2) == 1.75
    monkeypatch.setenv(sp.ENV, "auto")
    assert sp.fixed_speed() is None


@pytest.mark.parametrize("text", ["fast", "0", "-1", "9", "nan"])
def test_env_that_is_no_speed_is_refused_with_the_range(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(sp.ENV, text)
    with pytest.raises(ValueError, match=r"expected 'auto' or a number from 0.25 to 4"):
        sp.fixed_speed()


def test_probe_measures_within_range_on_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sp, "REPEATS", 1)
    got = sp.probe(1)
    assert got.cp_s > 0 and got.py_s > 0
    assert sp.MIN_SPEED <= got.speed <= sp.MAX_SPEED
    assert abs(got.speed / sp.STEP - round(got.speed / sp.STEP)) < 1e-9
    assert got.key == sp.machine_key(1)


def test_speed_is_the_slower_probe_times_the_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    # CP-SAT twice as fast as the reference, Python 1.6 times: 1.6 x 0.9 = 1.44 -> 1.45
    monkeypatch.setattr(sp, "_cp_probe", lambda: sp.REFERENCE_CP_S / 2)
    monkeypatch.setattr(sp, "_py_probe", lambda: sp.REFERENCE_PY_S / 1.6)
    assert sp.probe(2).speed == pytest.approx(round(1.6 * sp.MARGIN / sp.STEP) * sp.STEP)
    # far slower than the reference: the least speed
    monkeypatch.setattr(sp, "_cp_probe", lambda: sp.REFERENCE_CP_S * 100)
    assert sp.probe(2).speed == sp.MIN_SPEED


def test_measured_once_then_read_back(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake(threads: int) -> sp.Measured:
        calls.append(threads)
        return sp.Measured(1.35, 0.3, 0.03, sp.machine_key(threads), "2026-11-25T00:00:00Z")

    monkeypatch.setattr(sp, "probe", fake)
    assert sp.machine_speed(2) == 1.35
    assert json.loads(cache.read_text())["speed"] == 1.35
    assert not list(cache.parent.glob("*.tmp"))  # written whole, nothing left behind
    # a new process reads it back: no second probe
    monkeypatch.setattr(sp, "_speeds", {})
    assert sp.machine_speed(2) == 1.35
    assert calls == [2]


def test_cache_of_another_machine_or_unreadable_is_measured_again(cache: Path) -> None:
    other = sp.Measured(2.0, 0.2, 0.02, "another machine", "2026-01-01T00:00:00Z")
    cache.write_text(json.dumps(other.__dict__))
    assert sp.cached(2) is None
    cache.write_text("{not json")
    assert sp.cached(2) is None
    mine = sp.Measured(1.1, 0.4, 0.04, sp.machine_key(2), "2026-01-01T00:00:00Z")
    cache.write_text(json.dumps(mine.__dict__))
    assert sp.cached(2) == mine
    assert sp.cached(1) is None  # measured for two threads, not one


def test_decomposer_spends_time_limit_times_speed() -> None:
    from capdsl.bench.generate import generate
    from capdsl.solve.decompose import Decomposer
    from capdsl.solve.prune import prepare

    ctx = prepare(generate("S", 0, "monthly"))
    now = time.perf_counter()
    d = Decomposer(
        ctx,
        deadline=now + 10.0,
        seed=0,
        threads=2,
        stop=None,
        on_progress=None,
        started=now,
        speed=1.5,
    )
    assert d.time_limit == pytest.approx(15.0)
    assert d.work_cap() == pytest.approx(15.0)
    # the wall clock's safety net stays on the wall clock: 30 s past the deadline
    d.started, d.deadline = now - 45.0, now - 35.0
    assert d.past_safety_net()
    d.started, d.deadline = now - 35.0, now - 25.0
    assert not d.past_safety_net()


def test_cli_speed_shows_the_fixed_and_the_measured(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = sp.Measured(1.3, 0.3, 0.033, sp.machine_key(2), "2026-11-25T21:00:00Z")
    cache.write_text(json.dumps(mine.__dict__))
    monkeypatch.setattr("capdsl.solve.search.default_workers", lambda: 2)
    res = CliRunner().invoke(app, ["speed", "--format", "json"])
    assert res.exit_code == 0, res.output
    record = json.loads(res.stdout)
    assert (record["speed"], record["source"]) == (1.3, "measured")
    assert record["measured"]["cp_s"] == 0.3
    monkeypatch.setenv(sp.ENV, "1")
    res = CliRunner().invoke(app, ["speed"])
    assert res.exit_code == 0
    assert "speed 1 (CAPDSL_SPEED=1)" in res.stdout
    assert "measured 1.3, not used while CAPDSL_SPEED is set" in res.stdout


def test_cli_refuses_a_speed_that_is_none(monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    monkeypatch.setenv(sp.ENV, "fast")
    res = CliRunner().invoke(app, ["check", str(repo / "examples" / "retail-sale.cap")])
    assert res.exit_code == 2
    assert "CAPDSL_SPEED='fast'" in res.output


def test_solve_refuses_a_speed_that_is_none() -> None:
    from capdsl.bench.generate import generate
    from capdsl.solve import solve

    with pytest.raises(ValueError, match="speed must be positive"):
        solve(generate("S", 0, "monthly"), time_limit=1.0, speed=0.0)


def test_the_solution_says_the_speed_it_ran_at() -> None:
    """A result carries what reproduces it: the seed and the machine speed."""
    from capdsl.bench.generate import generate
    from capdsl.report import render_solutions
    from capdsl.solve import solve

    plan = generate("S", 0, "monthly")
    sol = solve(plan, time_limit=2.0, speed=1.5)
    assert sol.status == "optimal" and sol.stats.speed == 1.5
    assert "seed 0; machine speed 1.5." in render_solutions([(plan, sol)], "md")
