"""build(): scenarios, inline catalogs, fleet months, plugins, imports, units of settings."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from capdsl.lang.diagnostics import Diagnostic, warning
from capdsl.model.plan import Plan
from capdsl.pricing.catalog import Offering

from .conftest import build_text

BASE = """
unit request

plan "api" {
  start   = 2027-01
  horizon = 6 months
}

catalog aws from "fixture" {
  regions  = ["us-east-1"]
  families = ["c7g", "m7g"]
}

service api {
  unit     = request
  baseline = 2k request/s
  diurnal  = "business"
  runs on aws.c7g.*, aws.m7g.* {
    service_time = 20 ms
  }
  latency p95 < 100 ms
  redundancy = N+1
  survive    = 1 zone
  headroom   = 30%
  spot { max = 40%, per_pool = 15% }
}
"""


def ok(text: str, **kw: object) -> Plan:
    plan, diags = build_text(text, **kw)  # type: ignore[arg-type]
    assert plan is not None, [f"{d.code} {d.message}" for d in diags]
    return plan


def errors(text: str, **kw: object) -> list[Diagnostic]:
    plan, diags = build_text(text, **kw)  # type: ignore[arg-type]
    assert plan is None
    return [d for d in diags if d.is_error]


# --------------------------------------------------------------------------- scenarios


def test_scenario_turns_spot_off_and_adds_a_setting() -> None:
    text = BASE + "scenario careful { api.spot = false, api.max_utilization = 60% }\n"
    base = ok(text)
    careful = ok(text, scenario="careful")
    assert base.workload("api").spot.allowed and base.workload("api").max_utilization is None
    w = careful.workload("api")
    assert not w.spot.allowed and all(not c.spot_zones for c in w.capacities)
    assert w.max_utilization == pytest.approx(0.6)
    assert w.required_factor == pytest.approx(1 / 0.6)
    assert careful.settings["api.max_utilization"].text == "api.max_utilization = 60%"
    assert "api.spot.max" not in careful.settings


def test_scenario_turns_a_spot_flag_into_a_policy() -> None:
    text = BASE.replace("  spot { max = 40%, per_pool = 15% }\n", "  spot = false\n")
    text += "scenario thrifty { api.spot.max = 50% }\n"
    assert not ok(text).workload("api").spot.allowed
    w = ok(text, scenario="thrifty").workload("api")
    assert w.spot.allowed and w.spot.max_share == pytest.approx(0.5)


def test_scenario_overrides_runs_on_settings_and_budgets() -> None:
    text = BASE + "budget { monthly <= $30k }\n"
    text += "scenario slow { api.service_time = 30 ms, budget.monthly <= $50k, commitments.terms = [1y] }\n"
    base, slow = ok(text), ok(text, scenario="slow")
    cap = {c.offering: c.per_instance for c in base.workload("api").capacities}
    cap_slow = {c.offering: c.per_instance for c in slow.workload("api").capacities}
    assert all(cap_slow[k] < cap[k] for k in cap_slow)
    assert slow.budgets[0].monthly == Decimal(50_000)
    assert {o.term_months for o in slow.commitments.options} == {12}
    assert {o.term_months for o in base.commitments.options} == {12, 36}


def test_unknown_scenario_is_an_error_with_a_suggestion() -> None:
    text = BASE + "scenario aggressive { api.headroom = 50% }\n"
    diags = errors(text, scenario="agressive")
    assert diags[0].code == "E0310" and diags[0].help == "did you mean `aggressive`?"


def test_every_scenario_is_checked_even_when_another_is_built() -> None:
    text = BASE + "scenario a { api.headroom = 50% }\nscenario b { api.headroom = 50 ms }\n"
    diags = errors(text, scenario="a")
    assert [d.code for d in diags] == ["E0207"]
    assert (
        diags[0].span is not None
        and diags[0].span.line == text.splitlines().index("scenario b { api.headroom = 50 ms }") + 1
    )


# --------------------------------------------------------------------------- defaults


def test_defaults_when_blocks_are_absent() -> None:
    plan = ok(BASE)
    assert plan.currency == "USD" and plan.hours_per_month == 730
    terms = {(o.term_months, o.payment, o.offering_class) for o in plan.commitments.options}
    assert len(terms) == 6 and all(c == "standard" for _, _, c in terms)
    assert plan.commitments.beyond_horizon == "amortize" and plan.commitments.lead_time_months == 0
    assert plan.budgets == [] and plan.quotas == [] and plan.fleet == []
    w = plan.workload("api")
    assert (w.redundancy, w.survive_zones, w.headroom) == (1, 1, 0.3)
    assert w.latency is not None and (w.latency.percentile, w.latency.target_s) == (0.95, 0.1)
    assert w.cliff_month == 0 and "no reservation" in w.cliff_reason


def test_growth_per_year_compounds_monthly() -> None:
    plan = ok(BASE.replace('  diurnal  = "business"\n', "  growth = 50% per year\n"))
    levels = [m.blocks[0].level["api"] for m in plan.demand]
    assert levels[1] / levels[0] == pytest.approx(1.5 ** (1 / 12))


# --------------------------------------------------------------------------- catalogs


INLINE = """
unit job

plan "dc" {
  start   = 2027-01
  horizon = 3 months
  currency = "EUR"
}

catalog dc {
  discount = 10%
  offering "rack.large" {
    region    = "dc-east"
    zones     = ["dc-east-a", "dc-east-b"]
    vcpu      = 32
    memory    = 128 GiB
    on_demand = $0.80/h
    spot      = $0.30/h
    reserved { term = 1y, payment = no_upfront, hourly = $0.55/h }
    reserved { term = 3y, payment = all_upfront, upfront = $9k }
  }
  price "rack.*" { on_demand = $0.70/h }
}

batch render {
  unit = vcpu_hour
  work = 20k vcpu_hour per month
  runs on dc.rack.* { }
  survive = 1 zone
}
"""


def test_inline_offerings_with_price_overrides() -> None:
    plan = ok(INLINE)
    assert plan.currency == "EUR"
    po = plan.offering("dc.rack.large@dc-east")
    o = po.offering
    assert o.on_demand_hourly == Decimal("0.70")  # negotiated: no discount on top
    assert o.spot_hourly == {"dc-east-a": Decimal("0.27"), "dc-east-b": Decimal("0.27")}
    ri = {r.key: r for r in o.reserved}
    assert ri["1y-no_upfront"].hourly == Decimal("0.495")
    assert ri["3y-all_upfront"].upfront == Decimal("8100")
    assert any("discount 10%" in n for n in po.price_notes)
    assert any("negotiated on-demand" in n for n in po.price_notes)
    w = plan.workload("render")
    assert w.capacities[0].per_instance == 32  # vcpu_hour per hour
    assert plan.sources[0].source == "inline"


# --------------------------------------------------------------------------- fleet


def test_fleet_months_expire_and_start_partway() -> None:
    text = (
        BASE
        + """
fleet {
  reserved aws.c7g.2xlarge { zone = "use1-az1", count = 4, until = 2027-03 }
  reserved aws.m7g.2xlarge { count = 2, until = 2027-05-20, since = 2027-02-10, hourly = $0.05/h }
}
"""
    )
    plan = ok(text)
    first, second = plan.fleet
    assert (first.zone, first.count, first.start, first.end) == ("use1-az1", 4, -1, 2)
    assert (second.zone, second.start, second.end, second.hourly) == (None, 2, 4, Decimal("0.05"))
    assert second.offering == "aws.m7g.2xlarge@us-east-1"


def test_cliff_is_the_first_month_the_fleet_falls_short() -> None:
    text = BASE.replace("  survive    = 1 zone\n", "").replace(
        '  diurnal  = "business"\n', "  growth = 10% per month\n"
    )
    text += "fleet {\n  reserved aws.c7g.4xlarge { count = 2, until = 2028-01 }\n}\n"
    plan = ok(text)
    w = plan.workload("api")
    per = {c.offering: c.per_instance for c in w.capacities}["aws.c7g.4xlarge@us-east-1"]
    need = [m.blocks[0].level["api"] * 1.3 for m in plan.demand]
    expected = next(i for i, n in enumerate(need) if n > 2 * per)
    assert w.cliff_month == expected
    assert w.cliff_reason.startswith("needs ") and "x1.3 headroom" in w.cliff_reason


# --------------------------------------------------------------------------- plugins


class LoadTest:
    """A latency-model plugin: a measured table."""

    name = "loadtest"

    def capacity(
        self,
        offering: Offering,
        *,
        workload: str,
        unit: str,
        percentile: float | None,
        target_s: float | None,
        options: Mapping[str, str],
    ) -> float:
        table = {"c7g.2xlarge": 900.0, "c7g.4xlarge": 1900.0}
        return table.get(offering.instance_type, 0.0) * float(options.get("scale", "1"))


def test_latency_model_plugin_gives_capacity() -> None:
    text = BASE.replace(
        "    service_time = 20 ms\n",
        '    latency_model = "loadtest"\n    model_options { scale = "1.5" }\n',
    )
    plan = ok(text, latency_models={"loadtest": LoadTest()})
    caps = {c.offering: c for c in plan.workload("api").capacities}
    assert set(caps) == {"aws.c7g.2xlarge@us-east-1", "aws.c7g.4xlarge@us-east-1"}
    assert caps["aws.c7g.2xlarge@us-east-1"].per_instance == 1350.0
    assert caps["aws.c7g.2xlarge@us-east-1"].basis == "latency model `loadtest`"
    reasons = {i.offering: i.reason for i in plan.workload("api").ineligible}
    assert reasons["aws.m7g.xlarge@us-east-1"].startswith(
        "latency model `loadtest` gives no capacity"
    )


class CountCheck:
    code = "W9001"
    name = "count-workloads"

    def run(self, plan: Plan) -> list[Diagnostic]:
        return [warning(self.code, f"{len(plan.workloads)} workload(s)")]


class BrokenCheck:
    code = "W9002"
    name = "broken"

    def run(self, plan: Plan) -> list[Diagnostic]:
        raise KeyError("owner")


def test_plugin_checks_run_after_the_builtins_and_never_break_the_build() -> None:
    text = BASE.replace("  headroom   = 30%\n", "  headroom   = 10%\n")
    plan = ok(text, checks=[CountCheck(), BrokenCheck()])
    codes = [d.code for d in plan.warnings]
    assert codes == ["W0002", "W9001", "W0099"]
    assert plan.warnings[-1].message == "check `broken` failed: KeyError: 'owner'"


# --------------------------------------------------------------------------- composition


def test_imports_merge_catalogs_and_workloads(tmp_path: Path) -> None:
    (tmp_path / "teams").mkdir()
    (tmp_path / "teams" / "search.cap").write_text(
        """
service search {
  unit     = request
  baseline = 500 request/s
  runs on aws.c7g.* { throughput = 400 request/s }
}
"""
    )
    text = BASE + 'import "teams/search.cap"\n'
    plan = ok(text, tmp_path=tmp_path)
    assert [w.name for w in plan.workloads] == ["api", "search"]
    assert plan.settings["search.baseline"].span is not None
    assert plan.settings["search.baseline"].span.file.endswith("teams/search.cap")


def test_let_constants_and_arithmetic_in_settings() -> None:
    text = BASE.replace(
        "unit request\n",
        "unit request, user\nlet users = 40k user\nlet per_user = 0.05 request/s/user\n",
    )
    text = text.replace("baseline = 2k request/s", "baseline = users * per_user")
    plan = ok(text)
    feb = plan.demand[1]  # exactly four weeks: the mean is the baseline
    assert sum(feb.hourly["api"]) / feb.hours == pytest.approx(2000)


def test_csv_monthly_table_relative_to_the_plan(tmp_path: Path) -> None:
    (tmp_path / "forecast.csv").write_text("month,api\n2027-02,3000\n2027-03,\n")
    text = BASE.replace(
        '  diurnal  = "business"\n',
        '  monthly = csv("forecast.csv", column = "api", unit = "request/s")\n',
    )
    plan = ok(text, tmp_path=tmp_path)
    assert [m.blocks[0].level["api"] for m in plan.demand[:3]] == pytest.approx([2000, 3000, 2000])


def test_plan_json_is_what_check_emit_plan_prints() -> None:
    plan = ok(BASE)
    text = plan.model_dump_json()
    assert '"settings"' in text and '"demand"' in text and '"_variant"' not in text


def test_a_crashing_resolver_is_a_diagnostic_not_a_traceback() -> None:
    from capdsl.lang import parse_file
    from capdsl.model import build

    def resolve(source: str, query: object) -> object:
        raise KeyError("price")

    parsed = parse_file("<string>", text=BASE)
    plan, diags = build(parsed, resolve=resolve)  # type: ignore[arg-type]
    assert plan is None
    assert [d.code for d in diags] == ["E0504"]
    assert diags[0].message == "pricing source `fixture` crashed: KeyError: 'price'"


def test_hours_per_month_sets_the_billed_hours() -> None:
    plan = ok(
        BASE.replace("  horizon = 6 months\n", "  horizon = 6 months\n  hours_per_month = 720 h\n")
    )
    assert plan.hours_per_month == 720
    for month in plan.demand:
        assert sum(b.billed_hours for b in month.blocks) == pytest.approx(720)
        assert month.hour_weight == pytest.approx(720 / month.hours)
