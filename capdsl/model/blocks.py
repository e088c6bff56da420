"""Demand blocks: group a month's hours jointly across workloads (OPTIMIZER.md "Demand blocks").

On-demand and spot can change between hours at no cost, so the solver only needs to know
which hours look alike, not their order. This pass groups the hours of one month into a few
blocks, following the two rules that keep plans correct:

1. a block's level is the **maximum** demand of each workload over the hours it stands for
   (never the mean), so capacity planned for the block covers every one of its hours;
2. hours are grouped **jointly** by the vector of every workload's demand in that hour, so
   hours where one workload peaks while another idles are not forced together.

Algorithm: start from the exact distinct vectors (hour-of-day x day-of-week x events give at
most 168 of them per month plus event hours, and grouping them adds nothing), then merge
greedily the pair of groups whose merge adds the least capacity-hours, measured per
workload relative to its exact capacity-hours of the month. Hours under different sets of
events are never merged: events keep their own block(s). Merging stops

- at ``target_blocks`` (+ ``per_event_blocks`` for each set of events in the month), unless
  merges keep the worst workload's overhead under ``free_overhead``;
- earlier, when the next merge would lift a workload's overhead above ``max_overhead``
  (more blocks where the demand is irregular), but never above ``max_blocks``.

The overhead reported for a month is the worst workload's
``sum_h (level(block(h)) - demand(h)) / sum_h demand(h)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CompressionOptions:
    target_blocks: int = 12
    per_event_blocks: int = 3
    max_overhead: float = 0.02
    free_overhead: float = 0.005
    max_blocks: int = 64


@dataclass(frozen=True)
class Grouping:
    """``block_of_hour[h]`` indexes ``levels`` (blocks x workloads) and ``hours``."""

    block_of_hour: np.ndarray
    levels: np.ndarray
    hours: np.ndarray
    event_ids: np.ndarray  # per block: the event-set id of its hours (0 = no event)
    overhead: np.ndarray  # per workload, relative to its exact capacity-hours


def overhead_of(hourly: np.ndarray, block_of_hour: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per workload: capacity-hours added by planning each hour at its block's level."""
    if hourly.shape[0] == 0:
        return np.zeros(0)
    planned = levels[block_of_hour].T  # (W, H)
    total = hourly.sum(axis=1)
    added = (planned - hourly).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total > 0, added / np.where(total > 0, total, 1.0), 0.0)
    return out


class _Merger:
    """Greedy agglomeration of exact groups with a pairwise cost matrix."""

    def __init__(
        self, levels: np.ndarray, counts: np.ndarray, keys: np.ndarray, weight: np.ndarray
    ):
        self.levels = levels.copy()
        self.counts = counts.astype(float)
        self.keys = keys
        self.weight = weight
        n = levels.shape[0]
        self.alive = np.ones(n, dtype=bool)
        self.parent = np.arange(n)
        self.cost = np.full((n, n), np.inf)
        for i in range(n):
            self._refresh(i)

    def _deltas(self, i: int) -> np.ndarray:
        merged = np.maximum(self.levels[i], self.levels)
        both = (self.counts[i] + self.counts)[:, None]
        return both * merged - self.counts[i] * self.levels[i] - self.counts[:, None] * self.levels

    def _refresh(self, i: int) -> None:
        row = (self._deltas(i) * self.weight).sum(axis=1)
        row[~self.alive] = np.inf
        row[self.keys != self.keys[i]] = np.inf
        row[i] = np.inf
        self.cost[i, :] = row
        self.cost[:, i] = row

    def cheapest(self) -> tuple[int, int, np.ndarray] | None:
        flat = int(np.argmin(self.cost))
        i, j = divmod(flat, self.cost.shape[0])
        if not np.isfinite(self.cost[i, j]):
            return None
        merged = np.maximum(self.levels[i], self.levels[j])
        delta = (self.counts[i] + self.counts[j]) * merged
        delta = delta - self.counts[i] * self.levels[i] - self.counts[j] * self.levels[j]
        return i, j, delta * self.weight

    def merge(self, i: int, j: int) -> None:
        self.levels[i] = np.maximum(self.levels[i], self.levels[j])
        self.counts[i] += self.counts[j]
        self.alive[j] = False
        self.parent[self.parent == j] = i
        self.cost[j, :] = np.inf
        self.cost[:, j] = np.inf
        self._refresh(i)


def _exact_groups(hourly: np.ndarray, event_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (demand vector, event set) rows: (group of each hour, hour of each group)."""
    rows = np.column_stack([hourly.T, event_ids.astype(float)])
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return inverse.ravel(), first


def group_month(
    hourly: np.ndarray, event_ids: np.ndarray, options: CompressionOptions | None = None
) -> Grouping:
    """Group the hours of one month. ``hourly`` is (workloads x hours); ``event_ids[h]`` is
    the id of the set of events active in hour ``h`` (0 = none)."""
    opts = options or CompressionOptions()
    n_w, n_h = hourly.shape
    if n_w == 0:
        return Grouping(
            np.zeros(n_h, dtype=int), np.zeros((1, 0)), np.array([n_h]), np.array([0]), np.zeros(0)
        )
    group_of_hour, _ = _exact_groups(hourly, event_ids)
    n_g = int(group_of_hour.max()) + 1
    levels = np.zeros((n_g, n_w))
    np.maximum.at(levels, group_of_hour, hourly.T)
    counts = np.bincount(group_of_hour, minlength=n_g)
    keys = np.zeros(n_g, dtype=int)
    keys[group_of_hour] = event_ids
    total = hourly.sum(axis=1)
    weight = np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), 0.0)

    n_event_sets = len(set(keys.tolist()) - {0})
    budget = opts.target_blocks + opts.per_event_blocks * n_event_sets
    hard_cap = max(opts.max_blocks, budget)
    merger = _Merger(levels, counts, keys, weight)
    over = np.zeros(n_w)
    alive = n_g
    while alive > 1:
        best = merger.cheapest()
        if best is None:
            break
        i, j, added = best
        worst = float((over + added).max())
        if alive <= budget:
            allowed = worst <= opts.free_overhead
        elif alive <= hard_cap:
            allowed = worst <= opts.max_overhead
        else:
            allowed = True
        if not allowed:
            break
        merger.merge(i, j)
        over = over + added
        alive -= 1

    roots = np.flatnonzero(merger.alive)
    renumber = -np.ones(n_g, dtype=int)
    renumber[roots] = np.arange(roots.size)
    block_of_hour = renumber[merger.parent[group_of_hour]]
    block_levels = np.zeros((roots.size, n_w))
    np.maximum.at(block_levels, block_of_hour, hourly.T)
    hours = np.bincount(block_of_hour, minlength=roots.size)
    block_keys = keys[roots]
    return Grouping(
        block_of_hour,
        block_levels,
        hours,
        block_keys,
        overhead_of(hourly, block_of_hour, block_levels),
    )


def order_blocks(grouping: Grouping, hourly: np.ndarray) -> Grouping:
    """Number blocks for reading: ordinary blocks from the highest demand down, then the
    event blocks in calendar order."""
    n_b = grouping.levels.shape[0]
    mean = hourly.mean(axis=1) if hourly.shape[0] else np.zeros(0)
    scale = np.where(mean > 0, mean, 1.0)
    score = (grouping.levels / scale).sum(axis=1) if hourly.shape[0] else np.zeros(n_b)
    first_hour = np.full(n_b, np.iinfo(np.int64).max)
    np.minimum.at(first_hour, grouping.block_of_hour, np.arange(grouping.block_of_hour.size))
    order = sorted(
        range(n_b),
        key=lambda b: (
            grouping.event_ids[b] != 0,
            first_hour[b] if grouping.event_ids[b] else -score[b],
        ),
    )
    new_index = np.empty(n_b, dtype=int)
    new_index[np.array(order, dtype=int)] = np.arange(n_b)
    return Grouping(
        new_index[grouping.block_of_hour],
        grouping.levels[order],
        grouping.hours[order],
        grouping.event_ids[order],
        grouping.overhead,
    )
