"""Demand compilation on the real calendar, and the joint demand blocks' invariants."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capdsl.model.blocks import CompressionOptions
from capdsl.model.demand import (
    CalendarMonth,
    Event,
    RateDemand,
    WorkDemand,
    block_invariants,
    compile_demand,
    hourly_rate,
    months,
)
from capdsl.model.plan import DemandBlock, MonthDemand
from capdsl.model.shapes import DAILY, WEEKLY, shape_to_peak, statistic, week_profile


def test_months_have_their_real_hours() -> None:
    cal = months("2027-11", 4)
    assert [m.label for m in cal] == ["2027-11", "2027-12", "2028-01", "2028-02"]
    assert [m.hours for m in cal] == [720, 744, 744, 696]  # 2028 is a leap year
    assert months("2027-02", 1)[0].hours == 672


def test_weekdays_are_real() -> None:
    weekday, hour = CalendarMonth(0, 2027, 11).weekday_and_hour()
    assert weekday[0] == 0 and hour[0] == 0  # 2027-11-01 is a Monday
    assert weekday[24 * 23] == 2  # 2027-11-24 is a Wednesday


def test_flat_demand_is_the_baseline_and_billed_hours_sum_to_730() -> None:
    spec = RateDemand("api", 100.0)
    out, report = compile_demand([spec], start="2027-01", horizon=3)
    for m in out:
        assert m.blocks[0].level["api"] == pytest.approx(100.0)
        assert len(m.blocks) == 1 and m.overhead == 0.0
        assert sum(b.billed_hours for b in m.blocks) == pytest.approx(730.0)
    assert report.blocks_per_month == [1, 1, 1]


def test_event_lands_on_its_dates_and_spans_two_months() -> None:
    sale = Event("year end", dt.datetime(2027, 11, 29, 18, 0), 72, 4.0)
    spec = RateDemand("shop", 10.0, events=(sale,))
    nov, dec = months("2027-11", 2)
    n_rate, n_active = hourly_rate(spec, nov, 2027)
    d_rate, d_active = hourly_rate(spec, dec, 2027)
    # 29 Nov 18:00 -> 30 Nov 24:00 is 30 hours in November, the other 42 in December.
    assert sorted(n_active) == list(range(28 * 24 + 18, 30 * 24))
    assert sorted(d_active) == list(range(42))
    assert n_rate[28 * 24 + 17] == pytest.approx(10.0) and n_rate[28 * 24 + 18] == pytest.approx(
        40.0
    )
    assert d_rate[41] == pytest.approx(40.0) and d_rate[42] == pytest.approx(10.0)


def test_partial_hours_count_as_event_hours_and_yearly_repeats() -> None:
    sale = Event("sale", dt.datetime(2027, 3, 1, 10, 30), 1, 2.0, yearly=True)
    spec = RateDemand("shop", 1.0, events=(sale,))
    out, _ = compile_demand([spec], start="2027-01", horizon=15)
    march, march_next = out[2], out[14]
    for m in (march, march_next):
        hourly = np.array(m.hourly["shop"])
        assert list(np.flatnonzero(hourly > 1.5)) == [10, 11]
        assert {b.event for b in m.blocks} == {None, "sale"}
    assert all(b.event is None for b in out[3].blocks)


def test_growth_and_seasonality_set_the_month_average() -> None:
    season = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2)
    spec = RateDemand("api", 100.0, growth=0.10, seasonality=season)
    out, _ = compile_demand([spec], start="2027-01", horizon=12)
    mean = 14 / 12
    assert out[0].blocks[0].level["api"] == pytest.approx(100.0 / mean)
    assert out[10].blocks[0].level["api"] == pytest.approx(100.0 * 1.1**10 * 2 / mean)


def test_monthly_table_overrides_baseline_and_growth() -> None:
    spec = RateDemand("api", 100.0, growth=0.5, monthly={"2027-02": 42.0})
    out, _ = compile_demand([spec], start="2027-01", horizon=3)
    assert [m.blocks[0].level["api"] for m in out] == pytest.approx([100.0, 42.0, 225.0])


def test_batch_work_per_month_with_growth_and_one_time_event() -> None:
    spec = WorkDemand("train", 1200.0, growth=0.1, extra={"2027-02": 20_000.0})
    out, _ = compile_demand([], [spec], start="2027-01", horizon=3)
    assert [m.work["train"] for m in out] == pytest.approx([1200.0, 1320.0 + 20_000.0, 1452.0])
    assert [len(m.blocks) for m in out] == [1, 1, 1]
    assert sum(b.billed_hours for b in out[1].blocks) == pytest.approx(730.0)


def test_mean_stays_the_baseline_over_whole_weeks() -> None:
    spec = RateDemand("api", 50.0, daily=DAILY["business"], weekly=WEEKLY["weekday"])
    feb = months("2027-02", 1)[0]  # exactly four weeks
    rate, _ = hourly_rate(spec, feb, 2027)
    assert rate.mean() == pytest.approx(50.0)


@pytest.mark.parametrize("kind", ["peak", "p95"])
@pytest.mark.parametrize("target", [1.5, 2.0, 3.0])
def test_shaping_hits_the_peak_of_the_week(kind: str, target: float) -> None:
    shaped, achieved = shape_to_peak(DAILY["retail"], WEEKLY["weekend"], target, kind)
    assert achieved == pytest.approx(target, rel=1e-3)
    assert shaped.mean() == pytest.approx(1.0)
    assert statistic(week_profile(shaped, WEEKLY["weekend"]), kind) == pytest.approx(
        target, rel=1e-3
    )


def test_shaping_a_flat_day_is_refused() -> None:
    with pytest.raises(ValueError, match="flat daily shape"):
        shape_to_peak(DAILY["flat"], WEEKLY["flat"], 2.0)
    with pytest.raises(ValueError, match="weekly pattern alone"):
        shape_to_peak(DAILY["retail"], WEEKLY["weekday"], 1.05)


def test_two_workloads_peaking_apart_are_not_rank_aligned() -> None:
    """Joint grouping keeps the day peak of one and the night peak of the other apart."""
    day = RateDemand("day", 100.0, daily=DAILY["business"])
    night = RateDemand("night", 100.0, daily=DAILY["nightly"])
    out, _ = compile_demand([day, night], start="2027-01", horizon=1)
    m = out[0]
    peak_day = max(b.level["day"] for b in m.blocks)
    peak_night = max(b.level["night"] for b in m.blocks)
    # No block holds both peaks (rank-aligning the curves would).
    assert not any(b.level["day"] == peak_day and b.level["night"] == peak_night for b in m.blocks)


# --------------------------------------------------------------------------- properties

shapes = st.sampled_from(sorted(DAILY))
weeks = st.sampled_from(sorted(WEEKLY))
factors = st.lists(st.floats(0.05, 5.0), min_size=24, max_size=24).map(tuple)


@st.composite
def events(draw: st.DrawFn) -> Event:
    day = draw(st.integers(0, 80))
    start = dt.datetime(2027, 1, 1) + dt.timedelta(
        days=day, hours=draw(st.integers(0, 23)), minutes=draw(st.sampled_from([0, 30]))
    )
    return Event(
        draw(st.sampled_from(["sale", "launch", "outage drill"])),
        start,
        draw(st.floats(1, 120)),
        draw(st.floats(1.1, 6.0)),
        draw(st.booleans()),
    )


@st.composite
def rate_specs(draw: st.DrawFn, name: str) -> RateDemand:
    daily = draw(st.one_of(shapes.map(lambda s: DAILY[s]), factors))
    return RateDemand(
        name,
        draw(st.floats(0.5, 1e6)),
        daily=daily,
        weekly=WEEKLY[draw(weeks)],
        growth=draw(st.floats(-0.05, 0.2)),
        events=tuple(draw(st.lists(events(), max_size=2))),
        factor=draw(st.floats(0.1, 3.0)),
    )


@st.composite
def workload_sets(draw: st.DrawFn) -> list[RateDemand]:
    n = draw(st.integers(1, 3))
    return [draw(rate_specs(f"w{i}")) for i in range(n)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workload_sets(), st.sampled_from(["2027-01", "2027-02", "2028-02"]))
def test_block_invariants_hold(specs: list[RateDemand], start: str) -> None:
    out, report = compile_demand(specs, start=start, horizon=3)
    for m in out:
        assert block_invariants(m, 730.0) == []
    assert report.overhead_max == max(m.overhead for m in out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workload_sets())
def test_every_events_peak_hour_is_kept(specs: list[RateDemand]) -> None:
    out, _ = compile_demand(specs, start="2027-01", horizon=3)
    for m in out:
        for name, hourly in m.hourly.items():
            peak = max(hourly)
            assert max(b.level[name] for b in m.blocks) == pytest.approx(peak, rel=1e-12)
            for h, value in enumerate(hourly):
                block = m.blocks[m.block_of_hour[h]]
                assert value <= block.level[name] * (1 + 1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(shapes, weeks, st.floats(0.0, 0.05)), min_size=1, max_size=4), st.booleans()
)
def test_overhead_stays_small_on_realistic_demand(
    shapes_: list[tuple[str, str, float]], sale: bool
) -> None:
    """Realistic plans (named shapes, growth, an annual sale) stay within the 2% target."""
    ev = (Event("annual sale", dt.datetime(2027, 11, 24), 72, 4.0, True),) if sale else ()
    specs = [
        RateDemand(f"w{i}", 100.0 * (i + 1), daily=DAILY[d], weekly=WEEKLY[w], growth=g, events=ev)
        for i, (d, w, g) in enumerate(shapes_)
    ]
    _, report = compile_demand(specs, start="2027-10", horizon=3)
    assert report.overhead_max <= CompressionOptions().max_overhead + 1e-9
    assert max(report.blocks_per_month) <= CompressionOptions().max_blocks


# --------------------------------------------------------------------------- wrong models


def _month_with_sale() -> MonthDemand:
    sale = Event("annual sale", dt.datetime(2027, 11, 24), 72, 4.0)
    spec = RateDemand("recs", 500.0, daily=DAILY["retail"], events=(sale,))
    out, _ = compile_demand([spec], start="2027-11", horizon=1)
    return out[0]


def test_invariants_catch_a_compression_that_drops_the_event() -> None:
    m = _month_with_sale()
    assert block_invariants(m, 730.0) == []
    # The wrong model: event hours folded into ordinary blocks at ordinary levels.
    normal = {h: b for h, b in enumerate(m.block_of_hour) if m.blocks[b].event is None}
    by_hour_of_day = {h % 24: b for h, b in normal.items()}
    dropped = [
        b if m.blocks[b].event is None else by_hour_of_day[h % 24]
        for h, b in enumerate(m.block_of_hour)
    ]
    broken = m.model_copy(update={"block_of_hour": dropped})
    problems = block_invariants(broken, 730.0)
    assert any("above its block" in p for p in problems)
    assert any("event" in p for p in problems)


def test_invariants_catch_mean_levels() -> None:
    m = _month_with_sale()
    hourly = np.array(m.hourly["recs"])
    blocks = []
    for b in m.blocks:
        members = [h for h, x in enumerate(m.block_of_hour) if x == b.index]
        blocks.append(b.model_copy(update={"level": {"recs": float(hourly[members].mean())}}))
    problems = block_invariants(m.model_copy(update={"blocks": blocks}), 730.0)
    assert problems and all("above its block" in p or "level" in p for p in problems)


def test_invariants_catch_billed_hours_that_do_not_sum() -> None:
    m = _month_with_sale()
    blocks = [*m.blocks[:-1], DemandBlock(**{**m.blocks[-1].model_dump(), "billed_hours": 1.0})]
    assert any(
        "billed hours" in p
        for p in block_invariants(m.model_copy(update={"blocks": blocks}), 730.0)
    )
