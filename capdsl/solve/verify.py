"""Independent re-check of a Solution against its Plan (OPTIMIZER.md "Verification").

Nothing here is shared with the formulation, the pre-passes or the scaling: plain Python
arithmetic on the Plan's own unscaled numbers (Fraction for money, floats with a 1e-9
relative tolerance for demand, which the Plan holds as floats), against the **exact hourly
demand** of every calendar hour (``MonthDemand.hourly`` and ``block_of_hour``), not the
solver's blocks. A plan capdsl prints has passed every check below:

- placement: each allocation's offering and zone are allowed for its workload; spot only
  where the plan allows it (policy, eligible spot zones, interruption limit, interruptible
  batch work);
- every hour: capacity carries demand x (1 + headroom) (or / max utilisation); after losing
  any ``survive`` zones (regions) and all spot, demand is still carried; capacity minus the
  k largest instances carries demand (N+k); spot capacity within the share and per-pool
  limits; minimum replicas in total and per zone;
- batch work per month (spot hours discounted by checkpoint overhead; a deadline asks for
  the work at month hours / deadline hours the rate);
- reservations: in every hour, reserved instances in use fit in what is owned (zonal ones in
  their zone, regional ones anywhere in the region); purchases use allowed options at catalog
  prices, start no earlier than the lead time, and the commitment cap holds;
- quotas (instances, vCPU, GPU) in every hour; hard budgets (monthly, total);
- money: every month's cost components, the totals, the all-on-demand figure, purchase
  beyond-horizon amounts, per-workload attribution and soft-budget penalties recomputed
  to the cent and compared with the reported ones.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from capdsl.model.plan import Plan, Workload
from capdsl.solve.solution import Allocation, Solution, VerifyReport, Violation

_REL = 1e-9  # float tolerance on demand (the Plan's demand values are floats)
_CENT = Decimal("0.01")
_UNUSED = "(unused reserved)"
_MAX_VIOLATIONS = 200


def _cents(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(_CENT, rounding=ROUND_HALF_EVEN)


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.3g}"


class _Checker:
    def __init__(self, plan: Plan, sol: Solution) -> None:
        self.plan = plan
        self.sol = sol
        self.violations: list[Violation] = []
        self.checks: dict[str, int] = defaultdict(int)
        self.offerings = {o.id: o.offering for o in plan.offerings}
        self.workloads = {w.name: w for w in plan.workloads}
        self.hpm = Fraction(plan.hours_per_month)
        self.H = plan.horizon
        self.recomputed: Decimal | None = None
        self.failures = 0  # every failure, also those past _MAX_VIOLATIONS
        self._month_hours: dict[int, dict[int, int]] = {}

    def fail(self, check: str, message: str, **kw: object) -> None:
        self.failures += 1
        if len(self.violations) < _MAX_VIOLATIONS:
            self.violations.append(Violation(check=check, message=message, **kw))  # type: ignore[arg-type]

    def count(self, check: str, n: int = 1) -> None:
        self.checks[check] += n

    # ------------------------------------------------------------------ structure

    def month_hours(self, m: int) -> dict[int, int]:
        """Calendar hours per block index, from ``block_of_hour`` (not from the blocks);
        counted once per month (every allocation asks: XL's 191k took 20 s)."""
        if m not in self._month_hours:
            self._month_hours[m] = dict(Counter(self.plan.demand[m].block_of_hour))
        return self._month_hours[m]

    def structure(self) -> list[Allocation]:
        plan = self.plan
        good: list[Allocation] = []
        caps = {(w.name, c.offering): c for w in plan.workloads for c in w.capacities}
        for m in range(self.H):
            md = plan.demand[m]
            self.count("blocks")
            if len(md.block_of_hour) != md.hours:
                self.fail(
                    "blocks",
                    f"{plan.months[m]} maps {len(md.block_of_hour)} hours to blocks but has {md.hours}",
                    month=m,
                )
            known = {b.index for b in md.blocks}
            if any(b not in known for b in md.block_of_hour):
                self.fail(
                    "blocks", f"{plan.months[m]} maps an hour to a block it does not have", month=m
                )
        for a in self.sol.allocations:
            self.count("placement")
            w = self.workloads.get(a.workload)
            o = self.offerings.get(a.offering)
            where = f"{a.workload} on {a.offering} in {a.zone}"
            if w is None or o is None:
                self.fail(
                    "placement",
                    f"{where}: unknown workload or offering",
                    workload=a.workload,
                    month=a.month,
                )
                continue
            if not 0 <= a.month < self.H or a.block not in self.month_hours(a.month):
                self.fail(
                    "placement",
                    f"{where}: month {a.month} block {a.block} is not in the plan",
                    workload=a.workload,
                )
                continue
            if a.count <= 0:
                self.fail(
                    "placement",
                    f"{where}: count {a.count} is not positive",
                    workload=a.workload,
                    month=a.month,
                )
                continue
            c = caps.get((a.workload, a.offering))
            if c is None or a.zone not in c.zones:
                self.fail(
                    "placement",
                    f"{where}: the plan does not allow this offering or zone for {a.workload}",
                    workload=a.workload,
                    month=a.month,
                    setting=f"{a.workload}.runs",
                )
                continue
            if a.option == "on_demand" and o.on_demand_hourly is None:
                self.fail(
                    "placement",
                    f"{where}: bought on-demand but the offering has no on-demand price",
                    workload=a.workload,
                    month=a.month,
                )
                continue
            if a.option == "spot":
                self.count("spot_zone")
                reasons = []
                if not w.spot.allowed:
                    reasons.append("spot is not allowed for it")
                if a.zone not in c.spot_zones:
                    reasons.append("the zone is not an eligible spot zone")
                if a.zone not in o.spot_hourly:
                    reasons.append("the catalog has no spot price there")
                if (
                    w.spot.max_interruption is not None
                    and o.spot_interruption is not None
                    and o.spot_interruption > w.spot.max_interruption
                ):
                    reasons.append(
                        f"interruption {o.spot_interruption:g}% exceeds {w.spot.max_interruption:g}%"
                    )
                if w.kind == "batch" and w.batch is not None and not w.batch.interruptible:
                    reasons.append("its work is not interruptible")
                if reasons:
                    self.fail(
                        "spot_zone",
                        f"{where}: spot not allowed ({'; '.join(reasons)})",
                        workload=a.workload,
                        month=a.month,
                        setting=f"{a.workload}.spot",
                    )
                    continue
            good.append(a)
        return good

    # ------------------------------------------------------------------ capacity per hour

    def capacity(self, allocs: list[Allocation]) -> None:
        plan = self.plan
        cap = {(w.name, c.offering): c.per_instance for w in plan.workloads for c in w.capacities}
        by_block: dict[tuple[int, int, str], list[Allocation]] = defaultdict(list)
        for a in allocs:
            by_block[(a.month, a.block, a.workload)].append(a)
        for w in plan.workloads:
            if w.kind == "batch":
                self.batch(w, allocs, cap)
                continue
            zones = sorted({z for c in w.capacities for z in c.zones})
            regions = sorted(
                {
                    self.offerings[c.offering].region
                    for c in w.capacities
                    if c.offering in self.offerings
                }
            )
            for m in range(self.H):
                md = plan.demand[m]
                hourly = md.hourly.get(w.name)
                if hourly is None or len(hourly) != md.hours:
                    self.fail(
                        "demand",
                        f"{w.name} has no hourly demand for {plan.months[m]}",
                        workload=w.name,
                        month=m,
                    )
                    continue
                summary = {
                    b.index: self.block_summary(
                        w, by_block.get((m, b.index, w.name), []), cap, zones, regions
                    )
                    for b in md.blocks
                }
                for b, s in summary.items():
                    self.count("min_replicas")
                    if s["instances"] < w.min_replicas:
                        self.fail(
                            "min_replicas",
                            f"{w.name} runs {s['instances']} instances in {plan.months[m]} block {b}, "
                            f"fewer than min_replicas {w.min_replicas}",
                            workload=w.name,
                            month=m,
                            setting=f"{w.name}.min_replicas",
                        )
                    if w.min_replicas_per_zone:
                        for z in zones:
                            if s["per_zone"].get(z, 0) < w.min_replicas_per_zone:
                                self.fail(
                                    "min_replicas",
                                    f"{w.name} runs {s['per_zone'].get(z, 0)} instances in {z} "
                                    f"in {plan.months[m]} block {b}, fewer than {w.min_replicas_per_zone} per zone",
                                    workload=w.name,
                                    month=m,
                                    setting=f"{w.name}.min_replicas_per_zone",
                                )
                self.hours(w, m, hourly, md.block_of_hour, summary)

    def hours(
        self,
        w: Workload,
        m: int,
        hourly: list[float],
        block_of_hour: list[int],
        summary: dict[int, dict[str, Any]],
    ) -> None:
        """Every hour of month ``m`` checked (``hour``). Hours of one block with the same
        demand meet the same fleet with the same demand, so they pass or fail alike: one of
        them is checked on trial, and if it passes, its checks are counted for every hour of
        them; the hours of those that fail are each checked and reported, in the order of
        the hours, as one by one. (XL with one level a month: its 876,000 hours one by one
        took 3.3 s.)"""
        failing: set[tuple[int, float]] = set()
        # (a month mapping fewer hours to blocks than it has already failed ``structure``)
        for (b, d), n in Counter(zip(block_of_hour, hourly, strict=False)).items():
            if b not in summary:
                continue
            violations, failures, checks = len(self.violations), self.failures, dict(self.checks)
            self.hour(w, m, 0, d, summary[b])  # (on trial: its messages are dropped)
            if self.failures != failures:
                failing.add((b, d))
                counted: dict[str, int] = {}
            else:
                counted = {c: k - checks.get(c, 0) for c, k in self.checks.items()}
            # the trial undone, its checks counted once for each hour
            del self.violations[violations:]
            self.failures = failures
            self.checks = defaultdict(int, checks)
            for c, k in counted.items():
                if k:
                    self.count(c, k * n)
        for h, d in enumerate(hourly if failing else ()):
            if (block_of_hour[h], d) in failing:
                self.hour(w, m, h, d, summary[block_of_hour[h]])

    def block_summary(
        self,
        w: Workload,
        allocs: list[Allocation],
        cap: dict[tuple[str, str], float],
        zones: list[str],
        regions: list[str],
    ) -> dict[str, Any]:
        total = 0.0
        spot = 0.0
        pools: dict[tuple[str, str], float] = defaultdict(float)
        nonspot_zone: dict[str, float] = defaultdict(float)
        nonspot_region: dict[str, float] = defaultdict(float)
        per_zone: dict[str, int] = defaultdict(int)
        sizes: list[tuple[float, int]] = []
        instances = 0
        for a in allocs:
            c = cap[(w.name, a.offering)]
            total += c * a.count
            instances += a.count
            per_zone[a.zone] += a.count
            sizes.append((c, a.count))
            if a.option == "spot":
                spot += c * a.count
                pools[(a.offering, a.zone)] += c * a.count
            else:
                nonspot_zone[a.zone] += c * a.count
                nonspot_region[self.offerings[a.offering].region] += c * a.count
        # N+k: the k largest instances
        k = w.redundancy
        largest = 0.0
        left = k
        for c, n in sorted(sizes, reverse=True):
            take = min(left, n)
            largest += c * take
            left -= take
            if not left:
                break
        if left:
            largest = total  # fewer than k instances: nothing survives
        worst_zone = (
            (
                min(
                    (sum(v for z, v in nonspot_zone.items() if z not in lost), ", ".join(lost))
                    for lost in itertools.combinations(zones, w.survive_zones)
                )
                if w.survive_zones and len(zones) > w.survive_zones
                else (0.0, "every zone")
            )
            if w.survive_zones
            else None
        )
        worst_region = (
            (
                min(
                    (sum(v for r, v in nonspot_region.items() if r not in lost), ", ".join(lost))
                    for lost in itertools.combinations(regions, w.survive_regions)
                )
                if len(regions) > w.survive_regions
                else (0.0, "every region")
            )
            if w.survive_regions
            else None
        )
        return {
            "total": total,
            "spot": spot,
            "pools": pools,
            "survivors": total - largest,
            "worst_zone": worst_zone,
            "worst_region": worst_region,
            "instances": instances,
            "per_zone": per_zone,
        }

    def hour(self, w: Workload, m: int, h: int, d: float, s: dict[str, Any]) -> None:
        month = self.plan.months[m]
        need = d * w.required_factor
        self.count("demand")
        if s["total"] < need * (1 - _REL) - 1e-12:
            self.fail(
                "demand",
                f"{w.name} needs {_num(need)} {w.unit}/s in {month} hour {h} "
                f"but the plan carries {_num(s['total'])} {w.unit}/s",
                workload=w.name,
                month=m,
                hour=h,
                setting=f"{w.name}.headroom" if w.headroom else f"{w.name}.baseline",
            )
        if d <= 0:
            return
        if w.redundancy:
            self.count("redundancy")
            if s["survivors"] < d * (1 - _REL):
                self.fail(
                    "redundancy",
                    f"{w.name} N+{w.redundancy}: without its {w.redundancy} largest instance"
                    f"{'s' * (w.redundancy > 1)} it carries {_num(s['survivors'])} of {_num(d)} {w.unit}/s "
                    f"in {month} hour {h}",
                    workload=w.name,
                    month=m,
                    hour=h,
                    setting=f"{w.name}.redundancy",
                )
        for key, label in (("worst_zone", "zone"), ("worst_region", "region")):
            if s[key] is None:
                continue
            self.count("zone_loss")
            left, lost = s[key]
            if left < d * (1 - _REL):
                self.fail(
                    "zone_loss",
                    f"{w.name} after losing {label} {lost} (and all spot) carries {_num(left)} "
                    f"of {_num(d)} {w.unit}/s in {month} hour {h}",
                    workload=w.name,
                    month=m,
                    hour=h,
                    setting=f"{w.name}.survive",
                )
        if w.spot.max_share is not None:
            self.count("spot_share")
            if s["spot"] > w.spot.max_share * d * (1 + _REL) + 1e-12:
                self.fail(
                    "spot_share",
                    f"{w.name} spot capacity {_num(s['spot'])} exceeds {w.spot.max_share * 100:g}% "
                    f"of demand {_num(d)} {w.unit}/s in {month} hour {h}",
                    workload=w.name,
                    month=m,
                    hour=h,
                    setting=f"{w.name}.spot.max",
                )
        if w.spot.per_pool is not None:
            for (t, z), v in s["pools"].items():
                self.count("spot_pool")
                if v > w.spot.per_pool * d * (1 + _REL) + 1e-12:
                    self.fail(
                        "spot_pool",
                        f"{w.name} spot pool {t} in {z} carries {_num(v)}, over "
                        f"{w.spot.per_pool * 100:g}% of demand {_num(d)} {w.unit}/s in {month} hour {h}",
                        workload=w.name,
                        month=m,
                        hour=h,
                        setting=f"{w.name}.spot.per_pool",
                    )

    def batch(
        self, w: Workload, allocs: list[Allocation], cap: dict[tuple[str, str], float]
    ) -> None:
        plan = self.plan
        ovh = w.batch.checkpoint_overhead if w.batch is not None else 0.0
        for m in range(self.H):
            md = plan.demand[m]
            hours = self.month_hours(m)
            due = md.work.get(w.name, 0.0)
            if w.batch is not None and w.batch.deadline_hours and w.batch.deadline_hours < md.hours:
                due *= md.hours / w.batch.deadline_hours
            done = 0.0
            spot = 0.0
            per_block: dict[int, int] = defaultdict(int)
            per_zone_block: dict[tuple[int, str], int] = defaultdict(int)
            for a in allocs:
                if a.workload != w.name or a.month != m:
                    continue
                per_block[a.block] += a.count
                per_zone_block[(a.block, a.zone)] += a.count
                work = cap[(w.name, a.offering)] * a.count * hours[a.block]
                if a.option == "spot":
                    work *= 1 - ovh
                    spot += work
                done += work
            self.count("work")
            if done < due * (1 - _REL):
                self.fail(
                    "work",
                    f"{w.name} needs {_num(due)} {w.unit} in {plan.months[m]} but the plan delivers {_num(done)}",
                    workload=w.name,
                    month=m,
                    setting=f"{w.name}.work",
                )
            if w.spot.max_share is not None and due > 0:
                self.count("spot_share")
                if spot > w.spot.max_share * due * (1 + _REL):
                    self.fail(
                        "spot_share",
                        f"{w.name} does {_num(spot)} {w.unit} on spot in {plan.months[m]}, over "
                        f"{w.spot.max_share * 100:g}% of {_num(due)}",
                        workload=w.name,
                        month=m,
                        setting=f"{w.name}.spot.max",
                    )
            for b in hours:
                self.count("min_replicas")
                if per_block.get(b, 0) < w.min_replicas:
                    self.fail(
                        "min_replicas",
                        f"{w.name} runs {per_block.get(b, 0)} instances in {plan.months[m]} block {b}, "
                        f"fewer than min_replicas {w.min_replicas}",
                        workload=w.name,
                        month=m,
                    )

    # ------------------------------------------------------------------ reservations

    def reservations(self, allocs: list[Allocation]) -> None:
        plan, sol = self.plan, self.sol
        allowed = {(o.term_months, o.payment, o.offering_class) for o in plan.commitments.options}
        lead = plan.commitments.lead_time_months
        zonal: dict[tuple[str, str, int], int] = defaultdict(int)
        regional: dict[tuple[str, int], int] = defaultdict(int)
        for r in plan.fleet:
            for m in range(max(0, r.start), min(self.H, r.end)):
                if r.zone is None:
                    regional[(r.offering, m)] += r.count
                else:
                    zonal[(r.offering, r.zone, m)] += r.count
        for p in sol.purchases:
            self.count("purchases")
            o = self.offerings.get(p.offering)
            what = f"purchase of {p.count} x {p.offering} ({p.term_months // 12}y {p.payment}) in {p.month}"
            if o is None:
                self.fail("purchases", f"{what}: unknown offering")
                continue
            if (p.term_months, p.payment, p.offering_class) not in allowed:
                self.fail(
                    "purchases",
                    f"{what}: this reserved option is not allowed by the plan",
                    setting="commitments.terms",
                )
            price = next(
                (
                    rp
                    for rp in o.reserved
                    if (rp.term_months, rp.payment, rp.offering_class)
                    == (p.term_months, p.payment, p.offering_class)
                ),
                None,
            )
            if price is None or price.upfront != p.upfront or price.hourly != p.hourly:
                self.fail(
                    "purchases",
                    f"{what}: priced {p.upfront} upfront + {p.hourly}/h, the catalog says "
                    f"{'nothing' if price is None else f'{price.upfront} + {price.hourly}/h'}",
                )
            if not lead <= p.month < self.H:
                self.fail(
                    "purchases",
                    f"{what}: starts at month {p.month}, outside months {lead}..{self.H - 1} "
                    f"(lead time {lead})",
                    setting="commitments.lead_time",
                )
            order = p.month - lead
            expect = plan.months[order] if 0 <= order < len(plan.months) else None
            if p.order_by != expect:
                self.fail(
                    "purchases",
                    f"{what}: order by {p.order_by}, expected {expect}",
                    setting="commitments.lead_time",
                )
            if p.count <= 0:
                self.fail("purchases", f"{what}: count is not positive")
            for m in range(max(0, p.month), min(self.H, p.month + p.term_months)):
                if p.zone == o.region or p.zone not in o.zone_list():
                    regional[(p.offering, m)] += p.count
                else:
                    zonal[(p.offering, p.zone, m)] += p.count
        used: dict[tuple[str, int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for a in allocs:
            if a.option == "reserved":
                used[(a.offering, a.month, a.block)][a.zone] += a.count
        for (t, m, b), per_zone in sorted(used.items()):
            self.count("reservations")
            need_regional = sum(max(0, n - zonal.get((t, z, m), 0)) for z, n in per_zone.items())
            if need_regional > regional.get((t, m), 0):
                own = regional.get((t, m), 0) + sum(
                    v for (tt, _z, mm), v in zonal.items() if (tt, mm) == (t, m)
                )
                self.fail(
                    "reservations",
                    f"{sum(per_zone.values())} reserved {t} in use in {plan.months[m]} block {b}, "
                    f"but the plan owns {own} that month",
                    month=m,
                )
        cap = plan.commitments.max_hourly
        if cap is not None:
            for m in range(self.H):
                self.count("commitments")
                rate = Fraction(0)
                for p in sol.purchases:
                    if p.month <= m < p.month + p.term_months:
                        rate += p.count * (
                            Fraction(p.hourly) + Fraction(p.upfront) / (self.hpm * p.term_months)
                        )
                if rate > Fraction(cap):
                    self.fail(
                        "commitments",
                        f"reservations bought commit {float(rate):,.2f}/h in {plan.months[m]}, "
                        f"over the cap {cap}/h",
                        month=m,
                        setting="commitments.max",
                    )

    def quotas(self, allocs: list[Allocation]) -> None:
        plan = self.plan
        for q in plan.quotas:
            members = {
                t
                for t in q.offerings
                if t in self.offerings
                and (q.region is None or self.offerings[t].region == q.region)
            }
            use: dict[tuple[int, int], list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 3)
            for a in allocs:
                if a.offering in members:
                    o = self.offerings[a.offering]
                    u = use[(a.month, a.block)]
                    u[0] += a.count
                    u[1] += a.count * o.vcpu
                    u[2] += a.count * Fraction(o.gpu_count).limit_denominator(1000)
            for (m, b), (inst, vcpu, gpu) in sorted(use.items()):
                for value, limit, unit in (
                    (inst, q.max_instances, "instances"),
                    (vcpu, q.max_vcpu, "vCPU"),
                    (gpu, q.max_gpu, "GPU"),
                ):
                    if limit is None:
                        continue
                    self.count("quota")
                    if value > limit:
                        self.fail(
                            "quota",
                            f"quota {q.name} allows {limit} {unit}; the plan runs {float(value):g} "
                            f"in {plan.months[m]} block {b}",
                            month=m,
                            setting=f"quota.{q.name}.max",
                        )

    # ------------------------------------------------------------------ money

    def money(self, allocs: list[Allocation]) -> None:
        plan, sol = self.plan, self.sol
        H, hpm = self.H, self.hpm
        mode = plan.commitments.beyond_horizon
        cal: dict[tuple[int, int], int] = {}  # calendar hours of each block
        for m in range(H):
            for b, n in self.month_hours(m).items():
                cal[(m, b)] = n
        od = [Fraction(0)] * H
        spot = [Fraction(0)] * H
        new = [Fraction(0)] * H
        existing = [Fraction(0)] * H
        upfront = [Fraction(0)] * H
        pool_cost: dict[tuple[str, int], Fraction] = defaultdict(Fraction)
        pool_n: dict[tuple[str, int], int] = defaultdict(int)
        for r in plan.fleet:
            for m in range(max(0, r.start), min(H, r.end)):
                c = r.count * Fraction(r.hourly) * hpm
                existing[m] += c
                pool_cost[(r.offering, m)] += c
                pool_n[(r.offering, m)] += r.count
        for p in sol.purchases:
            rec = Fraction(p.hourly) * hpm
            end = p.month + p.term_months
            for m in range(max(0, p.month), min(H, end)):
                if mode == "full":
                    c = rec + ((Fraction(p.upfront) + rec * max(0, end - H)) if m == p.month else 0)
                else:
                    c = rec + Fraction(p.upfront) / p.term_months
                new[m] += p.count * c
                pool_cost[(p.offering, m)] += p.count * c
                pool_n[(p.offering, m)] += p.count
            if 0 <= p.month < H:
                upfront[p.month] += p.count * Fraction(p.upfront)
            self.count("cost")
            beyond = p.count * max(0, end - H) * (rec + Fraction(p.upfront) / p.term_months)
            if _cents(beyond) != p.beyond_horizon:
                self.fail(
                    "cost",
                    f"purchase of {p.offering} at month {p.month}: beyond-horizon cost reported "
                    f"{p.beyond_horizon}, recomputed {_cents(beyond)}",
                )
        attributed: list[dict[str, Fraction]] = [defaultdict(Fraction) for _ in range(H)]
        aod = Fraction(0)
        # exact prices, converted once per offering (not once per allocation)
        od_price = {
            t: Fraction(o.on_demand_hourly) if o.on_demand_hourly is not None else None
            for t, o in self.offerings.items()
        }
        spot_price = {
            (t, z): Fraction(p) for t, o in self.offerings.items() for z, p in o.spot_hourly.items()
        }
        # calendar instance-hours summed in integers per (month, workload, option, offering,
        # zone), then priced once: a month's billed hours are its calendar hours scaled by
        # hours_per_month / the month's hours, the same factor for every block of the month
        inst: dict[tuple[int, str, str, str, str], int] = defaultdict(int)
        for a in allocs:
            inst[(a.month, a.workload, a.option, a.offering, a.zone)] += (
                a.count * cal[(a.month, a.block)]
            )
        for (m, name, option, t, z), h in inst.items():
            bh = h * hpm / plan.demand[m].hours
            price = od_price[t]
            if option == "on_demand":
                c = (price or 0) * bh
                od[m] += c
            elif option == "spot":
                c = spot_price[(t, z)] * bh
                spot[m] += c
            else:
                n = pool_n[(t, m)]
                c = bh * pool_cost[(t, m)] / (n * hpm) if n else Fraction(0)
            attributed[m][name] += c
            aod += bh * price if price is not None else c
        reported = {mc.index: mc for mc in sol.months}
        total = Decimal(0)
        for m in range(H):
            self.count("cost")
            mc = reported.get(m)
            parts = {
                "on_demand": _cents(od[m]),
                "spot": _cents(spot[m]),
                "reserved": _cents(new[m]),
                "existing": _cents(existing[m]),
                "upfront_cash": _cents(upfront[m]),
            }
            month_total = parts["on_demand"] + parts["spot"] + parts["reserved"] + parts["existing"]
            total += month_total
            if mc is None:
                self.fail("cost", f"no cost reported for {plan.months[m]}", month=m)
                continue
            for field_name, value in (*parts.items(), ("total", month_total)):
                if getattr(mc, field_name) != value:
                    self.fail(
                        "cost",
                        f"{plan.months[m]} {field_name.replace('_', ' ')} reported "
                        f"{getattr(mc, field_name)}, recomputed {value}",
                        month=m,
                    )
            shares = {w: _cents(v) for w, v in attributed[m].items()}
            unused = (
                new[m] + existing[m] - (sum(attributed[m].values(), Fraction(0)) - od[m] - spot[m])
            )
            if unused > 0:
                shares[_UNUSED] = _cents(unused)
            if {k: v for k, v in shares.items() if v} != {
                k: v for k, v in mc.by_workload.items() if v
            }:
                self.fail(
                    "cost",
                    f"{plan.months[m]} cost by workload reported {dict(mc.by_workload)}, recomputed {shares}",
                    month=m,
                )
        if sol.totals is None:
            self.fail("cost", "no totals reported")
        else:
            self.count("cost", 2)
            if sol.totals.cost != total:
                self.fail("cost", f"total cost reported {sol.totals.cost}, recomputed {total}")
            if sol.totals.all_on_demand_cost != _cents(aod):
                self.fail(
                    "cost",
                    f"all-on-demand cost reported {sol.totals.all_on_demand_cost}, recomputed {_cents(aod)}",
                )
        for w in plan.workloads:
            self.count("cost")
            v = _cents(sum((attributed[m].get(w.name, Fraction(0)) for m in range(H)), Fraction(0)))
            if sol.workload_costs.get(w.name, Decimal(0)) != v:
                self.fail(
                    "cost",
                    f"{w.name} cost reported {sol.workload_costs.get(w.name)}, recomputed {v}",
                    workload=w.name,
                )
        self.recomputed = total
        self.budgets(od, spot, new, existing, attributed, total)

    def budgets(
        self,
        od: list[Fraction],
        spot: list[Fraction],
        new: list[Fraction],
        existing: list[Fraction],
        attributed: list[dict[str, Fraction]],
        total: Decimal,
    ) -> None:
        plan, sol = self.plan, self.sol
        penalty = Fraction(0)
        for bud in plan.budgets:
            if bud.workloads:
                series = [
                    sum((attributed[m].get(w, Fraction(0)) for w in bud.workloads), Fraction(0))
                    for m in range(self.H)
                ]
            else:
                series = [od[m] + spot[m] + new[m] + existing[m] for m in range(self.H)]
            if bud.monthly is not None:
                cap = Fraction(bud.monthly)
                for m, v in enumerate(series):
                    self.count("budget_monthly")
                    if v > cap:
                        if bud.hard:
                            self.fail(
                                "budget_monthly",
                                f"{plan.months[m]} costs {float(v):,.2f}, over the {bud.name} cap "
                                f"{bud.monthly}/month",
                                month=m,
                                setting=f"{bud.name}.monthly",
                            )
                        else:
                            penalty += (v - cap) * Fraction(bud.penalty)
            if bud.total is not None:
                self.count("budget_total")
                v = sum(series, Fraction(0))
                if v > Fraction(bud.total):
                    if bud.hard:
                        self.fail(
                            "budget_total",
                            f"the plan costs {float(v):,.2f}, over the {bud.name} total cap {bud.total}",
                            setting=f"{bud.name}.total",
                        )
                    else:
                        penalty += (v - Fraction(bud.total)) * Fraction(bud.penalty)
        if sol.objective is not None:
            self.count("objective")
            expect = total + _cents(penalty)
            if sol.objective != expect:
                self.fail(
                    "objective",
                    f"objective reported {sol.objective}, recomputed cost + penalties {expect}",
                )


def verify(plan: Plan, solution: Solution) -> VerifyReport:
    """Re-check every constraint of ``solution`` against ``plan``'s exact hourly demand and
    recompute its cost; ``ok`` only when nothing failed."""
    ch = _Checker(plan, solution)
    if solution.status not in ("optimal", "feasible"):
        ch.fail("status", f"nothing to verify: the solution's status is {solution.status}")
        return VerifyReport(ok=False, checks=dict(ch.checks), violations=ch.violations)
    allocs = ch.structure()
    ch.capacity(allocs)
    ch.reservations(allocs)
    ch.quotas(allocs)
    ch.money(allocs)
    return VerifyReport(
        ok=not ch.violations,
        checks=dict(sorted(ch.checks.items())),
        violations=ch.violations,
        recomputed_cost=ch.recomputed,
    )
