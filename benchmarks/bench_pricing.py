"""Column generation (``Decomposer.price_columns``) on and off, side by side.

    python benchmarks/bench_pricing.py [--size M] [--seeds 0,1,2,3,4,5] [--limit 60] [--no-write]

On plans generated with one demand level a month (``capdsl.bench.generate``), each seed is
solved twice at the same time limit on 2 threads: as shipped, and with column generation
left out (``PRICE_MIN_ROUNDS`` set so that it never starts). It runs only with the work the
search leaves, so at the benchmark's own limits (M 10 s, L 30 s) the two agree; this shows
what it does with longer ones. Writes its section of ``benchmarks/RESULTS.md`` between
``<!-- pricing:start -->`` and ``<!-- pricing:end -->``.
"""

from __future__ import annotations

import argparse
import platform
import time

import results

import capdsl.solve.decompose as decompose
from capdsl.bench.generate import generate
from capdsl.solve.prune import prepare

START, END = "<!-- pricing:start -->", "<!-- pricing:end -->"


def solve(size: str, seed: int, limit: float, pricing: bool) -> tuple[float, float, float]:
    """(objective, bound, wall seconds) of one decomposed solve."""
    ctx = prepare(generate(size, seed, demand="monthly"))
    shipped = decompose.PRICE_MIN_ROUNDS
    decompose.PRICE_MIN_ROUNDS = shipped if pricing else float("inf")
    try:
        started = time.perf_counter()
        res, _ = decompose.solve_decomposed(
            ctx,
            time_limit=limit,
            seed=0,
            threads=2,
            stop=None,
            on_progress=None,
            hint_use={},
            hint_buys=None,
        )
        wall = time.perf_counter() - started
    finally:
        decompose.PRICE_MIN_ROUNDS = shipped
    assert res.objective is not None and res.bound is not None
    return res.objective, res.bound, wall


def gap(objective: float, bound: float) -> float:
    return (objective - bound) / objective * 100


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="M")
    ap.add_argument("--seeds", default="0,1,2,3,4,5")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        off = solve(args.size, seed, args.limit, pricing=False)
        on = solve(args.size, seed, args.limit, pricing=True)
        rows.append((seed, off, on))
        print(seed, off, on, flush=True)
    lines = [
        START,
        "## Column generation (`benchmarks/bench_pricing.py`)",
        "",
        f"Machine: {platform.machine()}, 2 threads, Python {platform.python_version()}; plan "
        f"{args.size} with one demand level a month, generated with each seed; time limit "
        f"{args.limit:g} s; command `python benchmarks/bench_pricing.py --size {args.size} "
        f"--seeds {args.seeds} --limit {args.limit:g}`.",
        "",
        "| seed | without: objective | bound | gap | wall (s) "
        "| with: objective | bound | gap | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, (o1, b1, w1), (o2, b2, w2) in rows:
        lines.append(
            f"| {seed} | ${o1:,.2f} | ${b1:,.2f} | {gap(o1, b1):.2f}% | {w1:.1f} "
            f"| ${o2:,.2f} | ${b2:,.2f} | {gap(o2, b2):.2f}% | {w2:.1f} |"
        )
    mean_off = sum(gap(o, b) for _, (o, b, _w), _ in rows) / len(rows)
    mean_on = sum(gap(o, b) for _, _, (o, b, _w) in rows) / len(rows)
    lines += ["", f"Mean gap: {mean_off:.2f}% without, {mean_on:.2f}% with.", END]
    text = "\n".join(lines)
    if not args.no_write:
        results.write_section(text, START, END)
    print(text)


if __name__ == "__main__":
    main()
