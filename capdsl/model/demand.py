"""Demand compilation: the exact hourly demand of every month, and its demand blocks.

Inputs are unit-resolved workload demand descriptions (``RateDemand`` for services and
streams, in workload units per second; ``WorkDemand`` for batch, in work units per month).
Everything runs on the real calendar: a month has 672-744 hours, weekdays are real, events
land on their dates (an event spanning two months lands in both).

Rate in hour ``h`` of month ``m`` (calendar month ``c``, weekday ``d``, hour of day ``t``)::

    level(m) * daily[t] * weekly[d] * events(h) * factor

- ``level(m)`` = ``baseline * (1 + growth)^m * seasonality[c]``, or the month's value from an
  explicit monthly table (CSV), which replaces baseline, growth and seasonality for the
  months it lists;
- ``daily`` / ``weekly`` / ``seasonality`` are relative (rescaled to average 1, so the
  baseline stays the average rate); ``daily`` is already shaped to a peak-to-average when
  the plan asked for one (``capdsl.model.shapes``);
- ``events(h)`` multiplies the scales of every event covering hour ``h`` (an hour that an
  event touches only partly counts as an event hour: capacity must be there);
- ``factor`` = ``(1 - cache_hit) * mix share * burst`` (streams are planned at their burst
  rate).

Batch work of month ``m`` = ``work * (1 + growth)^m * seasonality[c]`` (or the table value)
plus one-time event work of that month. A work *rate* (``3 gpu_hour/day``) counts the
plan's billed hours per month (730 h), so ``1200 gpu_hour per month`` is 1200 every month.

``compile_demand`` returns one ``MonthDemand`` per month with the exact ``hourly`` demand
(kept for the verifier) and the joint ``blocks`` (``capdsl.model.blocks``), plus the
``CompressionReport``.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from capdsl.model.blocks import CompressionOptions, Grouping, group_month, order_blocks
from capdsl.model.plan import CompressionReport, DemandBlock, MonthDemand
from capdsl.model.shapes import DAILY, WEEKLY, normalised

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Event:
    """A dated event: demand x ``scale`` from ``start`` for ``hours`` hours."""

    name: str
    start: dt.datetime
    hours: float
    scale: float
    yearly: bool = False

    def occurrences(self, first_year: int, last_year: int) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.yearly:
            years = [self.start.year]
        else:
            years = list(range(max(self.start.year, first_year), last_year + 1))
        out = []
        for year in years:
            day = min(self.start.day, _cal.monthrange(year, self.start.month)[1])  # Feb 29
            begin = self.start.replace(year=year, day=day)
            out.append((begin, begin + dt.timedelta(hours=self.hours)))
        return out


@dataclass(frozen=True)
class RateDemand:
    """A service or stream workload's demand (rates in workload units per second)."""

    workload: str
    baseline: float
    daily: tuple[float, ...] = DAILY["flat"]
    weekly: tuple[float, ...] = WEEKLY["flat"]
    growth: float = 0.0
    seasonality: tuple[float, ...] | None = None
    monthly: Mapping[str, float] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    factor: float = 1.0


@dataclass(frozen=True)
class WorkDemand:
    """A batch workload's work volume (work units per month)."""

    workload: str
    per_month: float
    growth: float = 0.0
    seasonality: tuple[float, ...] | None = None
    monthly: Mapping[str, float] = field(default_factory=dict)
    extra: Mapping[str, float] = field(default_factory=dict)  # month -> one-time work


@dataclass(frozen=True)
class CalendarMonth:
    index: int
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return _cal.monthrange(self.year, self.month)[1]

    @property
    def hours(self) -> int:
        return self.days * 24

    def weekday_and_hour(self) -> tuple[np.ndarray, np.ndarray]:
        hour = np.arange(self.hours)
        first_weekday = self.first.weekday()
        return (first_weekday + hour // 24) % 7, hour % 24


def parse_month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def months(start: str, horizon: int) -> list[CalendarMonth]:
    """The plan's months from ``start`` (``2027-01``)."""
    year, month = parse_month(start)
    out = []
    for i in range(horizon):
        y, m = divmod(month - 1 + i, 12)
        out.append(CalendarMonth(i, year + y, m + 1))
    return out


# --------------------------------------------------------------------------- one workload


def rate_level(spec: RateDemand, month: CalendarMonth) -> float:
    """The month's average rate before the daily / weekly shape and events."""
    if month.label in spec.monthly:
        return spec.monthly[month.label]
    level = spec.baseline * (1.0 + spec.growth) ** month.index
    if spec.seasonality is not None:
        level *= float(normalised(spec.seasonality)[month.month - 1])
    return level


def event_hours(event: Event, month: CalendarMonth, last_year: int) -> list[tuple[int, int]]:
    """Hour ranges ``[a, b)`` of the month that the event's occurrences touch."""
    start = month.first
    ranges = []
    for begin, end in event.occurrences(month.year - 1, last_year):
        a = math.floor((begin - start).total_seconds() / 3600.0)
        b = math.ceil((end - start).total_seconds() / 3600.0)
        a, b = max(a, 0), min(b, month.hours)
        if a < b:
            ranges.append((a, b))
    return ranges


def event_factor(
    spec: RateDemand, month: CalendarMonth, last_year: int
) -> tuple[np.ndarray, dict[int, set[str]]]:
    """Per hour: the product of active event scales; and the event names active per hour."""
    factor = np.ones(month.hours)
    active: dict[int, set[str]] = {}
    for event in spec.events:
        for a, b in event_hours(event, month, last_year):
            factor[a:b] *= event.scale
            for h in range(a, b):
                active.setdefault(h, set()).add(event.name)
    return factor, active


def hourly_rate(
    spec: RateDemand, month: CalendarMonth, last_year: int
) -> tuple[np.ndarray, dict[int, set[str]]]:
    """Exact demand of every calendar hour of the month (unit/s), and active events."""
    weekday, hour = month.weekday_and_hour()
    profile = np.outer(normalised(spec.weekly), normalised(spec.daily))
    events, active = event_factor(spec, month, last_year)
    rate = rate_level(spec, month) * profile[weekday, hour] * events * spec.factor
    return rate, active


def work_of_month(spec: WorkDemand, month: CalendarMonth) -> float:
    if month.label in spec.monthly:
        base = spec.monthly[month.label]
    else:
        base = spec.per_month * (1.0 + spec.growth) ** month.index
        if spec.seasonality is not None:
            base *= float(normalised(spec.seasonality)[month.month - 1])
    return base + spec.extra.get(month.label, 0.0)


# --------------------------------------------------------------------------- labels


def consecutive_runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive integers, first and last: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def describe_days(days: set[int]) -> str:
    if days == set(range(7)):
        return "every day"
    if days == set(range(5)):
        return "weekdays"
    if days == {5, 6}:
        return "weekends"
    spans = consecutive_runs(days)
    parts = [DAY_NAMES[a] if a == b else f"{DAY_NAMES[a]}-{DAY_NAMES[b]}" for a, b in spans]
    return ", ".join(parts) if len(parts) <= 3 else "mixed days"


def describe_hours(hours: set[int]) -> str:
    if len(hours) == 24:
        return "all day"
    spans = consecutive_runs(hours)
    if len(spans) > 3:
        return f"{len(hours)} hours a day"
    return ", ".join(f"{a:02d}-{b + 1:02d}h" for a, b in spans)


def block_label(
    hours_idx: np.ndarray, weekday: np.ndarray, hour: np.ndarray, event: str | None
) -> str:
    days = describe_days(set(weekday[hours_idx].tolist()))
    hrs = describe_hours(set(hour[hours_idx].tolist()))
    base = f"{days} {hrs}"
    return f"event: {event} ({base})" if event else base


# --------------------------------------------------------------------------- the month


def _event_ids(
    month_hours: int, actives: Sequence[dict[int, set[str]]]
) -> tuple[np.ndarray, list[str | None]]:
    """Joint event-set id per hour (0 = none) and the display name of each id."""
    per_hour: dict[int, set[str]] = {}
    for active in actives:
        for h, active_names in active.items():
            per_hour.setdefault(h, set()).update(active_names)
    ids = np.zeros(month_hours, dtype=int)
    names: list[str | None] = [None]
    seen: dict[tuple[str, ...], int] = {}
    for h in sorted(per_hour):
        key = tuple(sorted(per_hour[h]))
        if key not in seen:
            seen[key] = len(names)
            names.append(" + ".join(key))
        ids[h] = seen[key]
    return ids, names


def compile_month(
    month: CalendarMonth,
    rates: Sequence[RateDemand],
    works: Sequence[WorkDemand],
    *,
    hours_per_month: float,
    last_year: int,
    options: CompressionOptions,
) -> MonthDemand:
    per_workload = [hourly_rate(spec, month, last_year) for spec in rates]
    hourly = np.array([r for r, _ in per_workload]).reshape(len(rates), month.hours)
    event_ids, event_names = _event_ids(month.hours, [a for _, a in per_workload])
    grouping: Grouping = order_blocks(group_month(hourly, event_ids, options), hourly)
    weekday, hour = month.weekday_and_hour()
    weight = hours_per_month / month.hours
    names = [spec.workload for spec in rates]
    blocks = []
    for b in range(grouping.levels.shape[0]):
        members = np.flatnonzero(grouping.block_of_hour == b)
        event = event_names[int(grouping.event_ids[b])]
        blocks.append(
            DemandBlock(
                index=b,
                hours=int(grouping.hours[b]),
                billed_hours=float(grouping.hours[b]) * weight,
                level={w: float(grouping.levels[b, k]) for k, w in enumerate(names)},
                label=block_label(members, weekday, hour, event),
                event=event,
            )
        )
    return MonthDemand(
        index=month.index,
        month=month.label,
        hours=month.hours,
        hour_weight=weight,
        hourly={w: hourly[k].tolist() for k, w in enumerate(names)},
        block_of_hour=grouping.block_of_hour.tolist(),
        blocks=blocks,
        work={spec.workload: work_of_month(spec, month) for spec in works},
        event_hours={
            str(event_names[k]): np.flatnonzero(event_ids == k).tolist()
            for k in range(1, len(event_names))
        },
        overhead=float(grouping.overhead.max()) if grouping.overhead.size else 0.0,
    )


def compile_demand(
    rates: Sequence[RateDemand],
    works: Sequence[WorkDemand] = (),
    *,
    start: str,
    horizon: int,
    hours_per_month: float = 730.0,
    options: CompressionOptions | None = None,
) -> tuple[list[MonthDemand], CompressionReport]:
    """Hourly demand and joint demand blocks for every month of the plan."""
    opts = options or CompressionOptions()
    cal = months(start, horizon)
    last_year = cal[-1].year if cal else parse_month(start)[0]
    out = [
        compile_month(
            m, rates, works, hours_per_month=hours_per_month, last_year=last_year, options=opts
        )
        for m in cal
    ]
    overheads = [m.overhead for m in out]
    report = CompressionReport(
        blocks_per_month=[len(m.blocks) for m in out],
        overhead_max=max(overheads, default=0.0),
        overhead_mean=float(np.mean(overheads)) if overheads else 0.0,
    )
    return out, report


# --------------------------------------------------------------------------- invariants


def block_invariants(month: MonthDemand, hours_per_month: float, *, rel: float = 1e-9) -> list[str]:
    """Everything that must hold between a month's exact hourly demand and its blocks
    (an empty list when the blocks are sound). Used by tests and as a self-check."""
    problems: list[str] = []
    if len(month.block_of_hour) != month.hours:
        problems.append(
            f"{month.month}: {len(month.block_of_hour)} hours mapped, the month has {month.hours}"
        )
        return problems
    counts = np.bincount(np.asarray(month.block_of_hour, dtype=int), minlength=len(month.blocks))
    for block in month.blocks:
        if counts[block.index] != block.hours:
            problems.append(
                f"{month.month}: block {block.index} says {block.hours} hours, maps {counts[block.index]}"
            )
    billed = sum(b.billed_hours for b in month.blocks)
    if abs(billed - hours_per_month) > 1e-6 * hours_per_month:
        problems.append(f"{month.month}: billed hours sum to {billed:.6f}, not {hours_per_month:g}")
    block_of_hour = np.asarray(month.block_of_hour, dtype=int)
    for name, values in month.hourly.items():
        hourly = np.asarray(values)
        block_levels = np.array([b.level.get(name, 0.0) for b in month.blocks])
        levels = block_levels[block_of_hour]
        above = np.flatnonzero(hourly > levels * (1 + rel) + 1e-12)
        if above.size:
            h = int(above[0])
            problems.append(
                f"{month.month}: {name} hour {h} ({hourly[h]:.6g}) is above its block level "
                f"({levels[h]:.6g}) in {above.size} hour(s)"
            )
        peak = np.full(len(month.blocks), -np.inf)
        np.maximum.at(peak, block_of_hour, hourly)
        for b in np.flatnonzero(block_levels > peak * (1 + rel) + 1e-12):
            problems.append(
                f"{month.month}: {name} block {int(b)} level is above every hour it covers"
            )
    return problems + _event_problems(month)


def _event_problems(month: MonthDemand) -> list[str]:
    """Event hours sit in their event's block(s), and ordinary hours in ordinary blocks."""
    problems: list[str] = []
    expected: dict[int, str] = {}
    for name, hours in month.event_hours.items():
        expected.update(dict.fromkeys(hours, name))
    for h, b in enumerate(month.block_of_hour):
        have = month.blocks[b].event
        want = expected.get(h)
        if have != want:
            what = f"event `{want}`" if want else "no event"
            problems.append(
                f"{month.month}: hour {h} has {what} but sits in block {b} ({month.blocks[b].label})"
            )
            break
    return problems
