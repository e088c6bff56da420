"""From .cap text to a verified, explained plan (through capdsl.api, inline price book)."""

from __future__ import annotations

from pathlib import Path

import pytest

from capdsl.api import build_text, solve_plan

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "solve" / "inline-shop.cap"


def build(text: str):  # type: ignore[no-untyped-def]
    built = build_text(text, str(FIXTURE))
    if built.plan is None:
        pytest.skip(
            f"the model builder cannot build the fixture yet: {[d.message for d in built.diagnostics][:2]}"
        )
    return built


def test_solve_verify_explain_from_cap_text() -> None:
    built = build(FIXTURE.read_text())
    sol = solve_plan(built.plan, time_limit=8)
    assert sol.status in ("optimal", "feasible"), sol.message
    assert sol.verified and sol.verification is not None and sol.verification.ok
    assert sol.totals is not None and sol.totals.all_on_demand_cost >= sol.totals.cost
    settings = {b.setting for b in sol.binding}
    assert settings & {"shop.redundancy", "shop.survive", "shop.headroom"}
    assert sol.why_not and sol.why_not[0].workload == "shop"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_budget_too_low_points_at_its_line(workers: int) -> None:
    text = FIXTURE.read_text().replace("monthly <= $20k", "monthly <= $100")
    built = build(text)
    sol = solve_plan(built.plan, time_limit=8, workers=workers)
    assert sol.status == "infeasible"
    d = sol.diagnostics[0]
    assert d.code == "E0450"
    assert d.span is not None and text.splitlines()[d.span.line - 1].strip().startswith(
        "monthly <= $100"
    )
    assert "budget $100.00/month is below the cheapest plan" in d.message


WARM_INTO_INFEASIBLE = """
import sys
from capdsl.api import build_text, solve_plan
text = open(sys.argv[1]).read()
before = solve_plan(build_text(text, sys.argv[1]).plan, time_limit=5, workers=2)
broke = build_text(text.replace("monthly <= $20k", "monthly <= $100"), sys.argv[1]).plan
after = solve_plan(broke, time_limit=5, workers=2, hint=before)
print(before.status, after.status, after.diagnostics[0].code)
"""


def test_a_what_if_that_breaks_the_budget_is_infeasible_not_a_crash() -> None:
    """The what-if re-solve is warm-started from the last plan, which the new budget forbids.
    OR-Tools' interleaved portfolio aborts the process (SIGABRT) on a hint it cannot repair,
    and on an empty hint message; the search checks the hint first. A child process, so that
    a regression fails this test instead of killing the test run."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", WARM_INTO_INFEASIBLE, str(FIXTURE.with_name("tiny-api.cap"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["optimal", "infeasible", "E0450"]
