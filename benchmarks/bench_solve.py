"""Benchmark the optimiser on generated plans S, M, L, XL over the bundled AWS catalog.

    python benchmarks/bench_solve.py [--sizes S,M,L,XL] [--demands daily,monthly] [--seed 0] [--no-write]

Per size: build and solve time, objective, bound, gap, variables before/after pruning, peak
RSS; and side by side on the same plan with the same time limit: the naive formulation (one
block per distinct hour, no pruning, no symmetry breaking, one whole-plan CP-SAT model), the
spreadsheet baseline (``capdsl.bench.greedy``) and all on-demand; every size with daily
demand shapes and with one demand level a month (the issue's sizes as it counts their
variables: ``capdsl bench --demand``). Each size runs in its own
process so that peak RSS is that size's. Writes its section of ``benchmarks/RESULTS.md``
between ``<!-- solve:start -->`` and ``<!-- solve:end -->``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import results

START, END = "<!-- solve:start -->", "<!-- solve:end -->"


def run_size(size: str, seed: int, demand: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "capdsl.cli",
            "bench",
            "--size",
            size,
            "--demand",
            demand,
            "--format",
            "json",
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode not in (0, 1):
        raise SystemExit(f"bench {size} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def section(rows: list[dict], seed: int) -> str:  # type: ignore[type-arg]
    from capdsl.bench import label, table

    cores = os.cpu_count()
    speeds = sorted({r.get("speed", 1.0) for r in rows})
    lines = [
        START,
        "## Optimiser (`benchmarks/bench_solve.py`)",
        "",
        f"Machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.system()}; "
        f"seed {seed}; command `python benchmarks/bench_solve.py` (each row: `capdsl bench --size SIZE --demand DEMAND --format json`).",
        "Plans generated over the bundled AWS us-east-1 snapshot (`capdsl/bench/generate.py`): M/M/c capacities at a "
        "p95 SLO, the model's demand compiler (growth, joint blocks), N+1, survive a zone, 30% headroom, spot on half "
        "the workloads, 1y/3y reservations in every payment option. Each size twice: with daily and weekly demand "
        "shapes (some 25 demand blocks a month; rows without a suffix), and with one demand level a month "
        "(`(monthly)`: the issue's sizes as it counts them, M 22k integer variables before pruning against its "
        '"about 12k"; the daily shapes make M 403k). Time limits: S 10 s, M 10 s, L 30 s, XL 60 s, the same for the '
        "naive formulation (plus its build time). Money is the plan's total over the horizon. "
        f"Machine speed {' / '.join(f'{v:g}' for v in speeds)} (`capdsl speed`: a time limit is spent as "
        "that many times its seconds of the reference machine's work, the naive formulation's deterministic "
        "limit too).",
        "",
        table(rows),
        "",
        "Targets (issue 5) and what was reached, honestly:",
        "",
    ]
    for r in rows:
        c, nv = r["capdsl"], r["naive"]
        g = r["greedy"]["objective"]
        vs = f"{(1 - c['objective'] / g) * 100:.1f}%" if c["objective"] and g else "n/a"
        gap = f"{c['gap'] * 100:.2f}%" if c["gap"] is not None else "n/a"
        ngap = f"{nv['gap'] * 100:.2f}%" if nv.get("gap") is not None else "n/a"
        lines.append(
            f"- **{label(r)}**: {c['status']}, verified {c['verified']}, gap {gap} "
            f"in {c['solve_s']} s, peak RSS {c['peak_rss_mb']} MB; cost vs the spreadsheet baseline: {vs} lower; naive: "
            + (
                f"not built ({nv['variables']:,} variables)"
                if nv.get("status") == "not built"
                else f"{nv.get('status')} with gap {ngap}"
            )
            + f"; search: {c['search'][:240]}"
        )
    lines += ["", "Against the issue's targets:", ""]
    lines += targets(rows)
    lines += ["", "Raw figures (JSON, one object per size):", "", "```json"]
    lines += [json.dumps(r, sort_keys=True) for r in rows]
    lines += ["```", END]
    return "\n".join(lines)


TARGETS = {"M": (0.001, 10.0), "L": (0.005, 30.0), "XL": (0.01, 60.0)}


def targets(rows: list[dict]) -> list[str]:  # type: ignore[type-arg]
    from capdsl.bench import label

    out = []
    below_all: list[float] = []
    for r in rows:
        c = r["capdsl"]
        if r["size"] in TARGETS:
            gap, secs = TARGETS[r["size"]]
            met = c["gap"] is not None and c["gap"] <= gap and c["solve_s"] <= secs
            extra = " and under 2 GB RSS" if r["size"] == "XL" else ""
            out.append(
                f"- {label(r)}: gap <= {gap * 100:g}% in <= {secs:g} s{extra}: "
                f"{'met' if met else 'NOT met'} (gap {c['gap'] * 100:.2f}% in {c['solve_s']} s)"
                if c["gap"] is not None
                else f"- {label(r)}: gap <= {gap * 100:g}% in <= {secs:g} s{extra}: NOT met (no bound; {c['solve_s']} s)"
            )
        g = r["greedy"]["objective"]
        if c["objective"] and g:
            below = (1 - c["objective"] / g) * 100
            below_all.append(below)
            out.append(
                f"- {label(r)}: >= 10% below the spreadsheet baseline: {'met' if below >= 10 else 'NOT met'} ({below:.1f}%)"
            )
        nv = r["naive"]
        reach = r["naive_time_to_capdsl_gap_s"]
        out.append(
            f"- {label(r)}: naive formulation to capdsl's gap: "
            + (
                "not built (too large)"
                if nv.get("status") == "not built"
                else f"{reach} s"
                if reach is not None
                else "never within its time limit"
            )
        )
    if below_all:
        # (the target is on the median: "median cost >= 10% below greedy")
        median = statistics.median(below_all)
        out.append(
            f"- median over the {len(below_all)} rows: >= 10% below the spreadsheet baseline: "
            f"{'met' if median >= 10 else 'NOT met'} ({median:.1f}%)"
        )
    return out


def write(text: str) -> None:
    results.write_section(text, START, END)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="S,M,L,XL")
    ap.add_argument("--demands", default="daily,monthly")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--from-json", help="re-render from a file of JSON lines (one per size) instead of running"
    )
    args = ap.parse_args()
    rows = []
    if args.from_json:
        text = Path(args.from_json).read_text().split(START)[0]  # a log of a run: its JSON lines
        rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    for demand in [] if args.from_json else args.demands.split(","):
        for size in args.sizes.split(","):
            row = run_size(size.strip().upper(), args.seed, demand.strip())
            rows.append(row)
            print(json.dumps(row, sort_keys=True), flush=True)
    text = section(rows, args.seed)
    if not args.no_write:
        write(text)
    print(text)


if __name__ == "__main__":
    main()
