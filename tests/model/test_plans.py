"""The scenario plans (SCENARIOS.md 1-7, ``tests/fixtures/model/plans``) build, under every
scenario they declare, into plans whose demand blocks are sound."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from capdsl.lang.diagnostics import has_errors
from capdsl.model.demand import block_invariants
from capdsl.model.plan import Plan

from .conftest import PLANS, build_path

PLAN_FILES = sorted(PLANS.glob("*.cap"))


@cache
def built(name: str, scenario: str | None = None) -> Plan:
    plan, diags = build_path(PLANS / name, scenario=scenario)
    errors = [f"{d.code} {d.span}: {d.message}" for d in diags if d.is_error]
    assert plan is not None and not errors, errors
    return plan


def all_variants() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for path in PLAN_FILES:
        out.append((path.name, None))
        out += [(path.name, s) for s in built(path.name).scenarios]
    return out


def test_every_scenario_of_the_design_has_a_plan() -> None:
    names = {p.stem for p in PLAN_FILES}
    assert {
        "retail_recs",
        "saas_growth",
        "llm_inference",
        "training",
        "data_processing",
        "seasonal_ecommerce",
        "budget_overrun",
    } <= names


@pytest.mark.parametrize(("name", "scenario"), all_variants(), ids=lambda v: str(v))
def test_plan_builds_with_sound_blocks(name: str, scenario: str | None) -> None:
    plan = built(name, scenario)
    assert plan.scenario == scenario
    assert len(plan.months) == plan.horizon == len(plan.demand)
    for month in plan.demand:
        assert block_invariants(month, float(plan.hours_per_month)) == []
    # "Keep the overhead under a few percent": the compressor targets 2%.
    assert plan.compression.overhead_max <= 0.02 + 1e-9
    assert all(n <= 64 for n in plan.compression.blocks_per_month)
    assert not has_errors(plan.warnings)


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: p.stem)
def test_plan_json_round_trips(path: Path) -> None:
    plan = built(path.name)
    text = plan.model_dump_json()
    again = Plan.model_validate_json(text)
    assert again.model_dump_json() == text


def test_builds_are_deterministic() -> None:
    a, _ = build_path(PLANS / "retail_recs.cap")
    b, _ = build_path(PLANS / "retail_recs.cap")
    assert a is not None and b is not None
    assert a.model_dump_json() == b.model_dump_json()


def test_every_workload_has_capacity_and_every_capacity_an_offering() -> None:
    for path in PLAN_FILES:
        plan = built(path.name)
        ids = {o.id for o in plan.offerings}
        for w in plan.workloads:
            assert w.capacities, w.name
            for c in w.capacities:
                assert c.offering in ids and c.per_instance > 0
                assert set(c.spot_zones) <= set(c.zones) <= set(plan.offering(c.offering).zones)
        for r in plan.fleet:
            assert r.offering in ids


def test_variant_rebuilds_other_scenarios() -> None:
    base = built("saas_growth.cap")
    aggressive = base.variant("aggressive")
    assert aggressive.scenario == "aggressive"
    assert aggressive.variant(None).scenario is None
    assert base.variant(None) is base
    # 900% a year grows faster than 300%: the last month needs more.
    last_base = max(b.level["api"] for b in base.demand[-1].blocks)
    last_aggr = max(b.level["api"] for b in aggressive.demand[-1].blocks)
    assert last_aggr > 2 * last_base
    with pytest.raises(Exception, match="unknown scenario"):
        base.variant("nope")


def test_budget_overrun_names_the_month_under_aggressive() -> None:
    """SCENARIOS.md 7: the hard budget holds for moderate and breaks under aggressive."""
    moderate = built("budget_overrun.cap", "moderate")
    assert not [d for d in moderate.warnings if d.code == "W0005"]
    aggressive = built("budget_overrun.cap", "aggressive")
    floors = [d for d in aggressive.warnings if d.code == "W0005"]
    assert len(floors) == 1
    assert "cannot be met in 2028-" in floors[0].message
    assert floors[0].span is not None and floors[0].span.line == 29  # `monthly <= $14k`


def test_retail_sale_event_keeps_its_peak_in_november() -> None:
    plan = built("retail_recs.cap")
    nov = plan.demand[plan.months.index("2027-11")]
    sale = [b for b in nov.blocks if b.event == "annual sale"]
    normal = [b for b in nov.blocks if b.event is None]
    assert sale and normal
    assert sum(b.hours for b in sale) == 72
    hourly = nov.hourly["recs"]
    sale_hours = nov.event_hours["annual sale"]
    assert sale_hours == list(range(23 * 24, 26 * 24))  # 24-26 Nov
    for h in sale_hours:  # 4x the same weekday and hour a week earlier
        assert hourly[h] == pytest.approx(4 * hourly[h - 7 * 24], rel=1e-12)
    assert max(b.level["recs"] for b in sale) == pytest.approx(max(hourly[h] for h in sale_hours))
    # 2x scenario: the same hours, half the scale.
    half = built("retail_recs.cap", "provision_2x").demand[plan.months.index("2027-11")]
    assert max(b.level["recs"] for b in half.blocks if b.event) == pytest.approx(
        max(b.level["recs"] for b in sale) / 2, rel=1e-9
    )


def test_saas_cliff_month_and_reason() -> None:
    plan = built("saas_growth.cap")
    api = plan.workload("api")
    assert api.cliff_month is not None and 0 < api.cliff_month < 12
    assert api.cliff_reason.startswith("needs ") and "today's fleet carries" in api.cliff_reason
    # the conservative case outgrows the fleet later
    slow = built("saas_growth.cap", "conservative").workload("api")
    assert slow.cliff_month is not None and slow.cliff_month > api.cliff_month


def test_llm_mix_splits_tokens_40_60() -> None:
    plan = built("llm_inference.cap")
    small, large = plan.workload("chat.small"), plan.workload("chat.large")
    assert small.parent == large.parent == "chat"
    month = plan.demand[0]
    for s, lg in zip(month.hourly["chat.small"], month.hourly["chat.large"], strict=True):
        assert s / lg == pytest.approx(40 / 60)
    assert not large.spot.allowed and small.spot.allowed
    quota = plan.quotas[0]
    assert quota.max_gpu == 96 and all(
        o.split(".")[1] in ("g6e", "p5", "g6") for o in quota.offerings
    )


def test_measured_gpu_throughput_with_prompt_cache() -> None:
    plan = built("llm_inference.cap")
    caps = {c.offering: c.per_instance for c in plan.workload("chat.large").capacities}
    # g6e.12xlarge: 4 GPUs x 450 token/s x 2 (prompt cache)
    assert caps["gpu.g6e.12xlarge@us-east-1"] == pytest.approx(4 * 450 * 2)
    no_cache = built("llm_inference.cap", "no_cache")
    caps2 = {c.offering: c.per_instance for c in no_cache.workload("chat.large").capacities}
    assert caps2["gpu.g6e.12xlarge@us-east-1"] == pytest.approx(4 * 450)


def test_training_work_per_month() -> None:
    plan = built("training.cap")
    work = [m.work["retrain"] for m in plan.demand]
    assert work[0] == pytest.approx(1200)
    june = plan.months.index("2027-06")
    assert work[june] == pytest.approx(1200 * 1.03**june + 20_000)
    # 3 gpu_hour/day x 12 scientists, counted over the 730 billed hours of a month
    assert plan.demand[0].work["experiments"] == pytest.approx(3 * 12 * 730 / 24)
    retrain = plan.workload("retrain")
    assert retrain.batch is not None and retrain.batch.deadline_hours == 480
    assert not retrain.batch.interruptible and all(not c.spot_zones for c in retrain.capacities)
    exp = plan.workload("experiments")
    assert exp.batch is not None and exp.batch.checkpoint_overhead == pytest.approx(0.1)
    assert {c.offering: c.per_instance for c in exp.capacities}["aws.g6e.12xlarge@us-east-1"] == 4


def test_data_processing_csv_and_stream_burst() -> None:
    plan = built("data_processing.cap")
    work = [m.work["etl"] for m in plan.demand]
    assert work[:6] == pytest.approx([80000, 76000, 82000, 84000, 85000, 90000])
    assert work[6:] == pytest.approx([80000] * 6)  # 2 x current where the table is silent
    clicks = plan.workload("clickstream")
    assert clicks.burst == 3
    jan = plan.demand[0].hourly["clickstream"]
    assert sum(jan) / len(jan) == pytest.approx(3 * 20_000, rel=0.02)


def test_seasonal_plan_follows_the_seasons() -> None:
    plan = built("seasonal_ecommerce.cap")
    mean = {m.month: sum(m.hourly["storefront"]) / m.hours for m in plan.demand}
    assert mean["2027-12"] > 1.4 * mean["2027-02"]
    march = plan.demand[plan.months.index("2027-03")]
    hourly = march.hourly["storefront"]
    assert max(hourly) / (sum(hourly) / len(hourly)) == pytest.approx(2.2, rel=0.02)
    nov = plan.demand[plan.months.index("2027-11")]
    assert {b.event for b in nov.blocks} >= {"black friday", "black friday + cyber monday"}


def test_price_overrides_are_noted_on_offerings() -> None:
    plan = built("retail_recs.cap")
    c7g = plan.offering("aws.c7g.2xlarge@us-east-1")
    assert any("discount 8%" in n for n in c7g.price_notes)
    assert any("negotiated reserved 3y-all_upfront" in n for n in c7g.price_notes)
    ri = next(r for r in c7g.offering.reserved if r.key == "3y-all_upfront")
    assert ri.upfront == 2600 and not ri.derived
    assert float(c7g.offering.on_demand_hourly or 0) == pytest.approx(0.289 * 0.92)


def test_spot_pools_respect_the_interruption_limit() -> None:
    """retail_recs allows pools with at most a 10% interruption bucket."""
    plan = built("retail_recs.cap")
    recs = plan.workload("recs")
    for c in recs.capacities:
        bucket = plan.offering(c.offering).offering.spot_interruption
        assert bool(c.spot_zones) == (bucket is not None and bucket <= 10)


def test_settings_keep_the_source_text_and_scenario_spans() -> None:
    plan = built("retail_recs.cap")
    assert plan.settings["recs.headroom"].text == "headroom     = 40%"
    assert plan.settings["recs.spot.max"].text == "max = 40%"
    assert plan.settings["recs.event.annual sale.scale"].text == "scale = 4x"
    assert plan.settings["budget.monthly"].text == "monthly <= $25k"
    assert plan.settings["recs"].text == "service recs"
    assert plan.settings["recs.runs_on"].text == "runs on aws.c7g.*, aws.m7g.*"
    assert plan.settings["recs.runs_on.service_time"].text.startswith("service_time = 15 ms")
    assert plan.settings["fleet.aws.c7g.2xlarge#2"].text.startswith("reserved aws.c7g.2xlarge")
    assert plan.settings["aws.discount"].span is not None
    assert plan.settings["aws.discount"].span.file.endswith("shared/aws.cap")
    two = built("retail_recs.cap", "provision_2x")
    setting = two.settings["recs.event.annual sale.scale"]
    assert setting.text == 'recs.event."annual sale".scale = 2x'
    assert setting.span is not None and setting.span.line == 48


def test_cliff_of_a_workload_starved_by_shared_reservations_names_who_took_them(
    tmp_path: Path,
) -> None:
    from .conftest import build_text

    text = """\
unit request
plan "shared" {
  start   = 2027-01
  horizon = 3 months
}
catalog aws from "fixture" {
  provider = "aws"
  regions  = ["us-east-1"]
  families = ["c7g"]
}
fleet {
  reserved aws.c7g.2xlarge {
    count = 4
    until = 2028-01
  }
}
service big {
  unit     = request
  baseline = 700 request/s
  runs on aws.c7g.2xlarge { throughput = 200 request/s }
}
batch small {
  unit = vcpu_hour
  work = 2000 vcpu_hour per month
  runs on aws.c7g.2xlarge { }
}
"""
    plan, diags = build_text(text, tmp_path)
    assert plan is not None, [d.message for d in diags]
    small = plan.workload("small")
    assert small.cliff_month == 0
    assert "after `big` (shared reservations)" in small.cliff_reason
