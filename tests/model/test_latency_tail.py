"""The M/M/c response-time tail stays finite and monotone for heavy loads and long waits."""

from __future__ import annotations

import itertools
import math

import pytest

from capdsl.model.latency import response_tail


@pytest.mark.parametrize("util", [0.5, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("servers", [1, 2, 8, 64])
def test_tail_is_a_probability_that_decreases_in_t(servers: int, util: float) -> None:
    mu = 40.0
    lam = util * servers * mu
    ts = [0.001 * 2**k for k in range(24)]  # 1 ms .. ~2.3 h
    tails = [response_tail(t, servers, mu, lam) for t in ts]
    assert all(0.0 <= p <= 1.0 and math.isfinite(p) for p in tails)
    assert all(a >= b - 1e-15 for a, b in itertools.pairwise(tails))
    assert tails[-1] < 1e-6


def test_direct_and_expm1_forms_agree_where_they_meet() -> None:
    """Around -d t = 1 the two algebraic forms must give the same value."""
    servers, mu = 4, 40.0
    lam = 0.97 * servers * mu  # theta = 4.8 < mu: d < 0
    theta = servers * mu - lam
    d = theta - mu
    t_switch = 1.0 / -d
    below = response_tail(t_switch * (1 - 1e-9), servers, mu, lam)
    above = response_tail(t_switch * (1 + 1e-9), servers, mu, lam)
    assert below == pytest.approx(above, rel=1e-6)
