"""Latency -> capacity: what one instance sustains for a workload at its latency SLO.

Two ways to know it (docs/language.md, ``runs on`` settings):

- **measured throughput** (``throughput = 1200 prediction/s``, ``120 prediction/s per vcpu``,
  ``2400 token/s per gpu``): taken as the sustainable rate at the SLO, times ``prompt_cache``;
- **service time + concurrency** (``service_time = 9 ms``, ``concurrency = 1 per vcpu``): the
  instance is an M/M/c queue with ``c`` slots, each serving at rate ``mu = 1 / service_time``.
  The capacity is the largest arrival rate ``lambda`` whose ``p``-th percentile response time
  meets the target (OPTIMIZER.md "Capacity coefficients")::

      a = lambda / mu,  C = ErlangC(c, a),  theta = c*mu - lambda
      P(T > t) = (1 - C) e^(-mu t) + C (theta e^(-mu t) - mu e^(-theta t)) / (theta - mu)

  (the second term tends to ``(1 + mu t) e^(-mu t)`` as ``theta -> mu``). ``P(T > L)`` grows
  with ``lambda``, so the largest ``lambda`` with ``P(T > L) <= 1 - p`` is found by bisection.
  Erlang C comes from the Erlang B recursion (stable for hundreds of slots, no factorials).

An idle instance (``lambda -> 0``) answers in pure service time: ``P(T > L) = e^(-mu L)``, so
its ``p``-th percentile is ``service_time * ln(1 / (1 - p))`` (p95: ~3.0 x the service time).
When that already misses the target no load is sustainable: ``mmc_capacity`` returns 0.0 and
the offering is ineligible for the workload, with the reason kept for explanations.

Latency-model plugins (``register_latency_models``) can replace both with their own curve:
see ``LatencyModel``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from capdsl.pricing.catalog import Offering

# --------------------------------------------------------------------------- Erlang B / C


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with ``servers`` slots and offered load ``load``
    (Erlangs), by the recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, ``B(0) = 1``."""
    if servers < 0:
        raise ValueError("servers must be >= 0")
    if load < 0:
        raise ValueError("load must be >= 0")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (``load`` = lambda / mu Erlangs).

    ``C = c B / (c - a (1 - B))`` with ``B = ErlangB(c, a)``; 1.0 when ``a >= c`` (unstable)."""
    if servers < 1:
        raise ValueError("servers must be >= 1")
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def response_tail(t: float, servers: int, service_rate: float, arrival_rate: float) -> float:
    """``P(T > t)`` for the response time (wait + service) of a FCFS M/M/c queue."""
    mu, lam, c = service_rate, arrival_rate, servers
    if lam >= c * mu:
        return 1.0
    wait = erlang_c(c, lam / mu)
    theta = c * mu - lam
    d = theta - mu
    # (theta e^(-mu t) - mu e^(-theta t)) / (theta - mu) = e^(-mu t) (1 - mu expm1(-d t) / d),
    # which is exact and stable as d -> 0 (limit: (1 + mu t) e^(-mu t)). For a heavily loaded
    # queue (theta < mu) and a long t, expm1(-d t) overflows; there the direct form has no
    # cancellation to fear and both exponentials are <= 1.
    if d < 0 and -d * t > 1.0:
        waited = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / d
    else:
        ratio = -t if abs(d * t) < 1e-12 else math.expm1(-d * t) / d
        waited = math.exp(-mu * t) * (1.0 - mu * ratio)
    return (1.0 - wait) * math.exp(-mu * t) + wait * waited


def idle_percentile(service_time_s: float, percentile: float) -> float:
    """The ``percentile`` response time of an idle instance: pure exponential service."""
    return service_time_s * math.log(1.0 / (1.0 - percentile))


@functools.lru_cache(maxsize=4096)
def mmc_capacity(servers: int, service_time_s: float, percentile: float, target_s: float) -> float:
    """Largest arrival rate (per second) one M/M/c instance sustains with its ``percentile``
    response time at most ``target_s``; 0.0 when even an idle instance misses the target.
    (Cached: many offerings share a slot count.)"""
    if servers < 1:
        raise ValueError("servers must be >= 1")
    if service_time_s <= 0 or target_s <= 0:
        raise ValueError("service time and target must be positive")
    if not 0.0 < percentile < 1.0:
        raise ValueError("percentile must be in (0, 1)")
    allowed = 1.0 - percentile
    mu = 1.0 / service_time_s
    if math.exp(-mu * target_s) > allowed:
        return 0.0
    lo, hi = 0.0, servers * mu
    # P(T > L) increases with lambda: keep lo feasible, hi infeasible.
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if response_tail(target_s, servers, mu, mid) <= allowed:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return lo


# --------------------------------------------------------------------------- per offering


@dataclass(frozen=True)
class CapacitySpec:
    """What a ``runs on`` block says about one instance (already unit-resolved).

    Exactly how much one instance does is derived from either ``throughput`` (measured,
    with ``throughput_basis`` ``instance``, ``vcpu`` or ``gpu``) or ``service_time_s`` with
    ``concurrency`` slots (``concurrency_basis``: ``instance`` = a fixed number, ``vcpu`` or
    ``gpu`` = per vCPU / per GPU), or a plugin ``latency_model``. When both throughput and a
    service time are given, the smaller capacity wins (the measurement caps the queue model).
    """

    throughput: float | None = None  # unit/s
    throughput_basis: str = "instance"
    service_time_s: float | None = None
    concurrency: float = 1.0
    concurrency_basis: str = "vcpu"
    prompt_cache: float = 1.0
    min_memory_gib: float | None = None
    min_gpu_memory_gib: float | None = None
    arch: tuple[str, ...] = ()
    gpus: tuple[str, ...] = ()
    latency_model: str | None = None
    model_options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CapacityResult:
    """``per_instance`` > 0 with ``basis``, or 0.0 with the ``reason`` it is ineligible."""

    per_instance: float
    basis: str = ""
    reason: str = ""
    servers: int | None = None  # M/M/c slots, when the queue model gave per_instance
    service_time_s: float | None = None
    prompt_cache: float = 1.0


@runtime_checkable
class LatencyModel(Protocol):
    """A latency-model plugin: a capacity curve of its own (e.g. a measured load-test table).

    Registered with the ``register_latency_models(register)`` hook and selected by a plan
    with ``latency_model = "NAME"`` inside ``runs on`` (options from a nested
    ``model_options { key = "value" }`` block arrive as ``options``). ``capacity`` returns
    the sustainable rate of one instance of ``offering`` in the workload's unit per second,
    with the ``percentile`` response time at most ``target_s`` (both None for a workload
    without a latency SLO). Return 0.0 when the offering cannot meet the SLO even idle;
    raise ``ValueError`` with a message (lowercase, no trailing period) when the model does
    not know the offering. ``prompt_cache`` is applied by capdsl on top of the result.
    """

    name: str

    def capacity(
        self,
        offering: Offering,
        *,
        workload: str,
        unit: str,
        percentile: float | None,
        target_s: float | None,
        options: Mapping[str, str],
    ) -> float: ...


def slots(spec: CapacitySpec, offering: Offering) -> int:
    """Concurrency slots ``c`` of one instance."""
    per = {"instance": 1.0, "vcpu": float(offering.vcpu), "gpu": float(offering.gpu_count)}
    return math.floor(spec.concurrency * per[spec.concurrency_basis] + 1e-9)


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _pct(percentile: float) -> str:
    value = percentile * 100
    return f"p{value:g}"


def eligibility(spec: CapacitySpec, offering: Offering) -> str | None:
    """Why ``offering`` cannot run the workload at all (hardware filters), or None."""
    if spec.arch and offering.arch not in spec.arch:
        return f"needs arch {' or '.join(spec.arch)}, {offering.instance_type} is {offering.arch}"
    if spec.gpus and (offering.gpu_model or "") not in spec.gpus:
        has = offering.gpu_model or "no GPU"
        return f"needs GPU {' or '.join(spec.gpus)}, {offering.instance_type} has {has}"
    if spec.min_memory_gib is not None and offering.memory_gib + 1e-9 < spec.min_memory_gib:
        return f"needs {spec.min_memory_gib:g} GiB memory, {offering.instance_type} has {offering.memory_gib:g}"
    if spec.min_gpu_memory_gib is not None:
        if offering.gpu_count <= 0:
            return f"needs {spec.min_gpu_memory_gib:g} GiB GPU memory, {offering.instance_type} has no GPU"
        if offering.gpu_memory_gib + 1e-9 < spec.min_gpu_memory_gib:
            return (
                f"needs {spec.min_gpu_memory_gib:g} GiB GPU memory, "
                f"{offering.instance_type} has {offering.gpu_memory_gib:g}"
            )
    needs_gpu = spec.throughput_basis == "gpu" or spec.concurrency_basis == "gpu"
    if needs_gpu and offering.gpu_count <= 0:
        return f"capacity is given per GPU, {offering.instance_type} has no GPU"
    return None


def measured_capacity(spec: CapacitySpec, offering: Offering) -> CapacityResult:
    assert spec.throughput is not None
    per = {"instance": 1.0, "vcpu": float(offering.vcpu), "gpu": float(offering.gpu_count)}
    value = spec.throughput * per[spec.throughput_basis] * spec.prompt_cache
    basis = "measured throughput" + (
        "" if spec.throughput_basis == "instance" else f" per {spec.throughput_basis}"
    )
    if spec.prompt_cache != 1.0:
        basis += f" x {spec.prompt_cache:g} prompt cache"
    return CapacityResult(value, basis=basis)


def queue_capacity(
    spec: CapacitySpec, offering: Offering, percentile: float, target_s: float
) -> CapacityResult:
    assert spec.service_time_s is not None
    c = slots(spec, offering)
    if c < 1:
        return CapacityResult(0.0, reason=f"{offering.instance_type} has no concurrency slot")
    lam = mmc_capacity(c, spec.service_time_s, percentile, target_s)
    if lam <= 0.0:
        idle = idle_percentile(spec.service_time_s, percentile)
        return CapacityResult(
            0.0,
            reason=(
                f"{_pct(percentile)} of an idle {offering.instance_type} is "
                f"{_fmt_ms(idle)} > {_fmt_ms(target_s)}"
            ),
        )
    basis = f"M/M/{c} at {_pct(percentile)} < {_fmt_ms(target_s)}, service time {_fmt_ms(spec.service_time_s)}"
    if spec.prompt_cache != 1.0:
        basis += f", x {spec.prompt_cache:g} prompt cache"
    return CapacityResult(
        lam * spec.prompt_cache,
        basis=basis,
        servers=c,
        service_time_s=spec.service_time_s,
        prompt_cache=spec.prompt_cache,
    )


def plugin_capacity(
    spec: CapacitySpec,
    offering: Offering,
    model: LatencyModel,
    *,
    workload: str,
    unit: str,
    percentile: float | None,
    target_s: float | None,
) -> CapacityResult:
    try:
        value = float(
            model.capacity(
                offering,
                workload=workload,
                unit=unit,
                percentile=percentile,
                target_s=target_s,
                options=dict(spec.model_options),
            )
        )
    except ValueError as exc:
        return CapacityResult(0.0, reason=f"latency model `{model.name}`: {exc}")
    if not math.isfinite(value) or value <= 0.0:
        slo = f" at {_pct(percentile)} < {_fmt_ms(target_s)}" if percentile and target_s else ""
        return CapacityResult(0.0, reason=f"latency model `{model.name}` gives no capacity{slo}")
    return CapacityResult(value * spec.prompt_cache, basis=f"latency model `{model.name}`")


def instance_capacity(
    spec: CapacitySpec,
    offering: Offering,
    *,
    percentile: float | None,
    target_s: float | None,
    model: LatencyModel | None = None,
    workload: str = "",
    unit: str = "",
) -> CapacityResult:
    """Capacity of one instance of ``offering`` for a service or stream workload."""
    reason = eligibility(spec, offering)
    if reason:
        return CapacityResult(0.0, reason=reason)
    if model is not None:
        return plugin_capacity(
            spec,
            offering,
            model,
            workload=workload,
            unit=unit,
            percentile=percentile,
            target_s=target_s,
        )
    results: list[CapacityResult] = []
    if spec.throughput is not None:
        results.append(measured_capacity(spec, offering))
    if spec.service_time_s is not None:
        if percentile is None or target_s is None:
            raise ValueError("a service time needs a latency target")
        results.append(queue_capacity(spec, offering, percentile, target_s))
    if not results:
        raise ValueError("no throughput, service time or latency model")
    blocked = [r for r in results if r.per_instance <= 0.0]
    if blocked:
        return blocked[0]
    return min(results, key=lambda r: r.per_instance)


def batch_capacity(spec: CapacitySpec, offering: Offering, work_unit: str) -> CapacityResult:
    """Work units one instance delivers per hour: its GPUs (``gpu_hour``), its vCPUs
    (``vcpu_hour``), or the measured ``throughput`` (per hour) when given."""
    reason = eligibility(spec, offering)
    if reason:
        return CapacityResult(0.0, reason=reason)
    if spec.throughput is not None:
        result = measured_capacity(spec, offering)
        return CapacityResult(result.per_instance * 3600.0, basis=result.basis)
    if work_unit == "gpu_hour":
        if offering.gpu_count <= 0:
            return CapacityResult(
                0.0, reason=f"work is in gpu_hour, {offering.instance_type} has no GPU"
            )
        return CapacityResult(
            float(offering.gpu_count), basis=f"{offering.gpu_count:g} GPU per instance"
        )
    if work_unit == "vcpu_hour":
        return CapacityResult(float(offering.vcpu), basis=f"{offering.vcpu} vCPU per instance")
    return CapacityResult(0.0, reason=f"no throughput given for work in `{work_unit}`")
