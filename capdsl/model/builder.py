"""``build``: a parsed plan (+ catalogs) -> a validated ``Plan``, or the diagnostics why not.

The passes, in order (each a function of the previous results; every problem is a
diagnostic at its span, all collected before giving up):

1. ``tree.read_documents``: merge every document (the root and its imports) into one
   section tree; unknown blocks/settings, duplicates, missing required settings;
2. scenarios: every declared scenario's paths and values are checked; the selected one is
   applied to a copy of the tree (``scenario.apply_scenario``);
3. header (``plan``), catalogs (resolver + inline + price overrides), workloads
   (capacities at the SLO, eligibility, spot pools, redundancy), fleet, commitments,
   budgets, quotas;
4. demand: hourly demand of every month and the joint demand blocks;
5. capacity cliffs; settings index; lints (built-in, then plugin checks).

Errors return ``(None, diagnostics)``; otherwise ``(plan, warnings)`` with the warnings also
in ``Plan.warnings``. ``plan.variant(name)`` rebuilds the same parsed source for another
scenario (``None`` = the base plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from capdsl.lang import ast
from capdsl.lang.diagnostics import (
    Diagnostic,
    Label,
    Span,
    did_you_mean,
    error,
    has_errors,
    warning,
)
from capdsl.lang.quantity import UnitRegistry
from capdsl.model.blocks import CompressionOptions
from capdsl.model.catalogs import Catalog, load_catalog, resolve_glob
from capdsl.model.checks import Check, run_checks
from capdsl.model.demand import RateDemand, WorkDemand, compile_demand, months
from capdsl.model.fleet import Shortfall, build_fleet, cliff_reason, month_index, shortfalls
from capdsl.model.latency import LatencyModel
from capdsl.model.plan import (
    Budget,
    CommitmentPolicy,
    Plan,
    PlanOffering,
    Quota,
    ReservedOption,
    Setting,
    Workload,
)
from capdsl.model.scenario import apply_scenario, scenarios
from capdsl.model.schema import WORKLOAD_KINDS
from capdsl.model.tree import Entry, Section, read_documents
from capdsl.model.values import UNIT_KINDS, Reader
from capdsl.model.workload import BuiltWorkload, WorkloadBuilder
from capdsl.pricing.catalog import PAYMENTS, CatalogResolver, SourceStamp

if TYPE_CHECKING:
    from capdsl.lang.parser import ParseResult


@dataclass
class Header:
    name: str
    start: tuple[int, int]
    horizon: int
    currency: str = "USD"
    hours_per_month: float = 730.0
    plan_for: str | None = None
    compression: CompressionOptions = field(default_factory=CompressionOptions)


@dataclass
class Context:
    parsed: ParseResult
    resolve: CatalogResolver
    latency_models: Mapping[str, LatencyModel]
    checks: Sequence[Check]
    registry: UnitRegistry
    env: Mapping[str, object]
    scenario_names: tuple[str, ...]


# --------------------------------------------------------------------------- entry point


def build(
    parsed: ParseResult,
    *,
    resolve: CatalogResolver,
    scenario: str | None = None,
    latency_models: Mapping[str, LatencyModel] | None = None,
    checks: Sequence[Check] = (),
    check_scenarios: bool = True,
) -> tuple[Plan | None, list[Diagnostic]]:
    """Build the plan (or one of its scenarios) from a parsed source.

    Building the base plan (``scenario=None``) with ``check_scenarios`` also builds every
    declared scenario, so a scenario that does not build, or that a sound floor proves
    unsolvable (hard budget W0005, quota W0009), is reported now (W0010) rather than when
    someone solves it; the scenario plans are kept for ``plan.variant``. Interactive loops
    that rebuild often may pass ``check_scenarios=False``."""
    root, diags, broken = read_documents(parsed.documents)
    declared = scenarios(root)
    registry = parsed.registry or UnitRegistry()
    ctx = Context(
        parsed, resolve, latency_models or {}, checks, registry, parsed.env, tuple(declared)
    )
    diags += check_names(root)
    diags += validate_scenarios(root, declared, ctx, broken)
    if scenario is not None and scenario not in declared:
        diags.append(
            error(
                "E0310",
                f"unknown scenario `{scenario}`",
                help=did_you_mean(scenario, declared)
                or (
                    f"scenarios: {', '.join(declared)}"
                    if declared
                    else "this plan declares no scenario"
                ),
            )
        )
    if has_errors(diags) and scenario is not None:
        return None, dedupe(diags)
    # Unknown names are reported above and ignored by the readers, so the rest of the plan
    # is still checked: every error of the file in one run (values, globs, catalogs, ...).
    tree = root
    if scenario is not None:
        tree, _, _ = apply_scenario(root, declared[scenario])
    plan, more = assemble(tree, ctx, scenario)
    diags = dedupe(diags + more)
    if plan is None or has_errors(diags):
        return None, diags
    variants = Variants(parsed, resolve, latency_models, checks, {scenario: plan})
    if scenario is None and check_scenarios:
        diags += scenario_lints(declared, variants)
    plan.warnings = [d for d in diags if not d.is_error]
    plan._variant = variants
    return plan, diags


class Variants:
    """``plan.variant(name)``: builds each scenario of the same source once, and shares
    the built plans between all of them."""

    def __init__(
        self,
        parsed: ParseResult,
        resolve: CatalogResolver,
        latency_models: Mapping[str, LatencyModel] | None,
        checks: Sequence[Check],
        built: dict[str | None, Plan],
    ):
        self.args = (parsed, resolve, latency_models, checks)
        self.built = built
        self.failed: dict[str | None, list[Diagnostic]] = {}

    def attempt(self, name: str | None) -> tuple[Plan | None, list[Diagnostic]]:
        if name in self.built:
            return self.built[name], list(self.built[name].warnings)
        if name in self.failed:
            return None, self.failed[name]
        parsed, resolve, models, checks = self.args
        plan, diags = build(
            parsed,
            resolve=resolve,
            scenario=name,
            latency_models=models,
            checks=checks,
            check_scenarios=False,
        )
        if plan is None:
            self.failed[name] = diags
            return None, diags
        plan._variant = self
        self.built[name] = plan
        return plan, diags

    def __call__(self, name: str | None) -> Plan:
        from capdsl.lang.diagnostics import DiagnosticError

        plan, diags = self.attempt(name)
        if plan is None:
            raise DiagnosticError(diags)
        return plan


UNSOLVABLE = ("W0005", "W0009")


def scenario_lints(declared: Mapping[str, Section], variants: Variants) -> list[Diagnostic]:
    """W0010: a declared scenario that does not build, or that is provably unsolvable."""
    out: list[Diagnostic] = []
    for name, section in declared.items():
        _, diags = variants.attempt(name)
        errors = [d for d in diags if d.is_error]
        problems = errors or [d for d in diags if d.code in UNSOLVABLE]
        if not problems:
            continue
        first = problems[0]
        what = "does not build" if errors else "cannot be solved"
        out.append(
            warning(
                "W0010",
                f"scenario `{name}` {what}: {first.message}",
                section.kind_span,
                labels=(Label(first.span, first.label or "here"),) if first.span else (),
                notes=tuple(f"{d.code}: {d.message}" for d in problems[1:4]),
                help=f"`capdsl check --scenario {name}` shows every problem of this scenario",
            )
        )
    return out


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, object]] = set()
    out = []
    for d in diags:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


# --------------------------------------------------------------------------- names


def check_names(root: Section) -> list[Diagnostic]:
    """Workloads and catalogs share the first segment of paths: names must be unique."""
    seen: dict[str, Section] = {}
    out = []
    for sec in root.children:
        if sec.kind not in (*WORKLOAD_KINDS, "catalog") or not sec.name:
            continue
        first = seen.get(sec.name)
        if first is not None and first.kind != sec.kind:
            out.append(
                error(
                    "E0308",
                    f"`{sec.name}` names both a {first.kind} and a {sec.kind}",
                    sec.labels[0].span,
                    label="defined again here",
                    labels=(Label(first.labels[0].span, "first defined here"),),
                    help="paths like `NAME.setting` must be unambiguous: rename one of them",
                )
            )
        seen.setdefault(sec.name, sec)
    if not root.all("plan"):
        out.append(
            error(
                "E0313",
                "the plan has no `plan` block",
                None,
                help='add a header: `plan "NAME" { start = 2027-01, horizon = 24 months }`',
            )
        )
    return out


def workload_unit(tree: Section, path: str, reader: Reader) -> str | None:
    head = path.split(".", 1)[0]
    for sec in tree.children:
        if sec.kind in WORKLOAD_KINDS and sec.name == head:
            return reader.get(sec, "unit")
    return None


def validate_scenarios(
    root: Section, declared: Mapping[str, Section], ctx: Context, broken: Set[str] = frozenset()
) -> list[Diagnostic]:
    """Every scenario's override paths exist and its values fit their settings (paths into
    blocks that could not be read are already reported)."""
    out: list[Diagnostic] = []
    for section in declared.values():
        tree, problems, applied = apply_scenario(root, section)
        quiet = [e.span for e in section.entries.values() if _head(e) in broken]
        out += [d for d in problems if d.span is None or not any(_within(d.span, q) for q in quiet)]
        reader = Reader(ctx.registry, ctx.env, scenarios=ctx.scenario_names)
        for entry, target in applied:
            spec = target.section.spec.settings[target.key]
            unit = (
                workload_unit(tree, target.section.path, reader)
                if spec.kind in UNIT_KINDS
                else None
            )
            if spec.kind in UNIT_KINDS and unit is None:
                continue
            reader.convert(entry, spec, unit=unit)
        out += reader.diagnostics
    return out


def _head(entry: Entry) -> str:
    path = entry.item.key if isinstance(entry.item, ast.Attribute) else entry.item.subject
    return path.parts[0]


def _within(inner: Span, outer: Span) -> bool:
    return inner.file == outer.file and outer.start <= inner.start and inner.end <= outer.end


# --------------------------------------------------------------------------- assembly


def read_header(tree: Section, reader: Reader) -> Header | None:
    sec = tree.child("plan")
    if sec is None:
        return None
    start, horizon = reader.get(sec, "start"), reader.get(sec, "horizon")
    if start is None or horizon is None:
        return None
    if horizon < 1 or horizon > 120:
        entry = sec.entries["horizon"]
        reader.diagnostics.append(
            error(
                "E0402",
                f"`horizon` of {horizon} months is out of range",
                entry.value_span,
                help="plan 1 to 120 months ahead",
            )
        )
        return None
    overhead = reader.get(sec, "block_overhead")
    blocks = reader.get(sec, "blocks")
    options = CompressionOptions(
        target_blocks=max(1, blocks) if blocks is not None else CompressionOptions.target_blocks,
        max_overhead=overhead if overhead is not None else CompressionOptions.max_overhead,
    )
    return Header(
        name=sec.name or "",
        start=start,
        horizon=horizon,
        currency=(reader.get(sec, "currency") or "USD").upper(),
        hours_per_month=reader.get(sec, "hours_per_month") or 730.0,
        plan_for=reader.get(sec, "plan_for"),
        compression=options,
    )


def assemble(
    tree: Section, ctx: Context, scenario: str | None
) -> tuple[Plan | None, list[Diagnostic]]:
    reader = Reader(ctx.registry, ctx.env, scenarios=ctx.scenario_names)
    header = read_header(tree, reader)
    if header is None:
        return None, reader.diagnostics
    reader.hours_per_month = header.hours_per_month
    start_day = dt.date(header.start[0], header.start[1], 1)
    diags: list[Diagnostic] = []
    catalogs: dict[str, Catalog] = {}
    for sec in tree.all("catalog"):
        catalog, problems = load_catalog(sec, reader, ctx.resolve, today=start_day)
        catalogs[catalog.name] = catalog
        diags += problems
    builder = WorkloadBuilder(reader, catalogs, ctx.latency_models)
    built: list[BuiltWorkload] = []
    for sec in tree.children:
        if sec.kind in WORKLOAD_KINDS:
            built += builder.build(sec)
    diags += builder.diagnostics
    if not built and not has_errors(diags + reader.diagnostics):
        header_block = tree.child("plan")
        diags.append(
            error(
                "E0313",
                "the plan has no workload",
                header_block.kind_span if header_block else None,
                help="add a `service`, `stream` or `batch` block",
            )
        )
    fleet, fleet_offerings, problems = build_fleet(
        tree.child("fleet"), reader, catalogs, header.start
    )
    diags += problems
    workloads = [b.workload for b in built]
    commitments = read_commitments(tree.child("commitments"), reader, header)
    budgets = read_budgets(tree, reader, workloads, diags)
    quotas = read_quotas(tree, reader, catalogs, diags)
    diags += reader.diagnostics
    if has_errors(diags):
        return None, diags
    rates = [b.rate for b in built if b.rate is not None]
    works = [b.work for b in built if b.work is not None]
    diags += event_lints(built, header)
    demand, compression = compile_demand(
        rates,
        works,
        start=f"{header.start[0]:04d}-{header.start[1]:02d}",
        horizon=header.horizon,
        hours_per_month=header.hours_per_month,
        options=header.compression,
    )
    falls = shortfalls(workloads, fleet, demand, header.hours_per_month)
    workloads = [
        w.model_copy(
            update={
                "cliff_month": cliff_month(falls[w.name]),
                "cliff_reason": cliff_reason(w, falls[w.name], fleet),
            }
        )
        for w in workloads
    ]
    offerings: dict[str, PlanOffering] = {}
    for b in built:
        used = {c.offering for c in b.workload.capacities}
        offerings.update({k: v for k, v in b.offerings.items() if k in used})
    offerings.update(fleet_offerings)
    plan = Plan(
        name=header.name,
        scenario=scenario,
        scenarios=ctx.scenario_names,
        plan_for=header.plan_for,
        start=f"{header.start[0]:04d}-{header.start[1]:02d}",
        horizon=header.horizon,
        months=[
            m.label for m in months(f"{header.start[0]:04d}-{header.start[1]:02d}", header.horizon)
        ],
        currency=header.currency,
        hours_per_month=header.hours_per_month,  # type: ignore[arg-type]
        offerings=sorted(offerings.values(), key=lambda o: o.id),
        workloads=workloads,
        fleet=fleet,
        commitments=commitments,
        budgets=budgets,
        quotas=quotas,
        demand=demand,
        compression=compression,
        sources=stamps(catalogs),
        settings=settings_index(tree, ctx.parsed.sources),
        source_path=ctx.parsed.root_path or None,
    )
    diags += run_checks(plan, ctx.checks)
    return plan, diags


def cliff_month(shortfall: Shortfall | None) -> int | None:
    return shortfall.month if shortfall is not None else None


def stamps(catalogs: Mapping[str, Catalog]) -> list[SourceStamp]:
    out: list[SourceStamp] = []
    for cat in catalogs.values():
        for s in cat.stamps:
            if s not in out:
                out.append(s)
    return out


# --------------------------------------------------------------------------- policy blocks


def read_commitments(sec: Section | None, reader: Reader, header: Header) -> CommitmentPolicy:
    terms: tuple[int, ...] = (12, 36)
    payments: tuple[str, ...] = PAYMENTS
    classes: tuple[str, ...] = ("standard",)
    if sec is None:
        return CommitmentPolicy(options=options(terms, payments, classes))
    terms = reader.get(sec, "terms") if sec.has("terms") else terms
    payments = reader.get(sec, "payments") or payments
    classes = reader.get(sec, "class") or classes
    max_hourly = reader.get(sec, "max")
    lead = reader.get(sec, "lead_time") or 0
    return CommitmentPolicy(
        options=options(terms or (), payments, classes),
        max_hourly=max_hourly,
        lead_time_months=lead,
        beyond_horizon=reader.get(sec, "beyond_horizon") or "amortize",
    )


def options(
    terms: Sequence[int], payments: Sequence[str], classes: Sequence[str]
) -> tuple[ReservedOption, ...]:
    return tuple(
        ReservedOption(term_months=t, payment=p, offering_class=c)  # type: ignore[arg-type]
        for t in terms
        for p in payments
        for c in classes
    )


def read_budgets(
    tree: Section, reader: Reader, workloads: list[Workload], diags: list[Diagnostic]
) -> list[Budget]:
    out = []
    for sec in tree.all("budget"):
        scope = budget_scope(sec, reader, workloads, diags)
        if scope is None:
            continue
        monthly, total = reader.get(sec, "monthly"), reader.get(sec, "total")
        for key in ("monthly", "total"):
            entry = sec.entries.get(key)
            if entry is not None and entry.op in (">", ">="):
                diags.append(
                    error(
                        "E0401",
                        f"a budget is a cap: `{key}` cannot be a lower bound",
                        entry.span,
                        help=f"write `{key} <= ...`",
                    )
                )
        if monthly is None and total is None and not has_errors(reader.diagnostics):
            diags.append(
                error(
                    "E0313",
                    f"`{sec.path}` sets no cap",
                    sec.kind_span,
                    help="add `monthly <= $60k` or `total <= $1.2M`",
                )
            )
            continue
        out.append(
            Budget(
                name=sec.path,
                workloads=scope,
                monthly=monthly,
                total=total,
                hard=(reader.get(sec, "mode") or "hard") == "hard",
                penalty=Decimal(str(reader.get(sec, "penalty") or 1)),
                alert=reader.get(sec, "alert"),
            )
        )
    return out


def budget_scope(
    sec: Section, reader: Reader, workloads: list[Workload], diags: list[Diagnostic]
) -> tuple[str, ...] | None:
    names = {w.name for w in workloads}
    parents: dict[str, list[str]] = {}
    for w in workloads:
        if w.parent:
            parents.setdefault(w.parent, []).append(w.name)
    scope: list[str] = []
    for node in reader.get(sec, "workloads") or ():
        text = (
            node.name
            if isinstance(node, ast.Name)
            else node.text
            if isinstance(node, ast.Path)
            else node.value
        )
        if text in names:
            scope.append(text)
        elif text in parents:
            scope += parents[text]
        else:
            diags.append(
                error(
                    "E0315",
                    f"unknown workload `{text}` in `{sec.path}`",
                    node.span,
                    label="no such workload",
                    help=did_you_mean(text, [*names, *parents]),
                )
            )
            return None
    team = reader.get(sec, "team")
    if team is not None:
        members = [w.name for w in workloads if w.team == team]
        if not members:
            teams = sorted({w.team for w in workloads if w.team})
            diags.append(
                error(
                    "E0315",
                    f"no workload belongs to team `{team}`",
                    sec.entries["team"].value_span,
                    help=did_you_mean(team, teams)
                    or (
                        f"teams: {', '.join(teams)}"
                        if teams
                        else 'set `team = "..."` on the workloads'
                    ),
                )
            )
            return None
        scope += [m for m in members if m not in scope]
    return tuple(scope)


def read_quotas(
    tree: Section, reader: Reader, catalogs: Mapping[str, Catalog], diags: list[Diagnostic]
) -> list[Quota]:
    out = []
    for sec in tree.all("quota"):
        globs, limit = reader.get(sec, "on"), reader.get(sec, "max")
        if globs is None or limit is None:
            continue
        region = reader.get(sec, "region")
        ids: list[str] = []
        for node in globs:
            found, problem = resolve_glob(node, catalogs)
            if problem:
                diags.append(problem)
            ids += [
                o.id
                for o in found
                if (region is None or o.offering.region == region) and o.id not in ids
            ]
        if not ids and not has_errors(diags):
            diags.append(
                error(
                    "E0307",
                    f"quota `{sec.name}` covers no offering in `{region}`",
                    sec.entries["region"].value_span,
                    help="check the quota's `region`",
                )
            )
            continue
        count, what = limit
        out.append(
            Quota(
                name=sec.name or "",
                offerings=tuple(sorted(ids)),
                region=region,
                max_instances=count if what == "instance" else None,
                max_vcpu=count if what == "vcpu" else None,
                max_gpu=count if what == "gpu" else None,
            )
        )
    return out


# --------------------------------------------------------------------------- lints of the source


def event_lints(built: Sequence[BuiltWorkload], header: Header) -> list[Diagnostic]:
    """Events that fall entirely outside the horizon never happen in the plan (W0006)."""
    first = header.start
    out = []
    for b in built:
        if b.rate is not None:
            out += _rate_events(b, b.rate, first, header.horizon)
        if b.work is not None:
            out += _work_events(b, b.work, first, header.horizon)
    return out


def _outside(section: Section, name: str, what: str) -> Diagnostic:
    event = next((e for e in section.all("event") if e.name == name), None)
    span = event.kind_span if event else section.kind_span
    return warning(
        "W0006",
        f"event `{name}` {what}",
        span,
        label="outside the plan's horizon",
        help="move it into the horizon, add `repeat = yearly`, or remove it",
    )


def _rate_events(
    b: BuiltWorkload, rate: RateDemand, start: tuple[int, int], horizon: int
) -> list[Diagnostic]:
    out = []
    end_year = start[0] + (start[1] - 1 + horizon) // 12 + 1
    for ev in rate.events:
        hits = [
            (a, z)
            for a, z in ev.occurrences(start[0] - 1, end_year)
            if 0 <= month_index(start, a.date()) < horizon
            or 0 <= month_index(start, z.date()) < horizon
        ]
        if not hits and b.section.kind != "mix":
            out.append(_outside(b.chain[-1], ev.name, "falls outside the plan"))
    return out


def _work_events(
    b: BuiltWorkload, work: WorkDemand, start: tuple[int, int], horizon: int
) -> list[Diagnostic]:
    out = []
    for label in work.extra:
        year, month = (int(x) for x in label.split("-"))
        if not 0 <= month_index(start, dt.date(year, month, 1)) < horizon:
            for ev in b.section.all("event"):
                out.append(_outside(b.section, ev.name or "", f"in {label} falls outside the plan"))
    return out


# --------------------------------------------------------------------------- settings


def source_text(span: Span, sources: Mapping[str, str]) -> str:
    text = sources.get(span.file)
    if text is None or span.end <= span.start:
        return ""
    snippet = text[span.start : span.end]
    first = snippet.splitlines()[0] if snippet else ""
    return first.rstrip(" {").strip() if "\n" in snippet else snippet.strip()


def settings_index(tree: Section, sources: Mapping[str, str]) -> dict[str, Setting]:
    """Every setting by its dotted path, as written (a scenario's override where one applies).

    Keys: ``<section path>.<setting>`` (``recs.headroom``, ``recs.spot.max``,
    ``recs.event.annual sale.scale``, ``budget.monthly``, ``budget.ml.monthly``,
    ``quota.gpu.max``, ``commitments.terms``, ``aws.regions``, ``plan.horizon``), plus each
    block under its own path (``recs``, ``aws``, ``recs.spot``, ``quota.gpu``,
    ``recs.runs_on``, ``fleet.aws.c7g.2xlarge``) with its header line as text."""
    out: dict[str, Setting] = {}
    for sec in tree.walk():
        if sec.kind in ("<root>", "scenario") or sec.path.startswith("scenario."):
            continue
        if sec.path:
            out[sec.path] = Setting(
                path=sec.path, text=source_text(sec.span, sources), span=sec.span
            )
        for key, entry in sec.entries.items():
            path = f"{sec.path}.{key}"
            out[path] = Setting(path=path, text=source_text(entry.span, sources), span=entry.span)
    return out
