"""What a planning report says: the sections of ``capdsl report`` and of ``solve --format
md|html``, as a ``Document`` that the Markdown and HTML writers render identically.

Nothing here depends on the time of the run, so the same plan gives the same report.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal

from capdsl.lang.diagnostics import render as render_diagnostic
from capdsl.model.plan import Plan
from capdsl.report import fmt
from capdsl.report.document import Bullets, Chart, Document, Pre, Section, Style, Table, Text, slug
from capdsl.report.facts import OPTIONS, Result, order_results
from capdsl.solve.solution import Solution

STATUS_STYLE: dict[str, Style] = {
    "optimal": "ok",
    "feasible": "warn",
    "infeasible": "bad",
    "error": "bad",
}


def _key(r: Result, chart: str) -> str:
    """A chart id unique within one document (several scenarios have the same charts)."""
    return slug(f"{fmt.scenario_name(r.scenario)}-{chart}")


def build_document(
    results: Sequence[tuple[Plan, Solution]], *, charts: bool, detail: bool
) -> Document:
    """The report for one or several scenarios of a plan (the plan-for scenario first).

    ``charts`` adds SVG charts (their numbers are in tables too); ``detail`` adds every
    allocation (the ``solve --format md|html`` view)."""
    if not results:
        raise ValueError("nothing to render: no results")
    views = order_results(results)
    first = views[0]
    doc = Document(title=f"Capacity plan: {first.name}")
    doc.intro.append(_intro(views))
    if len(views) > 1:
        _comparison(doc.section("Scenario comparison"), views, charts)
        for v in views:
            title = f"Scenario: {fmt.scenario_name(v.scenario)}"
            if v.plan.plan_for is not None and v.scenario == v.plan.plan_for:
                title += " (plan for)"
            sec = doc.section(title)
            _result(sec, v, charts, detail)
    else:
        holder = Section("", anchor="")
        _result(holder, first, charts, detail)
        doc.sections.extend(holder.children)
        if holder.blocks:
            doc.intro.extend(holder.blocks)
    return doc


# --------------------------------------------------------------------------- intro


def _intro(views: Sequence[Result]) -> Text:
    plan = views[0].plan
    last = plan.months[-1] if plan.months else plan.start
    parts: list[str | tuple[str, Style]] = [
        f"{plan.horizon} months from {plan.start} to {last}, in {plan.currency}",
    ]
    if plan.source_path:
        parts.append(f"; plan file {plan.source_path}")
    if len(views) > 1:
        names = ", ".join(fmt.scenario_name(v.scenario) for v in views)
        parts.append(f"; scenarios: {names}")
    if plan.plan_for:
        parts += ["; plans for ", (plan.plan_for, "strong")]
    parts.append(".")
    return Text.of(*parts)


def status_line(r: Result) -> Text:
    """``OPTIMAL · VERIFIED · objective $X · bound $Y · gap 0.05%``."""
    sol = r.solution
    parts: list[str | tuple[str, Style]] = [
        (r.status.upper(), STATUS_STYLE.get(r.status, "bad")),
        " · ",
    ]
    if r.trusted:
        parts.append(("VERIFIED", "ok"))
    elif r.solved:
        parts.append(("NOT VERIFIED — do not act on this plan", "bad"))
    else:
        parts.append(("NOT VERIFIED", "bad"))
    if sol.objective is not None:
        parts.append(f" · objective {fmt.money(sol.objective, r.currency, cents=True)}")
    if sol.bound is not None:
        parts.append(f" · bound {fmt.money(sol.bound, r.currency, cents=True)}")
    if sol.gap is not None:
        parts.append(f" · gap {fmt.gap(sol.gap)}")
    return Text.of(*parts)


# --------------------------------------------------------------------------- one result


def _result(sec: Section, r: Result, charts: bool, detail: bool) -> None:
    sec.add(status_line(r))
    if r.solution.message:
        sec.add(Text.of((r.solution.message, "bad" if not r.solved else "")))
    if not r.solved:
        _failure(sec, r)
        _sources(sec.sub("Price sources"), r)
        return
    _summary(sec.sub("Summary"), r)
    _cost_per_month(sec.sub("Cost per month"), r, charts)
    _capacity(sec.sub("Capacity vs demand"), r, charts)
    _mix(sec.sub("Purchase mix over time"), r, charts)
    _savings(sec.sub("Savings vs all on-demand"), r, charts)
    _schedule(sec.sub("Purchase schedule"), r)
    _binding(sec.sub("Binding constraints"), r)
    if r.solution.stress is not None:
        _stress(sec.sub("Stress test"), r)
    _workloads(sec.sub("Workloads"), r)
    _sources(sec.sub("Price sources"), r)
    if r.solution.diagnostics:
        _diagnostics(sec.sub("Diagnostics"), r)
    if detail:
        _allocations(sec.sub("Allocations"), r)
    _solver(sec.sub("Solver"), r)


def _failure(sec: Section, r: Result) -> None:
    sol = r.solution
    if sol.verification is not None and sol.verification.violations:
        rows = tuple(
            (
                v.check,
                v.workload or "",
                r.month_label(v.month) or "",
                "" if v.hour is None else str(v.hour),
                v.message,
            )
            for v in sol.verification.violations
        )
        sec.sub("Verification failures").add(
            Table(("check", "workload", "month", "hour", "finding"), rows)
        )
    if sol.diagnostics:
        _diagnostics(sec.sub("Diagnostics"), r)
    elif not sol.message:
        sec.add(Text.of((f"the solver returned status {r.status} without diagnostics", "bad")))


def _summary(sec: Section, r: Result) -> None:
    sol, cur = r.solution, r.currency
    t = sol.totals
    assert t is not None
    rows = [
        (f"Total cost over {len(sol.months)} months", fmt.money(t.cost, cur, cents=True)),
        ("All on-demand, same instances", fmt.money(t.all_on_demand_cost, cur, cents=True)),
        ("Savings vs all on-demand", fmt.pct(t.savings_pct)),
        ("Upfront fees", fmt.money(t.upfront, cur, cents=True)),
        ("Recurring", fmt.money(t.recurring, cur, cents=True)),
        ("Committed beyond the horizon", fmt.money(t.beyond_horizon, cur, cents=True)),
        ("Reserved utilisation", fmt.share(sol.reserved_utilisation)),
        ("Spot share of capacity", fmt.share(sol.spot_share)),
    ]
    sec.add(Table(("", "amount"), tuple(rows), numeric=(False, True)))
    marks = r.milestones()
    if marks:
        sec.add(
            Table(
                ("cumulative cost", "through", "amount"),
                tuple(
                    (f"first {m.months} months", m.month, fmt.money(m.cost, cur, cents=True))
                    for m in marks
                ),
                numeric=(False, False, True),
            )
        )
    cliffs = r.cliffs()
    if cliffs:
        sec.add(
            Bullets(
                tuple(
                    Text.of(
                        "capacity cliff of ",
                        (w.name, "strong"),
                        ": ",
                        (label, "warn"),
                        *((f" — {w.cliff_reason}",) if w.cliff_reason else ()),
                    )
                    for w, label in cliffs
                )
            )
        )


def _cost_per_month(sec: Section, r: Result, charts: bool) -> None:
    cur = r.currency
    if charts:
        from capdsl.report import charts as ch

        key = _key(r, "cost")
        sec.add(
            Chart(
                key,
                "Cost per month by purchase option, with the cumulative cost",
                lambda: ch.cost_chart(r, key),
            )
        )
    months = r.solution.months
    columns = _money_columns(
        [
            [m.total for m in months],
            [m.reserved for m in months],
            [m.existing for m in months],
            [m.on_demand for m in months],
            [m.spot for m in months],
            [m.upfront_cash for m in months],
            list(r.cumulative),
        ],
        cur,
    )
    rows = [(mc.month, *(col[i] for col in columns)) for i, mc in enumerate(months)]
    sec.add(
        Table(
            (
                "month",
                "total",
                "new reserved",
                "owned reserved",
                "on-demand",
                "spot",
                "upfront paid",
                "cumulative",
            ),
            tuple(rows),
            numeric=(False, *([True] * 7)),
        )
    )


def _money_columns(columns: list[list[Decimal | None]], currency: str) -> list[list[str]]:
    return [fmt.money_column(col, currency) for col in columns]


def mix_text(r: Result, workload: str, month: int) -> str:
    """``6× aws.c7g.2xlarge reserved, 2× aws.m7g.xlarge spot``."""
    items = r.peak_mix(workload, month)
    return (
        ", ".join(
            f"{i.count}× {fmt.short_offering(i.offering)} {fmt.OPTION_LABEL[i.option]}"
            for i in items
        )
        or "none"
    )


def _capacity(sec: Section, r: Result, charts: bool) -> None:
    sec.add(
        Text.of(
            "Capacity at each month's peak block against the peak demand times the required factor "
            "(headroom, maximum utilisation); batch work in work units per month. Redundancy and "
            "zone-loss reserves come on top and are checked by the verifier."
        )
    )
    for w in r.plan.workloads:
        points = r.capacity.get(w.name, [])
        sub = sec.sub(w.name)
        unit = f"{w.unit}/month" if w.kind == "batch" else f"{w.unit}/s"
        cliff = r.month_label(w.cliff_month)
        if cliff is not None:
            sub.add(
                Text.of(
                    "capacity cliff of today's fleet: ",
                    (cliff, "warn"),
                    *((f" — {w.cliff_reason}",) if w.cliff_reason else ()),
                )
            )
        if charts and points:
            from capdsl.report import charts as ch

            key = _key(r, f"capacity-{w.name}")
            sub.add(
                Chart(
                    key,
                    f"{w.name}: capacity vs demand ({unit})",
                    functools.partial(ch.capacity_chart, r, w.name, key),
                )
            )
        rows = []
        marked = []
        for i, pt in enumerate(points):
            note = "◀ capacity cliff" if w.cliff_month == pt.month_index else ""
            if note:
                marked.append(i)
            rows.append(
                (
                    pt.month,
                    fmt.number(pt.demand),
                    fmt.number(pt.required),
                    fmt.number(pt.capacity),
                    fmt.share(pt.coverage, 0),
                    mix_text(r, w.name, pt.month_index),
                    note,
                )
            )
        sub.add(
            Table(
                (
                    "month",
                    f"peak demand ({unit})",
                    "required",
                    "capacity",
                    "coverage",
                    "instances at peak",
                    "",
                ),
                tuple(rows),
                numeric=(False, True, True, True, True, False, False),
                marked=tuple(marked),
            )
        )


def _mix(sec: Section, r: Result, charts: bool) -> None:
    if charts:
        from capdsl.report import charts as ch

        key = _key(r, "mix")
        sec.add(
            Chart(key, "Instance-hours per month by purchase option", lambda: ch.mix_chart(r, key))
        )
    rows = []
    for mc, hours in zip(r.solution.months, r.instance_hours, strict=False):
        total = sum(hours.values())
        rows.append(
            (
                mc.month,
                *(fmt.number(hours[o]) for o in OPTIONS),
                *(fmt.share(hours[o] / total if total else None, 0) for o in OPTIONS),
            )
        )
    sec.add(
        Table(
            ("month", "reserved h", "on-demand h", "spot h", "reserved", "on-demand", "spot"),
            tuple(rows),
            numeric=(False, *([True] * 6)),
        )
    )


def _savings(sec: Section, r: Result, charts: bool) -> None:
    t = r.solution.totals
    assert t is not None
    cur = r.currency
    saved = t.all_on_demand_cost - t.cost
    sec.add(
        Text.of(
            "Running the same instances on-demand for the whole horizon would cost ",
            (fmt.money(t.all_on_demand_cost, cur), "strong"),
            "; this plan costs ",
            (fmt.money(t.cost, cur), "strong"),
            ", saving ",
            (f"{fmt.money(saved, cur)} ({fmt.pct(t.savings_pct)})", "ok" if saved >= 0 else "bad"),
            ".",
        )
    )
    equiv = r.on_demand_equivalent
    if charts and all(e is not None for e in equiv):
        from capdsl.report import charts as ch

        key = _key(r, "savings")
        sec.add(
            Chart(
                key,
                "Cumulative cost: this plan vs the same instances on-demand",
                lambda: ch.savings_chart(r, key),
            )
        )
    cum_ods: list[Decimal | None] = []
    running: Decimal | None = Decimal(0)
    for od in equiv:
        running = None if od is None or running is None else running + od
        cum_ods.append(running)
    months = r.solution.months[: len(equiv)]
    columns = _money_columns(
        [
            list(equiv[: len(months)]),
            [m.total for m in months],
            cum_ods[: len(months)],
            list(r.cumulative[: len(months)]),
            [None if c is None else c - p for c, p in zip(cum_ods, r.cumulative, strict=False)],
        ],
        cur,
    )
    rows = [(mc.month, *(col[i] for col in columns)) for i, mc in enumerate(months)]
    sec.add(
        Table(
            (
                "month",
                "on-demand equivalent",
                "plan",
                "cumulative on-demand",
                "cumulative plan",
                "saved so far",
            ),
            tuple(rows),
            numeric=(False, *([True] * 5)),
        )
    )


def schedule_rows(r: Result) -> list[tuple[str, ...]]:
    cur = r.currency
    rows: list[tuple[str, ...]] = []
    for p in sorted(
        r.solution.purchases, key=lambda p: (p.month, p.offering, p.zone, p.term_months)
    ):
        rows.append(
            (
                p.order_by or "",
                r.month_label(p.month) or "",
                p.offering,
                p.zone,
                fmt.term(p.term_months)
                + (" convertible" if p.offering_class == "convertible" else ""),
                fmt.PAYMENT_LABEL.get(p.payment, p.payment),
                str(p.count),
                fmt.money(p.upfront * p.count, cur),
                fmt.price(p.hourly, cur),
                fmt.money(p.beyond_horizon, cur),
            )
        )
    return rows


def _schedule(sec: Section, r: Result) -> None:
    rows = schedule_rows(r)
    if not rows:
        sec.add(
            Text.of("No new reservations: on-demand, spot and owned reservations are cheapest.")
        )
    else:
        sec.add(
            Table(
                (
                    "order by",
                    "start",
                    "offering",
                    "zone",
                    "term",
                    "payment",
                    "count",
                    "upfront (total)",
                    "$/h each",
                    "beyond horizon",
                ),
                tuple(rows),
                numeric=(False, False, False, False, False, False, True, True, True, True),
            )
        )
    owned = [(res, r.existing_months(res)) for res in r.plan.fleet]
    owned_rows = tuple(
        (
            res.label or "",
            res.offering,
            res.zone or "regional",
            str(res.count),
            fmt.price(res.hourly, r.currency),
            (r.month_label(res.end - 1) or "")
            if res.end <= r.plan.horizon
            else f"after {r.plan.months[-1]}",
        )
        for res, active in owned
        if active
    )
    if owned_rows:
        sec.sub("Reservations already owned").add(
            Table(
                ("label", "offering", "zone", "count", "$/h each", "last month"),
                owned_rows,
                numeric=(False, False, False, True, True, False),
            )
        )


def _binding(sec: Section, r: Result) -> None:
    sol = r.solution
    if sol.binding:
        items = []
        for b in sol.binding:
            head = r.month_label(b.month) or "every month"
            setting = r.plan.setting(b.setting) if b.setting else None
            where = (
                f" ({' '.join(setting.text.split())}"
                + (f", {setting.span}" if setting and setting.span else "")
                + ")"
                if setting
                else ""
            )
            items.append(Text.of((head, "strong"), f": {b.text}{where}"))
        sec.add(Bullets(tuple(items)))
    else:
        sec.add(Text.of("No constraint binds: the plan is limited by price alone."))
    if sol.why_not:
        sec.sub("Why not the alternatives").add(
            Bullets(tuple(Text.of((y.workload, "strong"), f": {y.text}") for y in sol.why_not))
        )


def _stress(sec: Section, r: Result) -> None:
    report = r.solution.stress
    assert report is not None
    against = report.actual or "the base plan"
    if report.ok:
        sec.add(Text.of(f"This fleet carries the demand of {against} in every hour."))
        return
    sec.add(Text.of((f"Against the demand of {against}, the SLA breaks:", "bad")))
    sec.add(Bullets(tuple(Text.of((line, "bad")) for line in report.summary().splitlines())))


def _workloads(sec: Section, r: Result) -> None:
    sol, cur = r.solution, r.currency
    total = sol.totals.cost if sol.totals else Decimal(0)
    rows = []
    for w in r.plan.workloads:
        cost = sol.workload_costs.get(w.name)
        share = float(cost / total) if cost is not None and total else None
        rows.append(
            (
                w.name,
                w.kind,
                w.team or "",
                fmt.money(cost, cur),
                fmt.share(share),
                r.month_label(w.cliff_month) or "",
            )
        )
    sec.add(
        Table(
            ("workload", "kind", "team", "cost", "share", "capacity cliff"),
            tuple(rows),
            numeric=(False, False, False, True, True, False),
        )
    )


def _sources(sec: Section, r: Result) -> None:
    stamps = sorted(r.plan.sources, key=lambda s: (s.provider, s.source, s.origin, s.as_of))
    if not stamps:
        sec.add(Text.of(("no price sources recorded", "warn")))
        return
    sec.add(
        Table(
            ("source", "provider", "as of", "origin", "detail"),
            tuple((s.source, s.provider, s.as_of.isoformat(), s.origin, s.detail) for s in stamps),
        )
    )
    notes = sorted({n for o in r.plan.offerings for n in o.price_notes})
    if notes:
        sec.add(Bullets(tuple(Text.of(n) for n in notes)))


def _diagnostics(sec: Section, r: Result) -> None:
    sec.add(Pre("\n\n".join(render_diagnostic(d) for d in r.solution.diagnostics)))


def _allocations(sec: Section, r: Result) -> None:
    cur = r.currency
    rows = []
    for a in r.sorted_allocations():
        block = r.block(a.month, a.block)
        rows.append(
            (
                r.month_label(a.month) or "",
                f"{a.block}" + (f" {block.label}" if block and block.label else ""),
                a.workload,
                a.offering,
                a.zone,
                fmt.OPTION_LABEL[a.option],
                str(a.count),
                fmt.price(r.hourly_price(a), cur) if a.option != "reserved" else "reserved",
                fmt.money(r.allocation_cost(a), cur) if a.option != "reserved" else "",
            )
        )
    sec.add(
        Table(
            (
                "month",
                "block",
                "workload",
                "offering",
                "zone",
                "option",
                "count",
                "$/h each",
                "cost",
            ),
            tuple(rows),
            numeric=(False, False, False, False, False, False, True, True, True),
        )
    )


def _solver(sec: Section, r: Result) -> None:
    s = r.solution.stats
    parts = [
        f"{s.offerings_after} of {s.offerings_before} offerings kept after pruning",
        f"{s.vars_after} of {s.vars_before} variables",
        f"{s.constraints} constraints",
        f"{s.blocks} demand blocks (compression overhead {s.compression_overhead * 100:.2f}%)",
        f"seed {s.seed}",
        f"machine speed {s.speed:g}",
    ]
    sec.add(Text.of("; ".join(parts) + "."))
    if s.passes:
        sec.add(Bullets(tuple(Text.of((k, "code"), f": {v}") for k, v in sorted(s.passes.items()))))
    ver = r.solution.verification
    if ver is not None:
        checks = ", ".join(f"{k} {v}" for k, v in sorted(ver.checks.items()))
        sec.add(
            Text.of(
                ("verified" if ver.ok else "verification failed", "ok" if ver.ok else "bad"),
                f" independently: {checks}" if checks else "",
            )
        )


# --------------------------------------------------------------------------- scenarios


def _comparison(sec: Section, views: Sequence[Result], charts: bool) -> None:
    ref = views[0]
    cur = ref.currency
    ref_cost = ref.solution.totals.cost if ref.solved and ref.solution.totals else None
    rows = []
    for v in views:
        cost = v.solution.totals.cost if v.solved and v.solution.totals else None
        delta = cost - ref_cost if cost is not None and ref_cost is not None else None
        rows.append(
            (
                fmt.scenario_name(v.scenario)
                + (
                    " (plan for)"
                    if v is ref and v.plan.plan_for == v.scenario and v.scenario
                    else ""
                ),
                v.status,
                "yes" if v.trusted else "NO",
                fmt.money(cost, cur),
                "reference"
                if v is ref
                else fmt.signed_money(delta, cur)
                if delta is not None
                else "–",
                ""
                if v is ref
                else f"{float(delta / ref_cost) * 100:+.1f}%"
                if delta is not None and ref_cost
                else "–",
                fmt.pct(v.solution.totals.savings_pct) if v.solved and v.solution.totals else "–",
            )
        )
    sec.add(
        Table(
            (
                "scenario",
                "status",
                "verified",
                "cost",
                "vs reference",
                "vs reference %",
                "savings vs on-demand",
            ),
            tuple(rows),
            numeric=(False, False, False, True, True, True, True),
        )
    )
    sentences: list[Text] = []
    if ref_cost is not None:
        sentences.append(
            Text.of(
                "Plan for ",
                (fmt.scenario_name(ref.scenario), "strong"),
                ": ",
                (fmt.money(ref_cost, cur), "strong"),
                f" over {len(ref.solution.months)} months.",
            )
        )
        for v in views[1:]:
            if v.solved and v.solution.totals:
                delta = v.solution.totals.cost - ref_cost
                share = f" ({float(delta / ref_cost) * 100:+.1f}%)" if ref_cost else ""
                if delta >= 0:
                    sentences.append(
                        Text.of(
                            "Contingency cost of ",
                            (fmt.scenario_name(v.scenario), "strong"),
                            ": ",
                            (fmt.signed_money(delta, cur) + share, "warn" if delta > 0 else "ok"),
                            f" (total {fmt.money(v.solution.totals.cost, cur)}).",
                        )
                    )
                else:
                    sentences.append(
                        Text.of(
                            (fmt.scenario_name(v.scenario), "strong"),
                            " costs ",
                            (fmt.money(-delta, cur) + " less" + share, "ok"),
                            f" (total {fmt.money(v.solution.totals.cost, cur)}).",
                        )
                    )
            else:
                sentences.append(
                    Text.of(
                        (fmt.scenario_name(v.scenario), "strong"),
                        ": ",
                        (f"{v.status} — {v.solution.message or 'no plan'}", "bad"),
                    )
                )
    else:
        sentences.append(
            Text.of(("the reference scenario has no plan; costs cannot be compared", "bad"))
        )
    sec.add(Bullets(tuple(sentences)))
    solved = [v for v in views if v.solved]
    if charts and len(solved) > 1:
        from capdsl.report import charts as ch

        sec.add(Chart("scenarios", "Cost per month by scenario", lambda: ch.scenario_chart(solved)))
    if ref.solved and len(solved) > 1:
        others = [v for v in views[1:] if v.solved]
        rows2 = []
        for i, mc in enumerate(ref.solution.months):
            cells = [mc.month, fmt.money(mc.total, cur)]
            for v in others:
                other = v.solution.months[i].total if i < len(v.solution.months) else None
                cells.append(fmt.signed_money(other - mc.total, cur) if other is not None else "–")
            rows2.append(tuple(cells))
        sec.sub("Cost delta per month").add(
            Table(
                (
                    "month",
                    fmt.scenario_name(ref.scenario),
                    *(f"{fmt.scenario_name(v.scenario)} Δ" for v in others),
                ),
                tuple(rows2),
                numeric=(False, *([True] * (1 + len(others)))),
            )
        )
