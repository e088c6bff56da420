"""Named daily and weekly demand shapes, and shaping a profile to a peak-to-average.

All shapes are **relative**: capdsl rescales any profile (named or the 24 / 7 factors a plan
writes) to average 1, so ``baseline`` always stays the average rate. Hours are local hours
of the plan (hour 0 is 00:00-01:00); weeks start on Monday.

Daily shapes (24 factors, shown before rescaling; peak-to-average after rescaling):

- ``flat``      every hour alike (1.0)
- ``retail``    online shopping: night trough ~03:00-05:00, steady daytime, evening peak
                19:00-21:00 (peak-to-average ~1.79)
- ``business``  office-hours B2B: near idle at night, 09:00-16:00 plateau with a lunch dip
                (peak-to-average ~2.2; combine with ``weekly = "weekday"``)
- ``consumer``  social / media apps: broad day, late-evening peak 20:00-22:00 (~1.72)
- ``nightly``   back-office and ETL-fed APIs: peak 01:00-03:00, quiet daytime (~1.98)

Weekly shapes (7 factors, Monday first): ``flat``; ``weekday`` (Mon-Fri 1.15, Sat-Sun 0.6:
B2B traffic); ``weekend`` (Mon-Fri 0.9, Sat-Sun 1.25: leisure traffic).

Peak shaping: ``peak_to_average = 2.2`` (or ``peak`` / ``p95`` as a rate) reshapes the
daily profile as ``f(h) ** beta`` (rescaled to average 1), with ``beta`` chosen by bisection
so that the peak (or the 95th-percentile, nearest-rank) hour of the typical **week**
(daily x weekly factors, without growth or events) is the requested multiple of the average.
The power keeps every hour positive and keeps the shape's order of hours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# fmt: off
DAILY: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 24,
    "retail": (
        0.45, 0.32, 0.24, 0.20, 0.20, 0.25, 0.40, 0.60, 0.80, 0.95, 1.05, 1.10,
        1.15, 1.15, 1.10, 1.10, 1.15, 1.25, 1.40, 1.55, 1.60, 1.50, 1.15, 0.75,
    ),
    "business": (
        0.15, 0.12, 0.10, 0.10, 0.12, 0.18, 0.30, 0.60, 1.20, 1.80, 2.00, 2.00,
        1.70, 1.85, 2.00, 1.95, 1.75, 1.30, 0.80, 0.55, 0.45, 0.35, 0.25, 0.20,
    ),
    "consumer": (
        0.70, 0.50, 0.35, 0.28, 0.25, 0.30, 0.45, 0.65, 0.80, 0.90, 0.95, 1.00,
        1.10, 1.05, 1.00, 1.00, 1.05, 1.15, 1.30, 1.45, 1.55, 1.55, 1.35, 1.00,
    ),
    "nightly": (
        1.80, 2.00, 2.00, 1.90, 1.60, 1.20, 0.80, 0.65, 0.60, 0.60, 0.60, 0.62,
        0.62, 0.60, 0.60, 0.60, 0.62, 0.65, 0.70, 0.75, 0.85, 1.00, 1.30, 1.60,
    ),
}
# fmt: on

WEEKLY: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 7,
    "weekday": (1.15, 1.15, 1.15, 1.15, 1.15, 0.6, 0.6),
    "weekend": (0.9, 0.9, 0.9, 0.9, 0.9, 1.25, 1.25),
}

# The daily shape reshaped when a peak is asked for but no ``diurnal`` is given.
DEFAULT_PEAKED = "consumer"

PeakKind = str  # "peak" | "p95"


def normalised(factors: Sequence[float] | np.ndarray) -> np.ndarray:
    """Rescale to average 1 (raises ValueError for negative factors or an all-zero list)."""
    arr = np.asarray(factors, dtype=float)
    if (arr < 0).any():
        raise ValueError("factors must not be negative")
    mean = float(arr.mean())
    if mean <= 0:
        raise ValueError("factors must not all be zero")
    return arr / mean


def week_profile(
    daily: Sequence[float] | np.ndarray, weekly: Sequence[float] | np.ndarray
) -> np.ndarray:
    """The typical week, shape (7, 24), average 1."""
    return np.outer(normalised(weekly), normalised(daily))


def nearest_rank(values: np.ndarray, q: float) -> float:
    """The nearest-rank ``q``-quantile: the smallest value with at least ``q`` of values <= it."""
    ordered = np.sort(values.ravel())
    k = max(1, math.ceil(q * ordered.size))
    return float(ordered[k - 1])


def statistic(profile: np.ndarray, kind: PeakKind) -> float:
    """Peak (or p95 hour) of a profile relative to its average."""
    mean = float(profile.mean())
    top = float(profile.max()) if kind == "peak" else nearest_rank(profile, 0.95)
    return top / mean


def _powered(daily: np.ndarray, weekly: np.ndarray, beta: float) -> np.ndarray:
    # Scale by the max first so that large exponents cannot overflow.
    return week_profile((daily / daily.max()) ** beta, weekly)


def shape_to_peak(
    daily: Sequence[float], weekly: Sequence[float], target: float, kind: PeakKind = "peak"
) -> tuple[np.ndarray, float]:
    """Reshape ``daily`` so the typical week's peak (or p95) hour is ``target`` x its average.

    Returns the reshaped daily factors (average 1) and the statistic achieved. Raises
    ValueError (lowercase, for a diagnostic) when the target cannot be reached."""
    d = normalised(daily)
    w = normalised(weekly)
    if d.max() - d.min() < 1e-12:
        raise ValueError("a flat daily shape has no peak to shape")
    floor = statistic(_powered(d, w, 0.0), kind)
    if target < floor - 1e-9:
        raise ValueError(
            f"the weekly pattern alone already makes the {kind} {floor:.2f}x the average"
        )
    lo, hi = 0.0, 1.0
    while statistic(_powered(d, w, hi), kind) < target:
        hi *= 2.0
        if hi > 256.0:
            best = statistic(_powered(d, w, hi), kind)
            raise ValueError(
                f"this daily shape cannot reach a {kind} above {best:.2f}x the average"
            )
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if statistic(_powered(d, w, mid), kind) < target:
            lo = mid
        else:
            hi = mid
    shaped = normalised((d / d.max()) ** hi)
    achieved = statistic(week_profile(shaped, w), kind)
    if abs(achieved - target) > 1e-3 * target:
        raise ValueError(
            f"cannot shape the daily profile to a {kind} of {target:.2f}x (got {achieved:.2f}x)"
        )
    return shaped, achieved
