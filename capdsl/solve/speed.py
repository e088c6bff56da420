"""How fast this machine does capdsl's work, against the machine its rates were fitted on.

A time limit is spent as a deterministic *work budget* (``decompose.py``, ``search.py``):
CP-SAT's deterministic time and the work the decomposition counts, converted from seconds at
rates measured on a reference 2-core machine. On a machine twice as fast, the same budget
ends in half the wall clock, and a search that could have used the rest stops early (the L
benchmark with one level a month: 15 s of a 30 s limit on a machine 1.45 times as fast).
So the budget is ``time_limit * speed``, where ``speed`` is this machine's:

- ``CAPDSL_SPEED=<number>`` fixes it (``1`` is the reference machine: the same plan on every
  machine for the same seed; the test suite runs so);
- otherwise (or ``CAPDSL_SPEED=auto``) it is measured once per machine by a short probe
  (``probe``: a CP-SAT model on as many threads as the search uses, and plain Python) and
  kept in the user cache dir (``speed.json``, keyed by processor, cores, Python and OR-Tools
  versions), so every run on this machine gets the same speed and the same plans.
  ``capdsl speed --again`` measures it again (after moving to other hardware the key
  changes, and it is measured anew anyway).

The speed is the slower of the two probes' ratios to the reference, times ``MARGIN`` (a
machine measured faster than it runs would overrun the time limit, one measured slower only
leaves some of it unused), rounded to ``STEP``, within ``[MIN_SPEED, MAX_SPEED]``.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

# The probes' wall clock on the reference machine (the one the work rates were fitted on),
# best of ``REPEATS``: measured on a machine 1.45 times as fast (the same benchmark runs, the
# M and L benchmarks with one level a month: 5.0 s for 7.3 s, 15.4 s for 22.6 s), times that
REFERENCE_CP_S = 0.303 * 1.45
REFERENCE_PY_S = 0.034 * 1.45
# the CP-SAT probe's deterministic time, and how many times each probe runs (the best counts)
PROBE_DTIME = 0.2
REPEATS = 3
STEP = 0.05
# the share of the measured speed used: the work counted is within 5-20% of the wall clock
# on the reference machine, and at the full measured speed the M benchmark with daily shapes
# ended at 10.2 s of its 10 s on a machine measured 1.5 times as fast
MARGIN = 0.9
MIN_SPEED = 0.25
MAX_SPEED = 4.0
ENV = "CAPDSL_SPEED"
CACHE_FILE = "speed.json"

_lock = threading.Lock()
_speeds: dict[int, float] = {}  # this process's speed by threads, once known


@dataclass(frozen=True)
class Measured:
    speed: float
    cp_s: float  # the CP-SAT probe's wall clock (the slowest thread, best of the repeats)
    py_s: float  # the Python probe's
    key: str  # the machine it was measured on
    when: str  # ISO date and time (UTC)


def machine_key(threads: int) -> str:
    """What the speed depends on: processor, cores (and the search's threads), Python and
    OR-Tools versions."""
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}|{os.cpu_count()} cores|{threads} threads|"
        f"python {platform.python_version()}|ortools {version('ortools')}"
    )


def _cp_probe() -> float:
    """Wall seconds of a fixed CP-SAT model (a multi-dimensional knapsack that is not proven
    in the time: it runs to its deterministic limit) on one worker."""
    from ortools.sat.python import cp_model

    rng = 12345

    def rnd(n: int) -> int:
        nonlocal rng
        rng = (rng * 1103515245 + 12345) % (2**31)
        return rng % n

    model = cp_model.CpModel()
    xs = [model.new_int_var(0, 3, f"x{i}") for i in range(120)]
    for _ in range(6):
        w = [1 + rnd(1000) for _ in xs]
        model.add(sum(wi * x for wi, x in zip(w, xs, strict=True)) <= sum(w))
    model.maximize(sum((1 + rnd(1000)) * x for x in xs))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = PROBE_DTIME
    solver.parameters.max_time_in_seconds = 30.0
    started = time.perf_counter()
    solver.solve(model)
    return time.perf_counter() - started


def _py_probe() -> float:
    """Wall seconds of fixed plain-Python work (dicts, integers, fractions: what scheduling,
    pricing and verifying a plan do)."""
    started = time.perf_counter()
    d: dict[tuple[int, int], int] = {}
    acc = 0
    for i in range(200_000):
        key = (i % 997, i % 13)
        d[key] = d.get(key, 0) + i
        acc += i * 3 // 7
    sum((Fraction(i, 7) for i in range(3000)), Fraction(0))
    return time.perf_counter() - started


def probe(threads: int) -> Measured:
    """Measure this machine: the CP-SAT probe on ``threads`` threads at once (the decomposition
    runs its models so; the slowest counts), the Python probe alone; best of ``REPEATS``."""
    cp_s = float("inf")
    py_s = float("inf")
    for _ in range(REPEATS):
        n = max(1, threads)
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="capdsl-speed") as pool:
            walls = list(pool.map(lambda _: _cp_probe(), range(n)))
        cp_s = min(cp_s, max(walls))
        py_s = min(py_s, _py_probe())
    raw = min(REFERENCE_CP_S / cp_s, REFERENCE_PY_S / py_s) * MARGIN
    speed = min(MAX_SPEED, max(MIN_SPEED, round(raw / STEP) * STEP))
    return Measured(
        speed=round(speed, 2),
        cp_s=round(cp_s, 4),
        py_s=round(py_s, 4),
        key=machine_key(threads),
        when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def cache_path() -> Path:
    """``$CAPDSL_CACHE_DIR/speed.json`` if that is set, else in the user cache dir."""
    override = os.environ.get("CAPDSL_CACHE_DIR")
    if override:
        return Path(override).expanduser() / CACHE_FILE
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("capdsl", appauthor=False)) / CACHE_FILE


def cached(threads: int) -> Measured | None:
    """The speed measured on this machine before, if any (and readable)."""
    try:
        data = json.loads(cache_path().read_text())
        got = Measured(**data)
    except (OSError, ValueError, TypeError):
        return None
    if got.key != machine_key(threads) or not MIN_SPEED <= got.speed <= MAX_SPEED:
        return None
    return got


def measure(threads: int) -> Measured:
    """Measure this machine now and keep the result (written whole: a temporary file
    renamed over the old one; a cache that cannot be written is not an error)."""
    got = probe(threads)
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(got), indent=2) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass
    return got


def fixed_speed() -> float | None:
    """``CAPDSL_SPEED`` as a number, or None for ``auto`` (or unset). A value that is neither
    raises ValueError."""
    text = os.environ.get(ENV, "").strip().lower()
    if text in ("", "auto"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise ValueError(
            f"{ENV}={os.environ[ENV]!r}: expected 'auto' or a number from {MIN_SPEED:g} to "
            f"{MAX_SPEED:g} (1 = the reference machine, the same plans on every machine)"
        )
    return value


def machine_speed(threads: int | None = None) -> float:
    """This machine's speed for a search on ``threads`` threads (by default as many as a
    search uses: ``search.default_workers``): ``CAPDSL_SPEED`` if it is a number, else the
    speed measured on this machine (once, then cached)."""
    value = fixed_speed()
    if value is not None:
        return value
    if threads is None:
        from capdsl.solve.search import default_workers

        threads = default_workers()
    with _lock:
        if threads not in _speeds:
            _speeds[threads] = (cached(threads) or measure(threads)).speed
        return _speeds[threads]
