"""Naming constraints in the plan's own words: which ``Plan.settings`` key a constraint family
comes from, its span in the .cap file, and a short description (no OR-Tools here)."""

from __future__ import annotations

from capdsl.lang.diagnostics import Span
from capdsl.model.plan import Plan, Setting

# Candidate setting paths per constraint family, most specific first ({w} = workload).
_WORKLOAD_PATHS: dict[str, tuple[str, ...]] = {
    "runs_on": ("{w}.runs_on", "{w}"),
    "demand": ("{w}.growth", "{w}.baseline", "{w}.monthly", "{w}.demand", "{w}"),
    "headroom": ("{w}.headroom", "{w}.max_utilization"),
    "redundancy": ("{w}.redundancy",),
    "survive": ("{w}.survive",),
    "min_replicas": ("{w}.min_replicas", "{w}.min_replicas_per_zone"),
    "spot": ("{w}.spot.max", "{w}.spot.per_pool", "{w}.spot"),
    "spot_pool": ("{w}.spot.per_pool", "{w}.spot"),
    "work": ("{w}.work", "{w}.deadline", "{w}"),
}


def find_setting(plan: Plan, *paths: str) -> tuple[str, Setting | None]:
    """The first of ``paths`` the plan declares (with its Setting), else the first path."""
    for p in paths:
        s = plan.settings.get(p)
        if s is not None:
            return p, s
    return paths[0], None


def setting_span(plan: Plan, *paths: str) -> Span | None:
    setting = find_setting(plan, *paths)[1]
    return setting.span if setting is not None else None


def workload_paths(plan: Plan, workload: str, kind: str) -> tuple[str, ...]:
    """Candidate paths for a workload's setting; a traffic-mix share falls back to its parent."""
    names = [workload]
    try:
        parent = plan.workload(workload).parent
    except KeyError:
        parent = None
    if parent:
        names.append(parent)
    return tuple(p.format(w=n) for n in names for p in _WORKLOAD_PATHS[kind])


def workload_setting(plan: Plan, workload: str, kind: str) -> Span | None:
    return setting_span(plan, *workload_paths(plan, workload, kind))


def group_paths(plan: Plan, kind: str, subject: str) -> tuple[str, ...]:
    """Candidate setting paths of a constraint group (``formulate.GROUP_KINDS``)."""
    if kind in _WORKLOAD_PATHS:
        return workload_paths(plan, subject, kind)
    if kind == "quota":
        return (f"quota.{subject}.max", f"quota.{subject}")
    if kind == "budget_monthly":
        return (f"{subject}.monthly", subject)
    if kind == "budget_total":
        return (f"{subject}.total", subject)
    if kind == "commitments":
        return ("commitments.max", "commitments")
    return (subject,)


def describe(plan: Plan, kind: str, subject: str) -> str:
    """A short phrase for a constraint group, from the plan's own text when it has one."""
    path, s = find_setting(plan, *group_paths(plan, kind, subject))
    if s is not None and s.text:
        text = " ".join(s.text.split())
        owner = path.split(".")[0]
        return (
            text
            if text.startswith(owner)
            else f"{owner}.{text}"
            if kind in _WORKLOAD_PATHS
            else text
        )
    if kind in _WORKLOAD_PATHS:
        w = plan.workload(subject)
        words = {
            "demand": f"{subject} demand",
            "headroom": f"{subject} headroom {w.headroom * 100:g}%",
            "redundancy": f"{subject} N+{w.redundancy}",
            "survive": f"{subject} survives {w.survive_zones or w.survive_regions} "
            f"{'zone' if w.survive_zones else 'region'}",
            "min_replicas": f"{subject} min replicas {max(w.min_replicas, w.min_replicas_per_zone)}",
            "spot": f"{subject} spot limits",
            "spot_pool": f"{subject} spot per-pool limit",
            "work": f"{subject} work",
        }
        return words.get(kind, f"{subject} {kind}")
    if kind == "budget_monthly":
        return f"{subject} monthly cap"
    if kind == "budget_total":
        return f"{subject} total cap"
    if kind == "commitments":
        return "commitments max"
    return f"{kind} {subject}"
