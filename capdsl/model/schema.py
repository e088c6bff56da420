"""The schema: which blocks and settings a plan may contain, and what each one expects.

docs/language.md section 2 as data. The grammar is generic (``kind label... { items }``);
this table gives the blocks meaning. From it come, for free:

- "unknown block / setting" errors with "did you mean" (``capdsl.model.tree.validate``);
- "missing required setting" errors;
- the expected dimension or type of every value (``capdsl.model.values`` converts and
  reports "`headroom` expects a percentage, got a duration `30 ms`");
- the override paths a ``scenario`` may name (``capdsl.model.scenario``).

A ``SettingSpec.kind`` names a converter of ``capdsl.model.values``; ``expects`` is its
wording in diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LabelRule = Literal[
    "none",  # commitments { }, spot { }
    "name",  # service recs { }: one bare name
    "optional_name",  # budget { } or budget team_ml { }
    "string",  # plan "shop" { }, event "annual sale" { }, offering "rack.large" { }
    "catalog",  # catalog aws from "bundled" { } or catalog dc { }
    "runs_on",  # runs on aws.c7g.*, aws.m7g.* { }
    "offering",  # reserved aws.c7g.2xlarge { } (fleet)
    "glob",  # price c7g.* { } / price "c7g.*" { }
]


@dataclass(frozen=True)
class SettingSpec:
    """One setting. ``kind`` selects the converter; ``expects`` is the wording in errors."""

    kind: str
    expects: str
    required: bool = False
    default: str | None = None  # as documented (for docs and error help)
    choices: tuple[str, ...] = ()  # for enum kinds
    comparison: bool = False  # may be written as a comparison (``monthly <= $60k``)
    doc: str = ""


@dataclass(frozen=True)
class BlockSpec:
    kind: str
    labels: LabelRule
    settings: dict[str, SettingSpec] = field(default_factory=dict)
    children: dict[str, BlockSpec] = field(default_factory=dict)
    repeatable: bool = True
    open_settings: bool = False  # catalogs pass unknown string settings to their source
    doc: str = ""

    def knows(self, key: str) -> bool:
        return key in self.settings or key in self.children


def S(kind: str, expects: str, **kw: object) -> SettingSpec:
    return SettingSpec(kind, expects, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- leaf blocks

RESERVED_PRICE = BlockSpec(
    "reserved",
    "none",
    {
        "term": S("term", "a term (`1y` or `3y`)", required=True),
        "payment": S(
            "enum",
            "a payment option",
            required=True,
            choices=("no_upfront", "partial_upfront", "all_upfront"),
        ),
        "class": S(
            "enum", "an offering class", default="standard", choices=("standard", "convertible")
        ),
        "hourly": S("money_per_hour", "a price per hour (`$0.55/h`)", default="$0/h"),
        "upfront": S("money", "an amount (`$9k`)", default="$0"),
    },
    doc="a reserved / committed-use price: term, payment option, hourly and upfront parts",
)

PRICE = BlockSpec(
    "price",
    "glob",
    {
        "on_demand": S("money_per_hour", "a price per hour (`$0.25/h`)"),
        "spot": S("money_per_hour", "a price per hour (`$0.08/h`)"),
        "discount": S("fraction", "a percentage (`15%`)"),
    },
    {"reserved": RESERVED_PRICE},
    doc="negotiated rates for the instance types matching a glob",
)

OFFERING = BlockSpec(
    "offering",
    "string",
    {
        "region": S("string", 'a region (`"dc-east"`)', required=True),
        "zones": S("strings", "a list of zones"),
        "vcpu": S("int", "a number of vCPUs", required=True),
        "memory": S("memory", "an amount of memory (`128 GiB`)", required=True),
        "arch": S("enum", "an architecture", default="x86_64", choices=("x86_64", "arm64")),
        "family": S("string", "a family name"),
        "gpu": S("string", 'a GPU model (`"l4"`)'),
        "gpu_count": S("number", "a number of GPUs", default="0"),
        "gpu_memory": S("memory", "an amount of memory per GPU (`24 GiB`)"),
        "on_demand": S("money_per_hour", "a price per hour (`$0.80/h`)"),
        "spot": S("money_per_hour", "a price per hour (`$0.30/h`)"),
        "spot_interruption": S("fraction", "a percentage (`5%`)"),
    },
    {"reserved": RESERVED_PRICE},
    doc="an inline offering (private cloud, custom price book)",
)

CATALOG = BlockSpec(
    "catalog",
    "catalog",
    {
        "provider": S("string", 'a provider name (`"aws"`)'),
        "regions": S("strings", 'a list of regions (`["us-east-1"]`)'),
        "zones": S("strings", "a list of zones"),
        "families": S("strings", 'a list of family globs (`["c7g", "m7*"]`)'),
        "types": S("strings", "a list of instance type globs"),
        "arch": S("strings", 'an architecture (`"arm64"`) or a list'),
        "gpus": S("strings", 'a list of GPU models (`["h100"]`)'),
        "discount": S("fraction", "a percentage (`12%`)", default="0%"),
    },
    {"price": PRICE, "offering": OFFERING},
    open_settings=True,
    doc="a named set of offerings from a pricing source, or inline",
)

PLAN = BlockSpec(
    "plan",
    "string",
    {
        "start": S("month", "a month (`2027-01`)", required=True),
        "horizon": S("months", "a number of months (`24 months` or `2 years`)", required=True),
        "currency": S("string", 'a currency code (`"USD"`)', default='"USD"'),
        "hours_per_month": S("hours", "a number of hours (`730 h`)", default="730 h"),
        "plan_for": S("scenario", "a scenario name"),
        "blocks": S("int", "a number of demand blocks per month", default="12"),
        "block_overhead": S("fraction", "a percentage (`2%`)", default="2%"),
    },
    repeatable=False,
    doc="the plan header (exactly one)",
)

QUOTA = BlockSpec(
    "quota",
    "name",
    {
        "on": S("globs", "a list of offering globs (`[aws.p5.*]`)", required=True),
        "region": S("string", 'a region (`"us-east-1"`)'),
        "max": S(
            "quota_max",
            "a count of `instance`, `vcpu` or `gpu` (`64 gpu`)",
            required=True,
            comparison=True,
        ),
    },
    doc="at most this many running instances / vCPUs / GPUs at any time",
)

FLEET_RESERVED = BlockSpec(
    "reserved",
    "offering",
    {
        "count": S("int", "a number of instances", required=True),
        "until": S("month_or_date", "a month or date (`2027-09`)", required=True),
        "zone": S("string", 'a zone (`"use1-az1"`)'),
        "region": S("string", "a region (needed when the catalog has several)"),
        "since": S("month_or_date", "a month or date"),
        "hourly": S("money_per_hour", "a price per hour (`$0.12/h`)", default="$0/h"),
    },
    doc="a reservation already owned",
)

FLEET = BlockSpec(
    "fleet", "none", {}, {"reserved": FLEET_RESERVED}, doc="reservations already owned"
)

COMMITMENTS = BlockSpec(
    "commitments",
    "none",
    {
        "terms": S("terms", "a list of terms (`[1y, 3y]`)", default="[1y, 3y]"),
        "payments": S(
            "enums",
            "a list of payment options",
            default="[no_upfront, partial_upfront, all_upfront]",
            choices=("no_upfront", "partial_upfront", "all_upfront"),
        ),
        "class": S(
            "enums",
            "a list of offering classes",
            default="[standard]",
            choices=("standard", "convertible"),
        ),
        "max": S("money_rate", "a spend rate (`$40/h` or `$30k/month`)", comparison=True),
        "lead_time": S("months", "a number of months (`2 months`)", default="0 months"),
        "beyond_horizon": S(
            "enum", "a pricing rule", default="amortize", choices=("amortize", "full")
        ),
    },
    repeatable=False,
    doc="which reservations may be bought",
)

BUDGET = BlockSpec(
    "budget",
    "optional_name",
    {
        "monthly": S("money_per_month", "an amount per month (`$60k`)", comparison=True),
        "total": S("money", "an amount (`$1.2M`)", comparison=True),
        "workloads": S("workloads", "a list of workloads (`[recs, search]`)"),
        "team": S("string", 'a team (`"ml"`)'),
        "mode": S("enum", "a budget mode", default="hard", choices=("hard", "soft")),
        "penalty": S("multiplier", "a multiplier (`1.5x`)", default="1x"),
        "alert": S("fraction", "a percentage (`90%`)"),
    },
    doc="monthly / total spending caps, plan-wide or scoped",
)

SPOT = BlockSpec(
    "spot",
    "none",
    {
        "max": S("fraction", "a percentage (`40%`)", default="100%"),
        "per_pool": S("fraction", "a percentage (`15%`)", default="100%"),
        "max_interruption": S("fraction", "a percentage (`10%`)", default="100%"),
    },
    repeatable=False,
    doc="spot policy",
)

RUNS_ON = BlockSpec(
    "runs",
    "runs_on",
    {
        "throughput": S("throughput", "a rate (`1200 prediction/s`, `120 prediction/s per vcpu`)"),
        "service_time": S("duration", "a duration (`9 ms`)"),
        "concurrency": S(
            "concurrency",
            "a number of slots (`1 per vcpu`, `4 per gpu`, `8`)",
            default="1 per vcpu",
        ),
        "memory": S("memory", "an amount of memory (`16 GiB`)"),
        "gpu_memory": S("memory", "an amount of GPU memory (`40 GiB`)"),
        "arch": S("strings", 'an architecture (`"arm64"`) or a list'),
        "gpus": S("strings", 'a list of GPU models (`["h100"]`)'),
        "prompt_cache": S("multiplier", "a multiplier (`2.5x`)", default="1x"),
        "latency_model": S("string", 'a latency model name (`"loadtest"`)'),
    },
    {"model_options": BlockSpec("model_options", "none", open_settings=True, repeatable=False)},
    doc="eligible offerings and what one instance does",
)

RATE_EVENT = BlockSpec(
    "event",
    "string",
    {
        "from": S("datetime", "a date (`2027-11-24` or `2027-11-24T18:00`)", required=True),
        "for": S("duration", "a duration (`72 h`)", required=True),
        "scale": S("multiplier", "a multiplier (`4x`)", required=True),
        "repeat": S("enum", "a repetition", choices=("yearly", "once"), default="once"),
    },
    doc="a dated event multiplying demand",
)

WORK_EVENT = BlockSpec(
    "event",
    "string",
    {
        "month": S("month", "a month (`2027-06`)", required=True),
        "work": S("work_amount", "an amount of work (`20k gpu_hour`)", required=True),
    },
    doc="one-time extra work in a month",
)

_COMMON = {
    "unit": S("unit", "a count unit (`prediction`)", required=True),
    "team": S("string", 'a team (`"ml"`)'),
    "regions": S("strings", "a list of regions"),
    "zones": S("strings", "a list of zones"),
    "redundancy": S("redundancy", "a redundancy (`N+1`)", default="N+0"),
    "survive": S("survive", "a failure domain count (`1 zone`, `1 region`)"),
    "headroom": S("ratio", "a percentage (`30%`)", default="0%"),
    "max_utilization": S("fraction", "a percentage (`80%`)"),
    "min_replicas": S("int", "a number of instances"),
    "min_replicas_per_zone": S("int", "a number of instances"),
    "availability": S("fraction", "a percentage (`99.9%`)"),
    "spot": S("bool", "`false` or a `spot { }` block"),
    "growth": S("growth", "a growth rate (`3% per month`)", default="0% per month"),
    "seasonality": S("factors12", "12 monthly factors"),
}

_RATE = {
    "baseline": S("rate", "a rate (`45M prediction/day`)", required=True),
    "peak_to_average": S("multiplier", "a multiplier (`2.5x`)"),
    "peak": S("rate", "a rate (`1200 prediction/s`)"),
    "p95": S("rate", "a rate (`1000 prediction/s`)"),
    "diurnal": S("shape24", 'a daily shape (`"retail"`) or 24 factors', default='"flat"'),
    "weekly": S("shape7", 'a weekly shape (`"weekday"`) or 7 factors', default='"flat"'),
    "monthly": S("table", '`csv("file.csv", column = "name")`'),
    "cache_hit": S("fraction", "a percentage (`35%`)", default="0%"),
}

_RATE_CHILDREN = {"runs": RUNS_ON, "spot": SPOT, "event": RATE_EVENT}

MIX = BlockSpec(
    "mix",
    "name",
    {
        "share": S("fraction", "a percentage (`40%`)", required=True),
        **{k: v for k, v in _COMMON.items() if k != "unit"},
        "cache_hit": _RATE["cache_hit"],
        "latency": S("latency", "a latency target (`latency p95 < 80 ms`)", comparison=True),
    },
    {"runs": RUNS_ON, "spot": SPOT},
    doc="a traffic-mix share: a sub-workload with its own offerings",
)

SERVICE = BlockSpec(
    "service",
    "name",
    {
        **_COMMON,
        **_RATE,
        "latency": S("latency", "a latency target (`latency p95 < 80 ms`)", comparison=True),
    },
    {**_RATE_CHILDREN, "mix": MIX},
    doc="a request-serving workload with a latency SLO",
)

STREAM = BlockSpec(
    "stream",
    "name",
    {**_COMMON, **_RATE, "burst": S("multiplier", "a multiplier (`3x`)", default="1x")},
    dict(_RATE_CHILDREN),
    doc="an event stream planned at its burst rate",
)

BATCH = BlockSpec(
    "batch",
    "name",
    {
        **_COMMON,
        "work": S("work", "an amount of work per month (`1200 gpu_hour per month`)", required=True),
        "monthly": S("table", '`csv("file.csv", column = "name")`'),
        "deadline": S("duration", "a duration (`5 days`)"),
        "interruptible": S("bool", "`true` or `false`", default="true"),
        "checkpoint_overhead": S("fraction", "a percentage (`10%`)", default="0%"),
    },
    {"runs": RUNS_ON, "spot": SPOT, "event": WORK_EVENT},
    doc="a work volume per month (GPU- or vCPU-hours)",
)

SCENARIO = BlockSpec("scenario", "name", open_settings=True, doc="named overrides of settings")

TOP: dict[str, BlockSpec] = {
    b.kind: b
    for b in (PLAN, CATALOG, QUOTA, FLEET, COMMITMENTS, BUDGET, SERVICE, STREAM, BATCH, SCENARIO)
}

WORKLOAD_KINDS = ("service", "stream", "batch")

# Settings of ``runs on`` that a scenario may set for every ``runs on`` block of a workload
# at once (``recs.service_time = 12 ms``).
RUNS_SHORTHAND = tuple(RUNS_ON.settings)
