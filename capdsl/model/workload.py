"""Workloads: what each service / stream / batch needs, and what each offering does for it.

For every workload (and every traffic-mix share ``chat.small``, which inherits its parent's
settings unless it sets its own) this pass builds the ``Workload`` of the plan:

- ``capacities``: per eligible offering, the rate one instance sustains at the SLO
  (``capdsl.model.latency``), the zones placement allows, and the zones where spot is
  eligible (spot prices exist there, the policy allows spot, and the pool's interruption
  bucket is within ``max_interruption``; an unknown interruption rate counts as above a
  limit below 100%);
- ``ineligible``: the offerings ``runs on`` names that cannot serve, with the reason;
- redundancy and SLA settings as numbers (``N+1`` -> 1, ``survive = 1 zone`` -> 1);
- the demand description (``capdsl.model.demand``) for the hourly compiler.

Contradictions found here are errors at the offending setting: a latency target no offering
meets even idle (E0403, with the best idle percentile), no eligible offering at all (E0404),
``survive`` with too few zones or regions (E0405), mix shares that do not add up (E0408), an
impossible peak shape (E0407).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Label, did_you_mean, error, warning
from capdsl.model.catalogs import Catalog, resolve_glob
from capdsl.model.demand import Event, RateDemand, WorkDemand
from capdsl.model.latency import (
    CapacityResult,
    CapacitySpec,
    LatencyModel,
    batch_capacity,
    idle_percentile,
    instance_capacity,
)
from capdsl.model.plan import (
    BatchSpec,
    Capacity,
    Ineligible,
    LatencySLO,
    PlanOffering,
    QueueModel,
    SpotPolicy,
    Workload,
)
from capdsl.model.shapes import DAILY, DEFAULT_PEAKED, WEEKLY, shape_to_peak
from capdsl.model.tree import Entry, Section
from capdsl.model.values import Reader


@dataclass
class BuiltWorkload:
    workload: Workload
    section: Section
    chain: tuple[Section, ...]
    rate: RateDemand | None = None
    work: WorkDemand | None = None
    offerings: dict[str, PlanOffering] = field(default_factory=dict)


class Chain:
    """A workload's settings: its own section first, then (for a mix) its parent's."""

    def __init__(self, reader: Reader, sections: Sequence[Section], unit: str | None = None):
        self.reader = reader
        self.sections = tuple(sections)
        self.unit = unit

    def section_with(self, key: str) -> Section | None:
        for sec in self.sections:
            if key in sec.entries and key in sec.spec.settings:
                return sec
        return None

    def entry(self, key: str) -> Entry | None:
        sec = self.section_with(key)
        return sec.entries[key] if sec else None

    def get(self, key: str, default: Any = None) -> Any:
        sec = self.section_with(key)
        if sec is None:
            return default
        value = self.reader.get(sec, key, unit=self.unit if _needs_unit(sec, key) else None)
        return default if value is None else value

    def child(self, kind: str) -> Section | None:
        for sec in self.sections:
            found = sec.child(kind)
            if found is not None:
                return found
        return None

    def children(self, kind: str) -> list[Section]:
        for sec in self.sections:
            found = sec.all(kind)
            if found:
                return found
        return []

    @property
    def own(self) -> Section:
        return self.sections[0]


def _needs_unit(sec: Section, key: str) -> bool:
    from capdsl.model.values import UNIT_KINDS

    spec = sec.spec.settings.get(key)
    return spec is not None and spec.kind in UNIT_KINDS


# --------------------------------------------------------------------------- capacity spec


def capacity_spec(runs: Section, reader: Reader, unit: str) -> CapacitySpec:
    throughput = reader.get(runs, "throughput", unit=unit)
    concurrency = reader.get(runs, "concurrency") or (1.0, "vcpu")
    options = runs.child("model_options")
    opts: tuple[tuple[str, str], ...] = ()
    if options is not None:
        opts = tuple((k, _option_text(e.value)) for k, e in options.entries.items())
    return CapacitySpec(
        throughput=throughput[0] if throughput else None,
        throughput_basis=throughput[1] if throughput else "instance",
        service_time_s=reader.get(runs, "service_time"),
        concurrency=concurrency[0],
        concurrency_basis=concurrency[1],
        prompt_cache=reader.get(runs, "prompt_cache") or 1.0,
        min_memory_gib=reader.get(runs, "memory"),
        min_gpu_memory_gib=reader.get(runs, "gpu_memory"),
        arch=tuple(reader.get(runs, "arch") or ()),
        gpus=tuple(g.lower() for g in (reader.get(runs, "gpus") or ())),
        latency_model=reader.get(runs, "latency_model"),
        model_options=opts,
    )


def _option_text(expr: ast.Expr) -> str:
    if isinstance(expr, ast.String):
        return expr.value
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Bool):
        return "true" if expr.value else "false"
    return str(getattr(expr, "text", ""))


# --------------------------------------------------------------------------- the builder


class WorkloadBuilder:
    def __init__(
        self,
        reader: Reader,
        catalogs: Mapping[str, Catalog],
        latency_models: Mapping[str, LatencyModel],
    ):
        self.reader = reader
        self.catalogs = dict(catalogs)
        self.models = latency_models
        self.diagnostics: list[Diagnostic] = []

    def report(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    # ------------------------------------------------------------------ entry point

    def build(self, section: Section) -> list[BuiltWorkload]:
        unit = self.reader.get(section, "unit")
        if unit is None:
            return []
        mixes = section.all("mix")
        if not mixes:
            built = self.one(section.name or "", section.kind, (section,), unit, share=1.0)
            return [built] if built else []
        if not self.shares_add_up(section, mixes):
            return []
        out = []
        for mix in mixes:
            share = self.reader.get(mix, "share") or 0.0
            built = self.one(
                f"{section.name}.{mix.name}",
                section.kind,
                (mix, section),
                unit,
                share=share,
                parent=section.name,
            )
            if built:
                out.append(built)
        return out

    def shares_add_up(self, section: Section, mixes: list[Section]) -> bool:
        shares = [self.reader.get(m, "share") for m in mixes]
        known = [s for s in shares if s is not None]
        if len(known) < len(shares):
            return False
        total = sum(known)
        if abs(total - 1.0) > 1e-9:
            self.report(
                error(
                    "E0408",
                    f"mix shares of `{section.name}` add up to {total * 100:g}%, not 100%",
                    mixes[0].kind_span,
                    labels=tuple(
                        Label(m.entries["share"].value_span, f"{m.name}")
                        for m in mixes
                        if "share" in m.entries
                    ),
                    help="every request goes to exactly one mix: make the shares add up to 100%",
                )
            )
            return False
        return True

    def one(
        self,
        name: str,
        kind: str,
        sections: tuple[Section, ...],
        unit: str,
        *,
        share: float,
        parent: str | None = None,
    ) -> BuiltWorkload | None:
        chain = Chain(self.reader, sections, unit)
        slo = chain.get("latency") if kind == "service" else None
        latency = LatencySLO(percentile=slo[0], target_s=slo[1]) if slo else None
        batch = self.batch_spec(chain, unit) if kind == "batch" else None
        spot = self.spot_policy(chain, batch)
        regions = tuple(chain.get("regions", ()))
        zones = tuple(chain.get("zones", ()))
        capacities, ineligible, offerings = self.capacities(
            name, kind, chain, unit, latency, spot, regions, zones
        )
        if not capacities:
            self.no_capacity(name, chain, latency, ineligible)
            self.read_rest(name, kind, chain, share)
            return None
        survive = chain.get("survive")
        workload = Workload(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            unit=unit,
            parent=parent,
            team=chain.get("team"),
            capacities=tuple(capacities),
            ineligible=tuple(ineligible),
            headroom=chain.get("headroom", 0.0),
            burst=chain.get("burst", 1.0) if kind == "stream" else 1.0,
            max_utilization=chain.get("max_utilization"),
            redundancy=chain.get("redundancy", 0),
            survive_zones=survive[0] if survive and survive[1] == "zone" else 0,
            survive_regions=survive[0] if survive and survive[1] == "region" else 0,
            min_replicas=chain.get("min_replicas", 0),
            min_replicas_per_zone=chain.get("min_replicas_per_zone", 0),
            regions=regions,
            spot=spot,
            latency=latency,
            availability=chain.get("availability"),
            batch=batch,
        )
        self.check_redundancy(workload, chain)
        self.check_utilization(workload, chain)
        built = BuiltWorkload(workload, sections[0], sections, offerings=offerings)
        if kind == "batch":
            built.work = self.work_demand(name, chain)
        else:
            built.rate = self.rate_demand(name, kind, chain, share)
        return built

    def read_rest(self, name: str, kind: str, chain: Chain, share: float) -> None:
        """Read the settings of a workload that cannot be built, only for their diagnostics:
        one run of `capdsl check` reports every error of the file."""
        for key in (
            "team", "headroom", "max_utilization", "redundancy", "survive", "min_replicas",
            "min_replicas_per_zone", "availability",
        ):  # fmt: skip
            chain.get(key)
        if kind == "stream":
            chain.get("burst")
        if kind == "batch":
            self.work_demand(name, chain)
        else:
            self.rate_demand(name, kind, chain, share)

    # ------------------------------------------------------------------ settings

    def seasonality(self, chain: Chain, name: str) -> Any:
        """The 12 monthly factors. They are relative (normalised to an average of 1), so the
        same factor in every month is no seasonality at all: a plan that writes
        ``[1.9, 1.9, ...]`` to mean "1.9x all year" gets W0012 instead of a silent 1x."""
        factors = chain.get("seasonality")
        if factors:
            values = [float(f) for f in factors]
            if max(values) - min(values) < 1e-12 and abs(values[0] - 1.0) > 1e-12:
                entry = chain.entry("seasonality")
                self.report(
                    warning(
                        "W0012",
                        f"`seasonality` of `{name}` is {values[0]:g} in every month, which is "
                        "the same as no seasonality: the factors are relative (normalised to an "
                        "average of 1)",
                        entry.value_span if entry is not None else None,
                        help=f"to scale the whole year, scale `baseline` (x{values[0]:g}) and "
                        "leave the factors at 1",
                    )
                )
        return factors

    def batch_spec(self, chain: Chain, unit: str) -> BatchSpec:
        deadline = chain.get("deadline")
        if deadline is not None and deadline / 3600.0 > 672:
            entry = chain.entry("deadline")
            assert entry is not None
            self.report(
                error(
                    "E0402",
                    "`deadline` is longer than the shortest month (672 h)",
                    entry.value_span,
                    help="a deadline is within a month: `5 days`; leave it out to spread work over the month",
                )
            )
            deadline = None
        return BatchSpec(
            work_unit=unit,
            deadline_hours=deadline / 3600.0 if deadline is not None else None,
            interruptible=chain.get("interruptible", True),
            checkpoint_overhead=chain.get("checkpoint_overhead", 0.0),
        )

    def spot_policy(self, chain: Chain, batch: BatchSpec | None) -> SpotPolicy:
        flag = chain.get("spot")
        block = chain.child("spot")
        allowed = flag is not False and (batch is None or batch.interruptible)
        if block is None:
            return SpotPolicy(allowed=allowed)
        limit = self.reader.get(block, "max_interruption")
        return SpotPolicy(
            allowed=allowed,
            max_share=self.reader.get(block, "max"),
            per_pool=self.reader.get(block, "per_pool"),
            max_interruption=limit * 100 if limit is not None else None,
        )

    # ------------------------------------------------------------------ capacities

    def capacities(
        self,
        name: str,
        kind: str,
        chain: Chain,
        unit: str,
        latency: LatencySLO | None,
        spot: SpotPolicy,
        regions: tuple[str, ...],
        zones: tuple[str, ...],
    ) -> tuple[list[Capacity], list[Ineligible], dict[str, PlanOffering]]:
        runs_blocks = chain.children("runs")
        if not runs_blocks:
            self.report(
                error(
                    "E0313",
                    f"{kind} `{name}` has no `runs on` block",
                    chain.own.kind_span,
                    label="runs on nothing",
                    help="say where it runs and what one instance does: `runs on aws.c7g.* { throughput = ... }`",
                )
            )
            return [], [], {}
        chosen: dict[str, tuple[PlanOffering, CapacitySpec, Section]] = {}
        for runs in runs_blocks:
            spec = capacity_spec(runs, self.reader, unit)
            if not self.spec_is_usable(name, kind, runs, spec, latency):
                continue
            for label in runs.labels[1:]:
                found, problem = resolve_glob(label, self.catalogs)
                if problem:
                    self.report(problem)
                for po in found:
                    chosen.setdefault(po.id, (po, spec, runs))
        capacities: list[Capacity] = []
        ineligible: list[Ineligible] = []
        offerings: dict[str, PlanOffering] = {}
        for po, spec, _runs in chosen.values():
            offerings[po.id] = po
            reason, allowed = self.placement(po, regions, zones)
            if reason:
                ineligible.append(Ineligible(offering=po.id, reason=reason))
                continue
            result = self.capacity(name, kind, po, spec, unit, latency)
            if result.per_instance <= 0:
                ineligible.append(Ineligible(offering=po.id, reason=result.reason))
                continue
            capacities.append(
                Capacity(
                    offering=po.id,
                    per_instance=result.per_instance,
                    zones=allowed,
                    spot_zones=self.spot_zones(po, allowed, spot),
                    basis=result.basis,
                    queue=_queue_model(result),
                )
            )
        return capacities, ineligible, offerings

    def spec_is_usable(
        self, name: str, kind: str, runs: Section, spec: CapacitySpec, latency: LatencySLO | None
    ) -> bool:
        if spec.latency_model is not None:
            if spec.latency_model not in self.models:
                entry = runs.entries["latency_model"]
                known = sorted(self.models)
                self.report(
                    error(
                        "E0315",
                        f"unknown latency model `{spec.latency_model}`",
                        entry.value_span,
                        label="no plugin registers this model",
                        help=did_you_mean(spec.latency_model, known)
                        or (
                            f"latency models: {', '.join(known)}"
                            if known
                            else "install the plugin that provides it (`capdsl plugins --all`)"
                        ),
                    )
                )
                return False
            return True
        if kind == "batch":
            if spec.service_time_s is not None:
                self.report(
                    error(
                        "E0405",
                        f"batch `{name}` has a `service_time`, which only sizes request-serving workloads",
                        runs.entries["service_time"].span,
                        label="no latency target applies to batch work",
                        help="batch capacity is GPU or vCPU hours per instance; give `throughput` to override",
                    )
                )
                return False
            return True
        if spec.throughput is None and spec.service_time_s is None:
            self.report(
                error(
                    "E0313",
                    f"`runs on` of `{name}` says nothing about capacity",
                    runs.kind_span,
                    label="needs `throughput` or `service_time`",
                    help="measured: `throughput = 1200 prediction/s`; or queueing: `service_time = 9 ms`",
                )
            )
            return False
        if spec.service_time_s is not None and latency is None:
            entry = runs.entries["service_time"]
            if kind == "stream":
                self.report(
                    error(
                        "E0405",
                        f"stream `{name}` has a `service_time`, but streams have no latency target",
                        entry.span,
                        label="capacity at which latency?",
                        help="size a stream by measured `throughput` (`900 event/s per vcpu`) and plan bursts with `burst`",
                    )
                )
                return False
            self.report(
                error(
                    "E0313",
                    f"`{name}` has a `service_time` but no latency target",
                    entry.span,
                    label="capacity at which latency?",
                    help="add a target to the workload: `latency p95 < 80 ms` (or give a measured `throughput`)",
                )
            )
            return False
        return True

    def placement(
        self, po: PlanOffering, regions: tuple[str, ...], zones: tuple[str, ...]
    ) -> tuple[str, tuple[str, ...]]:
        if regions and po.offering.region not in regions:
            return f"region {po.offering.region} is not in the workload's regions", ()
        allowed = tuple(z for z in po.zones if not zones or z in zones)
        if not allowed:
            return f"none of its zones ({', '.join(po.zones)}) is in the workload's zones", ()
        return "", allowed

    def capacity(
        self,
        name: str,
        kind: str,
        po: PlanOffering,
        spec: CapacitySpec,
        unit: str,
        latency: LatencySLO | None,
    ) -> CapacityResult:
        model = self.models.get(spec.latency_model) if spec.latency_model else None
        if kind == "batch" and model is None:
            return batch_capacity(spec, po.offering, unit)
        return instance_capacity(
            spec,
            po.offering,
            percentile=latency.percentile if latency else None,
            target_s=latency.target_s if latency else None,
            model=model,
            workload=name,
            unit=unit,
        )

    def spot_zones(
        self, po: PlanOffering, allowed: tuple[str, ...], policy: SpotPolicy
    ) -> tuple[str, ...]:
        if not policy.allowed:
            return ()
        limit = policy.max_interruption
        if limit is not None and limit < 100:
            rate = po.offering.spot_interruption
            if rate is None or rate > limit + 1e-9:
                return ()
        return tuple(z for z in allowed if z in po.offering.spot_hourly)

    def no_capacity(
        self, name: str, chain: Chain, latency: LatencySLO | None, ineligible: list[Ineligible]
    ) -> None:
        if not ineligible:
            return  # nothing matched: the glob errors say why
        slow = [i for i in ineligible if " of an idle " in i.reason]
        entry = chain.entry("latency")
        if latency is not None and slow and entry is not None and len(slow) == len(ineligible):
            self.report(self.impossible_latency(name, latency, entry, chain))
            return
        notes = tuple(f"{i.offering}: {i.reason}" for i in ineligible[:6])
        if len(ineligible) > 6:
            notes += (f"... and {len(ineligible) - 6} more",)
        runs = chain.children("runs")
        self.report(
            error(
                "E0404",
                f"no offering can run `{name}`",
                runs[0].kind_span if runs else chain.own.kind_span,
                label="every offering named here is ineligible",
                notes=notes,
                help="widen `runs on`, or relax the requirements listed above",
            )
        )

    def impossible_latency(
        self, name: str, latency: LatencySLO, entry: Entry, chain: Chain
    ) -> Diagnostic:
        best = None
        for runs in chain.children("runs"):
            st = self.reader.get(runs, "service_time")
            if st is not None:
                idle = idle_percentile(st, latency.percentile)
                best = idle if best is None else min(best, idle)
        pct = f"p{latency.percentile * 100:g}"
        note: tuple[str, ...] = ()
        if best is not None:
            note = (
                f"an idle instance answers in {best * 1000:.1f} ms at {pct}: the service time alone is too slow",
            )
        return error(
            "E0403",
            f"latency target `{pct} < {latency.target_s * 1000:g} ms` of `{name}` is impossible on every offering",
            entry.span,
            label="no instance meets this even when idle",
            notes=note,
            help="relax the target, or lower `service_time` (faster instances, less work per request)",
        )

    # ------------------------------------------------------------------ contradictions

    def check_redundancy(self, w: Workload, chain: Chain) -> None:
        entry = chain.entry("survive")
        if entry is None:
            return
        if w.survive_zones:
            zones = sorted({z for c in w.capacities for z in c.zones})
            if len(zones) <= w.survive_zones:
                self.report(
                    error(
                        "E0405",
                        f"`survive = {w.survive_zones} zone` needs `{w.name}` to run in at least {w.survive_zones + 1} zones",
                        entry.span,
                        label=f"its eligible offerings are only in {', '.join(zones)}",
                        help="allow more zones (workload or catalog `zones`), or drop `survive`",
                    )
                )
        if w.survive_regions:
            regions = sorted({c.offering.split("@")[-1] for c in w.capacities})
            if len(regions) <= w.survive_regions:
                self.report(
                    error(
                        "E0405",
                        f"`survive = {w.survive_regions} region` needs `{w.name}` to run in at least {w.survive_regions + 1} regions",
                        entry.span,
                        label=f"its eligible offerings are only in {', '.join(regions)}",
                        help="add regions to the catalog and the workload, or survive zones instead",
                    )
                )

    def check_utilization(self, w: Workload, chain: Chain) -> None:
        entry = chain.entry("max_utilization")
        if entry is not None and w.max_utilization == 0:
            self.report(
                error(
                    "E0402",
                    "`max_utilization` must be above 0%",
                    entry.value_span,
                    help="use a share like `70%`",
                )
            )

    # ------------------------------------------------------------------ demand

    def rate_demand(self, name: str, kind: str, chain: Chain, share: float) -> RateDemand | None:
        baseline = chain.get("baseline")
        if baseline is None:
            return None
        daily_name, daily = chain.get("diurnal", (None, None))
        weekly = chain.get("weekly", ("flat", WEEKLY["flat"]))[1]
        daily = self.peak_shaped(chain, baseline, daily_name, daily, weekly)
        if daily is None:
            return None
        factor = (
            (1.0 - chain.get("cache_hit", 0.0))
            * share
            * (chain.get("burst", 1.0) if kind == "stream" else 1.0)
        )
        return RateDemand(
            workload=name,
            baseline=baseline,
            daily=tuple(daily),
            weekly=tuple(weekly),
            growth=chain.get("growth", 0.0),
            seasonality=self.seasonality(chain, name),
            monthly=chain.get("monthly", {}),
            events=tuple(self.events(chain)),
            factor=factor,
        )

    def peak_shaped(
        self,
        chain: Chain,
        baseline: float,
        daily_name: str | None,
        daily: tuple[float, ...] | None,
        weekly: tuple[float, ...],
    ) -> tuple[float, ...] | None:
        given = [k for k in ("peak_to_average", "peak", "p95") if chain.entry(k) is not None]
        if not given:
            return daily if daily is not None else DAILY["flat"]
        entries = [chain.entry(k) for k in given]
        if len(given) > 1:
            second = entries[1]
            assert second is not None
            self.report(
                error(
                    "E0405",
                    f"both `{given[0]}` and `{given[1]}` shape the daily peak",
                    second.span,
                    labels=(Label(entries[0].span, "first here"),),  # type: ignore[union-attr]
                    help="keep one of them",
                )
            )
            return None
        key, entry = given[0], entries[0]
        assert entry is not None
        value = chain.get(key)
        if value is None:
            return None
        ratio = value if key == "peak_to_average" else value / baseline
        kind = "p95" if key == "p95" else "peak"
        if daily_name == "flat":
            self.report(
                error(
                    "E0405",
                    f'`{key}` asks for a peak but `diurnal = "flat"` has none',
                    entry.span,
                    labels=(Label(chain.entry("diurnal").span, "flat here"),),  # type: ignore[union-attr]
                    help="pick a daily shape (`retail`, `business`, `consumer`, `nightly`) or drop the peak",
                )
            )
            return None
        base = daily if daily is not None else DAILY[DEFAULT_PEAKED]
        if ratio < 1.0:
            self.report(
                error(
                    "E0407",
                    f"`{key}` is below the average rate",
                    entry.value_span,
                    label=f"{ratio:.2f}x the baseline",
                    help="a peak is at least the average (`baseline`)",
                )
            )
            return None
        try:
            shaped, _ = shape_to_peak(base, weekly, ratio, kind)
        except ValueError as exc:
            self.report(
                error(
                    "E0407",
                    f"cannot shape demand to `{key}`: {exc}",
                    entry.value_span,
                    help="pick another daily shape or a smaller peak",
                )
            )
            return None
        return tuple(float(x) for x in shaped)

    def events(self, chain: Chain) -> list[Event]:
        """Dated events of the workload (a mix inherits its parent's)."""
        by_name: dict[str, Section] = {}
        for sec in reversed(chain.sections):
            for ev in sec.all("event"):
                by_name[ev.name or ""] = ev
        out = []
        for name, sec in by_name.items():
            start = self.reader.get(sec, "from")
            hours = self.reader.get(sec, "for")
            scale = self.reader.get(sec, "scale")
            if start is None or hours is None or scale is None:
                continue
            out.append(
                Event(
                    name, start, hours / 3600.0, scale, self.reader.get(sec, "repeat") == "yearly"
                )
            )
        return out

    def work_demand(self, name: str, chain: Chain) -> WorkDemand | None:
        per_month = chain.get("work")
        if per_month is None:
            return None
        extra: dict[str, float] = {}
        for sec in chain.own.all("event"):
            month = self.reader.get(sec, "month")
            work = self.reader.get(sec, "work", unit=chain.unit)
            if month is None or work is None:
                continue
            label = f"{month[0]:04d}-{month[1]:02d}"
            extra[label] = extra.get(label, 0.0) + work
        return WorkDemand(
            workload=name,
            per_month=per_month,
            growth=chain.get("growth", 0.0),
            seasonality=self.seasonality(chain, name),
            monthly=chain.get("monthly", {}),
            extra=extra,
        )


def _queue_model(result: CapacityResult) -> QueueModel | None:
    if result.servers is None or result.service_time_s is None:
        return None
    return QueueModel(
        servers=result.servers,
        service_time_s=result.service_time_s,
        prompt_cache=result.prompt_cache,
    )
