"""Composes the stages: text -> AST -> Plan -> Solution -> verified, explained Solution.

This is the only module that wires plugins (pricing sources, latency models, checks) into
the model, and the only API the CLI and the TUI use. Nothing here prints or exits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from capdsl.lang.diagnostics import Diagnostic, DiagnosticError, error, has_errors

if TYPE_CHECKING:
    from capdsl.lang.parser import ParseResult
    from capdsl.model.plan import Plan
    from capdsl.pricing.catalog import CatalogResolver
    from capdsl.solve.solution import Solution, VerifyReport


@dataclass
class Built:
    """The outcome of reading and building one plan file; never raises for plan errors."""

    plan: Plan | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)
    parsed: ParseResult | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)


ProgressFn = Callable[[str, float | None], None]


def catalog_resolver(
    *, refresh: bool = False, progress: ProgressFn | None = None
) -> CatalogResolver:
    """A resolver over every registered pricing source (plugins included)."""
    from capdsl.plugins import get_manager
    from capdsl.pricing.catalog import CatalogQuery, PriceTable

    sources = get_manager().pricing_sources()

    def resolve(name: str, query: CatalogQuery) -> PriceTable:
        try:
            source = sources[name]
        except KeyError:
            known = ", ".join(sorted(sources)) or "none"
            raise LookupError(f"unknown pricing source `{name}` (known: {known})") from None
        return source.fetch(query, refresh=refresh, progress=progress)

    return resolve


def build_text(
    text: str,
    path: str = "<string>",
    *,
    scenario: str | None = None,
    allow_outside: bool = False,
    refresh: bool = False,
    progress: ProgressFn | None = None,
    resolve: CatalogResolver | None = None,
) -> Built:
    """Parse and build a plan from text (imports resolved relative to ``path``)."""
    from capdsl.lang import parse_file
    from capdsl.model import build

    parsed = parse_file(path, text=text, allow_outside=allow_outside)
    diags = list(parsed.diagnostics)
    if has_errors(diags):
        return Built(None, diags, dict(parsed.sources), parsed)
    from capdsl.plugins import get_manager

    manager = get_manager()
    plan, build_diags = build(
        parsed,
        resolve=resolve or catalog_resolver(refresh=refresh, progress=progress),
        scenario=scenario,
        latency_models=manager.latency_models(),
        checks=list(manager.checks().values()),
    )
    diags += build_diags
    return Built(plan if not has_errors(diags) else None, diags, dict(parsed.sources), parsed)


def build_file(path: str | Path, *, text: str | None = None, **kw: Any) -> Built:
    """Read and build a plan file; ``path`` ``-`` reads standard input."""
    p = str(path)
    if text is None:
        if p == "-":
            import sys

            text, p = sys.stdin.read(), "<stdin>"
        else:
            try:
                text = Path(p).read_text(encoding="utf-8")
            except OSError as exc:
                return Built(None, [error("E0001", f"cannot read `{p}`: {exc.strerror or exc}")])
            except UnicodeDecodeError as exc:
                return Built(None, [error("E0001", f"`{p}` is not UTF-8 text: {exc.reason}")])
    return build_text(text, p, **kw)


# The explanation's re-solves (``explain``'s "why not X" on small plans): this share of the
# solve's time limit, at most ``EXPLAIN_MAX_S`` (the default 20 s limit gives them 5 s).
EXPLAIN_SHARE = 0.25
EXPLAIN_MAX_S = 5.0


def solve_plan(
    plan: Plan,
    *,
    time_limit: float = 10.0,
    on_progress: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
    hint: Solution | None = None,
    seed: int = 0,
    workers: int | None = None,
    gap_limit: float | None = None,
) -> Solution:
    """Solve, verify independently, explain. An unverified plan is never returned as a
    result: its status becomes ``error`` with the verifier's findings."""
    from capdsl.solve import explain, solve, verify

    solution = solve(
        plan,
        time_limit=time_limit,
        on_progress=on_progress,
        stop=stop,
        hint=hint,
        seed=seed,
        workers=workers,
        gap_limit=gap_limit,
    )
    if solution.status not in ("optimal", "feasible"):
        return solution
    report = verify(plan, solution)
    if not report.ok:
        first = report.violations[0].message if report.violations else "unknown violation"
        return solution.model_copy(
            update={
                "status": "error",
                "verified": False,
                "verification": report,
                "message": f"the solver's plan failed independent verification: {first}",
                "diagnostics": [
                    *solution.diagnostics,
                    *(
                        error("E0490", f"verification failed: {v.message}")
                        for v in report.violations[:20]
                    ),
                ],
            }
        )
    solution = solution.model_copy(update={"verified": True, "verification": report})
    # the "why not X" re-solves of a small plan take a share of the same limit, not a fixed
    # 5 s beside it (`--time-limit 5` on ml-training took 9 s); a share, not what the search
    # left on the clock, so that the explanation is the same on every run
    return explain(plan, solution, time_limit=min(EXPLAIN_MAX_S, time_limit * EXPLAIN_SHARE))


def stress_test(provisioned: Plan, solution: Solution, actual: Plan) -> Solution:
    """Attach a stress report: the fleet ``solution`` buys for ``provisioned`` replayed hour by
    hour against ``actual``'s demand (e.g. a plan bought for a 2x sale against the 4x sale)."""
    from capdsl.solve.stress import stress

    if solution.status not in ("optimal", "feasible"):
        return solution
    return solution.model_copy(update={"stress": stress(provisioned, solution, actual)})


# --------------------------------------------------------------------------- json-style API


def loads(text: str, path: str = "<string>", *, scenario: str | None = None, **kw: Any) -> Plan:
    """Build a Plan from .cap text; raises ``DiagnosticError`` listing every error."""
    built = build_text(text, path, scenario=scenario, **kw)
    if built.plan is None:
        raise DiagnosticError(built.diagnostics)
    return built.plan


def load(fp: IO[str], *, scenario: str | None = None, **kw: Any) -> Plan:
    """Build a Plan from an open .cap file."""
    path = getattr(fp, "name", "<stream>")
    return loads(fp.read(), str(path), scenario=scenario, **kw)


def check(plan_or_text: Plan | str, path: str | None = None) -> list[Diagnostic]:
    """Every diagnostic (errors and lints) of a plan or of .cap text."""
    from capdsl.model.plan import Plan

    if isinstance(plan_or_text, Plan):
        return list(plan_or_text.warnings)
    return build_text(plan_or_text, path or "<string>").diagnostics


def solve(
    plan: Plan, *, scenario: str | None = None, time_limit: float = 10.0, **kw: Any
) -> Solution:
    """Solve a plan (optionally one of its scenarios), verified and explained."""
    target = plan.variant(scenario) if scenario is not None else plan
    return solve_plan(target, time_limit=time_limit, **kw)


def verify(plan: Plan, solution: Solution) -> VerifyReport:
    """Re-check every constraint of a solution against the plan's exact hourly demand."""
    from capdsl.solve import verify as _verify

    return _verify(plan, solution)
