"""The existing fleet (reservations already owned) and each workload's capacity cliff.

``fleet { reserved aws.c7g.2xlarge { zone = "use1-az1", count = 10, until = 2027-09 } }``
becomes an ``ExistingReservation`` covering months ``start <= m < end`` (indices from the
plan start): a reservation that expires during a month (``until = 2027-09`` or
``2027-09-15``) does not cover that month; one that starts during a month (``since =
2026-03-10``) covers it from the next month; without ``since`` it started before the plan.

The **capacity cliff** of a workload is the first month in which today's fleet alone no
longer carries its demand at the SLO with headroom (``demand x required_factor``, in every
demand block; batch: the month's work). Reservations are shared: in each block the fleet's
instances are handed out greedily (workloads with the fewest usable reservation types
first, most capable instances first), which can only find a cliff early, never late, when
several workloads compete for the same reservations. Redundancy and zone loss are not part
of the cliff (they are the optimiser's business): the cliff answers "when must we buy?".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, did_you_mean, error, warning
from capdsl.model.catalogs import Catalog, split_ref
from capdsl.model.plan import ExistingReservation, MonthDemand, PlanOffering, Workload
from capdsl.model.tree import Section
from capdsl.model.values import Reader

BEFORE_PLAN = -1


def month_index(start: tuple[int, int], day: dt.date) -> int:
    return (day.year - start[0]) * 12 + day.month - start[1]


def find_offering(
    section: Section, reader: Reader, catalogs: Mapping[str, Catalog]
) -> tuple[PlanOffering | None, Diagnostic | None]:
    label = section.labels[0]
    assert isinstance(label, ast.Path)
    cat_name, type_name = split_ref(label)
    catalog = catalogs.get(cat_name)
    if catalog is None:
        return None, error(
            "E0314",
            f"unknown catalog `{cat_name}` in reservation `{label.text}`",
            label.span,
            help=did_you_mean(cat_name, catalogs)
            or "reservations name an offering as `CATALOG.TYPE`",
        )
    same_type = [o for o in catalog.offerings if o.offering.instance_type == type_name]
    if not same_type and catalog.failed:
        return None, None
    if not same_type:
        return None, error(
            "E0314",
            f"catalog `{cat_name}` has no instance type `{type_name}`",
            label.span,
            label="no such offering",
            help=did_you_mean(type_name, catalog.types()),
        )
    region, zone = reader.get(section, "region"), reader.get(section, "zone")
    found = [o for o in same_type if (region is None or o.offering.region == region)]
    if zone is not None:
        found = [o for o in found if zone in o.zones]
    if len(found) == 1:
        return found[0], None
    if not found:
        where = f"zone `{zone}`" if zone else f"region `{region}`"
        zones = sorted({z for o in same_type for z in o.zones})
        entry = section.entries.get("zone") or section.entries.get("region")
        return None, error(
            "E0314",
            f"`{label.text}` is not offered in {where}",
            entry.value_span if entry else label.span,
            help=did_you_mean(
                zone or region or "", zones + sorted({o.offering.region for o in same_type})
            )
            or f"it is offered in {', '.join(zones)}",
        )
    regions = sorted({o.offering.region for o in found})
    return None, error(
        "E0314",
        f"`{label.text}` exists in several regions ({', '.join(regions)})",
        label.span,
        help='say which: `region = "..."` or `zone = "..."`',
    )


def build_fleet(
    fleet: Section | None, reader: Reader, catalogs: Mapping[str, Catalog], start: tuple[int, int]
) -> tuple[list[ExistingReservation], dict[str, PlanOffering], list[Diagnostic]]:
    if fleet is None:
        return [], {}, []
    out: list[ExistingReservation] = []
    used: dict[str, PlanOffering] = {}
    diags: list[Diagnostic] = []
    for sec in fleet.all("reserved"):
        po, problem = find_offering(sec, reader, catalogs)
        if problem:
            diags.append(problem)
        count, until = reader.get(sec, "count"), reader.get(sec, "until")
        if po is None or count is None or until is None:
            continue
        since = reader.get(sec, "since")
        begin = (
            BEFORE_PLAN
            if since is None
            else month_index(start, since) + (1 if since.day > 1 else 0)
        )
        end = month_index(start, until)
        label = sec.labels[0].text  # type: ignore[union-attr]
        if end <= 0:
            diags.append(
                warning(
                    "W0008",
                    f"reservation `{label}` expires before the plan starts",
                    sec.entries["until"].value_span,
                    label="covers no month of the plan",
                    help="remove it from `fleet`, or fix `until`",
                )
            )
            continue
        if count == 0:
            continue
        zone = reader.get(sec, "zone")
        out.append(
            ExistingReservation(
                offering=po.id,
                zone=zone,
                count=count,
                start=begin,
                end=end,
                hourly=reader.get(sec, "hourly") or Decimal(0),
                label=f"{count} x {label}" + (f" in {zone}" if zone else ""),
                span=sec.span,
            )
        )
        used[po.id] = po
    return out, used, diags


# --------------------------------------------------------------------------- cliff


@dataclass
class Shortfall:
    month: int
    block: str
    need: float
    got: float
    taken_by: tuple[str, ...] = ()  # workloads that used up the reservations it could use


def _usable(
    w: Workload, pool: Mapping[tuple[str, str | None], int]
) -> list[tuple[tuple[str, str | None], float]]:
    caps = {c.offering: c for c in w.capacities}
    keys = [k for k in pool if k[0] in caps and (k[1] is None or k[1] in caps[k[0]].zones)]
    return sorted(((k, caps[k[0]].per_instance) for k in keys), key=lambda kv: -kv[1])


def _needs(w: Workload, month: MonthDemand, hours_per_month: float) -> list[tuple[str, float]]:
    if w.kind == "batch":
        # Work spread over the month occupies instances in every block.
        rate = month.work.get(w.name, 0.0) / hours_per_month
        return [("the month's work", rate)] * max(1, len(month.blocks))
    return [(b.label, b.level.get(w.name, 0.0) * w.required_factor) for b in month.blocks]


def shortfalls(
    workloads: list[Workload],
    fleet: list[ExistingReservation],
    demand: list[MonthDemand],
    hours_per_month: float,
) -> dict[str, Shortfall | None]:
    """The first month each workload's demand outgrows today's fleet (None: never)."""
    first: dict[str, Shortfall | None] = dict.fromkeys((w.name for w in workloads), None)
    if not fleet:
        for w in workloads:
            first[w.name] = Shortfall(0, "", 0.0, 0.0)
        return first
    for month in demand:
        pool_month: dict[tuple[str, str | None], int] = {}
        for r in fleet:
            if r.start <= month.index < r.end:
                key = (r.offering, r.zone)
                pool_month[key] = pool_month.get(key, 0) + r.count
        open_ = [w for w in workloads if first[w.name] is None]
        if not open_:
            break
        order = sorted(open_, key=lambda w: (len(_usable(w, pool_month)), w.name))
        needs = {w.name: _needs(w, month, hours_per_month) for w in order}
        usable = {w.name: _usable(w, pool_month) for w in order}
        for slot in range(max(len(n) for n in needs.values())):
            pool = dict(pool_month)
            users: dict[tuple[str, str | None], list[str]] = {}
            for w in order:
                if first[w.name] is not None or slot >= len(needs[w.name]):
                    continue
                label, need = needs[w.name][slot]
                got = 0.0
                for key, per in usable[w.name]:
                    if got >= need:
                        break
                    take = min(pool[key], math.ceil((need - got) / per - 1e-9))
                    if take > 0:
                        users.setdefault(key, []).append(w.name)
                    pool[key] -= take
                    got += take * per
                if got < need * (1 - 1e-9):
                    others = {
                        n for key, _ in usable[w.name] for n in users.get(key, []) if n != w.name
                    }
                    first[w.name] = Shortfall(month.index, label, need, got, tuple(sorted(others)))
    return first


def _rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def cliff_reason(w: Workload, s: Shortfall | None, fleet: list[ExistingReservation]) -> str:
    """Why the cliff is where it is, in one short sentence (the month is ``cliff_month``)."""
    if s is None:
        return "today's fleet carries the demand through the whole horizon"
    usable = [r for r in fleet if r.offering in {c.offering for c in w.capacities}]
    if not usable:
        return f"no reservation already owned can run `{w.name}`"
    per = "work units/h" if w.kind == "batch" else f"{w.unit}/s"
    headroom = (
        f", x{w.required_factor:g} headroom" if w.kind != "batch" and w.required_factor != 1 else ""
    )
    text = (
        f"needs {_rate(s.need)} {per} ({s.block}{headroom}); today's fleet carries {_rate(s.got)}"
    )
    if s.taken_by:
        text += " after " + ", ".join(f"`{n}`" for n in s.taken_by) + " (shared reservations)"
    expired: dict[str, int] = {}
    for r in usable:
        if r.end == s.month:
            expired[r.offering] = expired.get(r.offering, 0) + r.count
    if expired:
        gone = ", ".join(f"{n} x {o.split('@')[0]}" for o, n in expired.items())
        text += f" once {gone} expire"
    return text
