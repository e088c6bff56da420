"""Latency -> capacity: Erlang C against published values, M/M/c against a simulation."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from capdsl.model import latency
from capdsl.model.latency import (
    CapacitySpec,
    batch_capacity,
    erlang_b,
    erlang_c,
    idle_percentile,
    instance_capacity,
    mmc_capacity,
    response_tail,
)
from capdsl.pricing.catalog import Offering

# Published Erlang C values (probability that an arrival waits), (servers, Erlangs, C, tol):
PUBLISHED = [
    # The classic table value: 10 servers at 8 Erlangs -> 0.409 (e.g. Kleinrock, Queueing
    # Systems vol. 1; any Erlang C table).
    (10, 8.0, 0.409, 5e-4),
    # callcentrehelper.com, "Erlang C Formula - Made Simple With an Easy Worked Example":
    # 100 calls / 30 min at 180 s handle time = 10 Erlangs, 11 agents -> Pw = 68.21%.
    (11, 10.0, 0.6821, 5e-5),
    # Textbook exercise (M/M/10, 120 customers/h, 3 min each = 6 Erlangs): "from the Erlang C
    # curve, the probability of waiting is about 0.10".
    (10, 6.0, 0.10, 2e-3),
    # Closed forms: M/M/1 waits with probability rho; M/M/2 with 2 rho^2 / (1 + rho).
    (1, 0.5, 0.5, 1e-12),
    (2, 1.0, 2 * 0.5**2 / 1.5, 1e-12),
    (2, 1.5, 2 * 0.75**2 / 1.75, 1e-12),
]


@pytest.mark.parametrize(("servers", "load", "expected", "tol"), PUBLISHED)
def test_erlang_c_matches_published_values(
    servers: int, load: float, expected: float, tol: float
) -> None:
    assert erlang_c(servers, load) == pytest.approx(expected, abs=tol)


def test_erlang_c_table_catches_an_off_by_one_in_servers() -> None:
    """One server more or less is far outside the table's tolerance."""
    for servers, load, expected, tol in PUBLISHED[:2]:
        assert abs(erlang_c(servers - 1, load) - expected) > 100 * tol
        assert abs(erlang_c(servers + 1, load) - expected) > 100 * tol


def test_erlang_b_recursion_is_stable_for_many_servers() -> None:
    # Factorials of 192 overflow floats; the recursion does not.
    assert 0.0 < erlang_c(192, 180.0) < 1.0
    assert erlang_b(192, 0.0) == 0.0
    assert erlang_c(192, 192.0) == 1.0
    # Exact B(1, a) = a / (1 + a).
    assert erlang_b(1, 3.0) == pytest.approx(0.75)


def test_response_tail_limit_when_theta_equals_mu() -> None:
    # c = 2, mu = 1, lambda = 1  ->  theta = c mu - lambda = 1 = mu.
    t = 0.7
    exact = response_tail(t, 2, 1.0, 1.0)
    nearby = response_tail(t, 2, 1.0, 1.0 - 1e-7)
    assert exact == pytest.approx(nearby, rel=1e-6)
    c = erlang_c(2, 1.0)
    assert exact == pytest.approx((1 - c) * math.exp(-t) + c * (1 + t) * math.exp(-t), rel=1e-12)


def test_idle_instance_missing_the_slo_has_no_capacity() -> None:
    # p95 of pure 9 ms service is 9 ms * ln 20 = 27.0 ms.
    assert idle_percentile(0.009, 0.95) == pytest.approx(0.02696, abs=1e-5)
    assert mmc_capacity(2, 0.009, 0.95, 0.020) == 0.0
    assert mmc_capacity(2, 0.009, 0.95, 0.030) > 0.0


def test_capacity_meets_the_percentile_exactly_at_the_bound() -> None:
    lam = mmc_capacity(8, 0.009, 0.95, 0.080)
    assert response_tail(0.080, 8, 1 / 0.009, lam) == pytest.approx(0.05, abs=1e-9)
    assert response_tail(0.080, 8, 1 / 0.009, lam * 1.001) > 0.05
    assert lam < 8 / 0.009  # below saturation


def test_capacity_grows_with_servers_and_target() -> None:
    caps = [mmc_capacity(c, 0.009, 0.95, 0.08) for c in (1, 2, 4, 8, 16, 64, 192)]
    assert caps == sorted(caps)
    # Economies of scale: utilisation at the SLO rises with the number of slots.
    util = [cap * 0.009 / c for cap, c in zip(caps, (1, 2, 4, 8, 16, 64, 192), strict=True)]
    assert util == sorted(util) and util[-1] > 0.9
    assert mmc_capacity(8, 0.009, 0.95, 0.05) < mmc_capacity(8, 0.009, 0.95, 0.08)


# --------------------------------------------------------------------------- simulation


def simulate_mmc(servers: int, service_time: float, rate: float, n: int, seed: int) -> list[float]:
    """FCFS M/M/c: each arrival takes the earliest free slot. Returns response times."""
    rng = random.Random(seed)
    free = [0.0] * servers
    heapq.heapify(free)
    t = 0.0
    out = []
    for _ in range(n):
        t += rng.expovariate(rate)
        start = max(t, heapq.heappop(free))
        done = start + rng.expovariate(1.0 / service_time)
        heapq.heappush(free, done)
        out.append(done - t)
    return out[n // 10 :]  # drop the warm-up


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


@pytest.mark.parametrize(("servers", "service_ms", "target_ms"), [(4, 9.0, 40.0), (8, 20.0, 80.0)])
def test_simulated_p95_at_the_computed_capacity_meets_the_target(
    servers: int, service_ms: float, target_ms: float
) -> None:
    lam = mmc_capacity(servers, service_ms / 1000, 0.95, target_ms / 1000)
    measured = p95(simulate_mmc(servers, service_ms / 1000, lam, 120_000, seed=7))
    assert measured == pytest.approx(target_ms / 1000, rel=0.04)


def test_simulation_catches_an_off_by_one_server_model() -> None:
    """A capacity computed for one slot too many breaks the SLO in simulation."""
    servers, service, target = 4, 0.009, 0.040
    wrong = mmc_capacity(servers + 1, service, 0.95, target)
    measured = p95(simulate_mmc(servers, service, wrong, 120_000, seed=7))
    assert measured > target * 1.25


# --------------------------------------------------------------------------- per offering

C7G_LARGE = Offering(
    provider="aws",
    region="us-east-1",
    instance_type="c7g.large",
    vcpu=2,
    memory_gib=4,
    arch="arm64",
    family="c7g",
    on_demand_hourly=None,
)
G6E_XL = Offering(
    provider="aws",
    region="us-east-1",
    instance_type="g6e.xlarge",
    vcpu=4,
    memory_gib=32,
    gpu_model="l40s",
    gpu_count=1,
    gpu_memory_gib=44.703125,
    family="g6e",
)


def test_ineligible_reason_names_the_idle_percentile() -> None:
    spec = CapacitySpec(service_time_s=0.009)
    result = instance_capacity(spec, C7G_LARGE, percentile=0.95, target_s=0.020)
    assert result.per_instance == 0.0
    assert result.reason == "p95 of an idle c7g.large is 27.0 ms > 20.0 ms"


def test_queue_capacity_uses_one_slot_per_vcpu() -> None:
    spec = CapacitySpec(service_time_s=0.009)
    result = instance_capacity(spec, C7G_LARGE, percentile=0.95, target_s=0.080)
    assert result.per_instance == pytest.approx(mmc_capacity(2, 0.009, 0.95, 0.08))
    assert "M/M/2" in result.basis


def test_measured_throughput_per_gpu_times_prompt_cache() -> None:
    spec = CapacitySpec(throughput=2400.0, throughput_basis="gpu", prompt_cache=2.5)
    result = instance_capacity(spec, G6E_XL, percentile=None, target_s=None)
    assert result.per_instance == pytest.approx(6000.0)
    no_gpu = instance_capacity(spec, C7G_LARGE, percentile=None, target_s=None)
    assert no_gpu.per_instance == 0.0 and "no GPU" in no_gpu.reason


def test_memory_and_gpu_memory_filters_give_reasons() -> None:
    spec = CapacitySpec(throughput=100.0, min_gpu_memory_gib=80.0)
    result = instance_capacity(spec, G6E_XL, percentile=None, target_s=None)
    assert result.reason == "needs 80 GiB GPU memory, g6e.xlarge has 44.7031"
    mem = instance_capacity(
        CapacitySpec(throughput=1.0, min_memory_gib=8), C7G_LARGE, percentile=None, target_s=None
    )
    assert mem.reason == "needs 8 GiB memory, c7g.large has 4"
    arch = instance_capacity(
        CapacitySpec(throughput=1.0, arch=("x86_64",)), C7G_LARGE, percentile=None, target_s=None
    )
    assert arch.reason == "needs arch x86_64, c7g.large is arm64"


def test_measured_throughput_caps_the_queue_model() -> None:
    spec = CapacitySpec(service_time_s=0.009, throughput=50.0)
    result = instance_capacity(spec, C7G_LARGE, percentile=0.95, target_s=0.080)
    assert result.per_instance == 50.0


def test_batch_capacity_is_gpus_or_vcpus_per_hour() -> None:
    assert batch_capacity(CapacitySpec(), G6E_XL, "gpu_hour").per_instance == 1.0
    assert batch_capacity(CapacitySpec(), C7G_LARGE, "vcpu_hour").per_instance == 2.0
    assert batch_capacity(CapacitySpec(), C7G_LARGE, "gpu_hour").per_instance == 0.0


class TableModel:
    """A latency-model plugin: a load-test table per instance type."""

    name = "loadtest"

    def capacity(
        self,
        offering: Offering,
        *,
        workload: str,
        unit: str,
        percentile: float | None,
        target_s: float | None,
        options: dict[str, str],
    ) -> float:
        table = {"c7g.large": 310.0}
        if offering.instance_type not in table:
            raise ValueError(f"no load test for {offering.instance_type}")
        return table[offering.instance_type] * float(options.get("scale", "1"))


def test_latency_model_plugin_overrides_and_explains() -> None:
    model = TableModel()
    assert isinstance(model, latency.LatencyModel)
    spec = CapacitySpec(latency_model="loadtest", model_options=(("scale", "2"),))
    ok = instance_capacity(spec, C7G_LARGE, percentile=0.95, target_s=0.08, model=model)
    assert ok.per_instance == 620.0 and ok.basis == "latency model `loadtest`"
    bad = instance_capacity(spec, G6E_XL, percentile=0.95, target_s=0.08, model=model)
    assert (
        bad.per_instance == 0.0
        and bad.reason == "latency model `loadtest`: no load test for g6e.xlarge"
    )
