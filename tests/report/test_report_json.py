"""``capdsl solve --format json``: the stable schema (version 1)."""

from __future__ import annotations

import json
import os
import random
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest

from capdsl.model.plan import Plan
from capdsl.report import render_solutions
from capdsl.report.json_out import load_schema
from capdsl.solve.solution import Solution

Results = list[tuple[Plan, Solution]]

REQUIRED = {
    "status",
    "objective",
    "bound",
    "gap",
    "verified",
    "currency",
    "totals",
    "months",
    "purchases",
    "binding",
    "sources",
    "diagnostics",
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(results: Results) -> dict:
    return json.loads(render_solutions(results, "json"))


def test_required_top_level_keys_and_types(one: Results) -> None:
    d = _data(one)
    assert d.keys() >= REQUIRED
    assert d["schema"] == 1
    assert d["status"] == "optimal"
    assert d["verified"] is True
    assert d["currency"] == "USD"
    assert isinstance(d["objective"], float) and isinstance(d["bound"], float)
    assert d["gap"] == 0.0005
    assert {"cost", "all_on_demand_cost", "savings_pct"} <= d["totals"].keys()
    assert [m["month"] for m in d["months"]] == ["2027-01", "2027-02", "2027-03"]
    assert all(isinstance(m["cost"], float) for m in d["months"])
    first = d["months"][0]["allocations"][0]
    assert set(first) == {
        "workload",
        "offering",
        "zone",
        "option",
        "block",
        "count",
        "hourly",
        "cost",
    }
    assert d["sources"] == [
        {
            "source": "bundled",
            "provider": "aws",
            "as_of": "2026-07-20",
            "origin": "bundled snapshot aws-us-east-1-2026-07",
            "detail": "on-demand and reserved from the AWS Price List; spot from Spot Advisor",
        }
    ]
    assert d["binding"][0] == {
        "month": "2027-03",
        "month_index": 2,
        "setting": "recs.redundancy",
        "text": "N+1 after losing us-east-1a binds for recs in 2027-03 (daytime peak)",
    }
    assert d["diagnostics"][0]["code"] == "W0101"


def test_numbers_match_the_solution(one: Results) -> None:
    _plan, sol = one[0]
    d = _data(one)
    assert sol.totals is not None
    assert Decimal(str(d["totals"]["cost"])) == sol.totals.cost.quantize(Decimal("0.01"))
    assert d["totals"]["savings_pct"] == round(sol.totals.savings_pct, 2)
    for month, mc in zip(d["months"], sol.months, strict=True):
        assert Decimal(str(month["cost"])) == mc.total.quantize(Decimal("0.01"))
        assert len(month["allocations"]) == sum(1 for a in sol.allocations if a.month == mc.index)
    # allocation costs: price x count x billed hours (on-demand / spot), null for reserved
    for month in d["months"]:
        hours = {b["block"]: b["billed_hours"] for b in month["blocks"]}
        for a in month["allocations"]:
            if a["option"] == "reserved":
                assert a["cost"] is None and a["hourly"] is None
            else:
                assert a["cost"] == pytest.approx(
                    a["hourly"] * a["count"] * hours[a["block"]], abs=0.01
                )
    # purchases carry the schedule with month labels and order-by
    assert [(p["month"], p["term_months"], p["count"]) for p in d["purchases"]] == [
        ("2027-01", 12, 3),
        ("2027-01", 12, 3),
        ("2027-02", 36, 1),
        ("2027-02", 36, 1),
    ]
    assert d["purchases"][2]["upfront"] == 3504.0 and d["purchases"][2]["order_by"] == "2027-01"
    # capacity vs demand and the cliff, per workload
    recs = d["workloads"]["recs"]
    assert recs["cliff_month"] == "2027-02"
    assert all(p["capacity"] >= p["required"] for p in recs["capacity"])
    assert recs["capacity"][0]["required"] == pytest.approx(recs["capacity"][0]["demand"] * 1.3)


def test_money_is_rounded_to_cents_and_prices_to_micro(one: Results) -> None:
    d = _data(one)

    def cents(x: float | None) -> bool:
        return x is None or round(x, 2) == x

    assert cents(d["objective"]) and cents(d["bound"])
    assert all(cents(v) for k, v in d["totals"].items() if k != "savings_pct")
    for m in d["months"]:
        assert all(
            cents(m[k])
            for k in ("cost", "on_demand", "spot", "reserved", "existing", "upfront_cash")
        )
        assert all(cents(a["cost"]) for a in m["allocations"])
    assert any(a["hourly"] == 0.0688 for m in d["months"] for a in m["allocations"])


def test_same_input_gives_byte_identical_output(f: ModuleType) -> None:
    plan = f.make_plan()
    a = render_solutions([(plan, f.make_solution(plan))], "json")
    b = render_solutions([(f.make_plan(), f.make_solution(f.make_plan()))], "json")
    assert a == b
    assert a.endswith("\n")


def test_output_ignores_timings_and_input_order(f: ModuleType) -> None:
    plan = f.make_plan()
    sol = f.make_solution(plan)
    shuffled = list(sol.allocations)
    random.Random(7).shuffle(shuffled)
    other = sol.model_copy(
        update={
            "allocations": shuffled,
            "purchases": list(reversed(sol.purchases)),
            "stats": sol.stats.model_copy(update={"solve_s": 99.0, "build_s": 3.0, "workers": 1}),
        }
    )
    assert render_solutions([(plan, sol)], "json") == render_solutions([(plan, other)], "json")
    text = render_solutions([(plan, other)], "json")
    assert "solve_s" not in text and "workers" not in text and "99.0" not in text


def test_keys_are_sorted(one: Results) -> None:
    text = render_solutions(one, "json")

    def check(obj: object) -> None:
        if isinstance(obj, dict):
            assert list(obj) == sorted(obj)
            for v in obj.values():
                check(v)
        elif isinstance(obj, list):
            for v in obj:
                check(v)

    check(json.loads(text))


@pytest.mark.parametrize("case", ["one", "scenarios", "infeasible", "failed"])
def test_output_validates_against_the_schema_file(
    case: str, request: pytest.FixtureRequest, validator: jsonschema.Draft202012Validator
) -> None:
    results = request.getfixturevalue(case)
    errors = sorted(validator.iter_errors(_data(results)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_schema_rejects_what_it_must(
    one: Results, validator: jsonschema.Draft202012Validator
) -> None:
    d = _data(one)
    bad_status = {**d, "status": "unknown"}
    assert not validator.is_valid(bad_status)
    missing = {k: v for k, v in d.items() if k != "sources"}
    assert not validator.is_valid(missing)
    extra = {**d, "solve_s": 1.2}
    assert not validator.is_valid(extra)


def test_several_scenarios_are_one_object_with_plans(scenarios: Results) -> None:
    d = _data(scenarios)
    assert set(d) == {"schema", "plan_for", "reference", "comparison", "plans"}
    assert d["plan_for"] == "moderate" and d["reference"] == "moderate"
    assert [p["scenario"] for p in d["plans"]] == [None, "moderate", "aggressive"]
    by = {c["scenario"]: c for c in d["comparison"]}
    assert by["moderate"]["delta"] == 0.0
    assert by["aggressive"]["delta"] == pytest.approx(
        by["aggressive"]["cost"] - by["moderate"]["cost"], abs=0.011
    )
    assert by["aggressive"]["delta"] > 0 > by[None]["delta"]
    assert all(p.keys() >= REQUIRED for p in d["plans"])


def test_infeasible_keeps_diagnostics_and_has_no_plan(infeasible: Results) -> None:
    d = _data(infeasible)
    assert d["status"] == "infeasible" and d["verified"] is False
    assert d["totals"] is None and d["months"] == [] and d["purchases"] == []
    assert d["message"].startswith("no plan meets")
    diag = d["diagnostics"][0]
    assert diag["code"] == "E0410" and diag["span"]["line"] == 31
    assert diag["help"].startswith("raise the budget")


def test_verification_failure_is_reported(failed: Results) -> None:
    d = _data(failed)
    assert d["status"] == "error" and d["verified"] is False
    assert d["verification"]["ok"] is False
    assert d["verification"]["violations"][0]["month"] == "2027-03"
    assert d["verification"]["violations"][0]["hour"] == 14
    # a rejected plan is never shown as a result
    assert d["months"] == [] and d["purchases"] == [] and d["totals"] is None
    assert d["workloads"]["recs"]["cost"] is None and d["workloads"]["recs"]["capacity"] == []


def test_unknown_status_reads_as_error(f: ModuleType) -> None:
    plan = f.make_plan()
    sol = Solution(plan=plan.name, status="unknown", message="no solution within 20 s")
    d = _data([(plan, sol)])
    assert d["status"] == "error" and d["message"] == "no solution within 20 s"


def test_golden_file(one: Results, golden_dir: Path) -> None:
    """The schema is stable: any change to the output shows up as a diff of this file.
    Regenerate with CAPDSL_UPDATE_GOLDEN=1 after a deliberate change (and document it)."""
    path = golden_dir / "solution.json"
    text = render_solutions(one, "json")
    if os.environ.get("CAPDSL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
