"""Parser benchmark: a generated 10,000-line plan, parse + check vs a bare lark parse.

    python benchmarks/bench_parse.py [--lines 10000] [--runs 7] [--write]

- **parse+check**: ``capdsl.lang.parse_file`` on the text: lexing, LALR parsing with the
  inline AST transformer (spans on every node), the plan's unit declarations, every
  ``let`` evaluated exactly, and the unit of every quantity and the dimensions of every
  arithmetic expression checked. This is what ``capdsl check`` costs before the model.
- **bare lark**: ``Lark.parse`` with the same grammar file (LALR, contextual lexer)
  building a plain lark ``Tree`` and nothing else (no positions: the fastest lark can do
  with this grammar). Also shown with ``propagate_positions=True`` for reference.

Best of ``--runs`` runs each, after one warm-up (the one-off grammar compilation is
reported separately). Targets (issue 3): parse+check under 1 s and within 2x of bare
lark. ``--write`` replaces the section between ``<!-- parse:start -->`` and
``<!-- parse:end -->`` in ``benchmarks/RESULTS.md`` (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from collections.abc import Callable

from lark import Lark
from results import write_section as write_results_section

from capdsl.lang import parse_file
from capdsl.lang.diagnostics import has_errors
from capdsl.lang.parser import get_parser, grammar_text

START, END = "<!-- parse:start -->", "<!-- parse:end -->"

HEADER = """\
# A generated capacity plan for the parser benchmark.
unit prediction, request, token
unit ktok = 1000 token

plan "bench" {
  start   = 2027-01
  horizon = 36 months
}

catalog aws from "bundled" {
  provider = "aws"
  regions  = ["us-east-1", "us-east-2", "eu-west-1"]
  families = ["c7g", "m7g", "c7i", "r7g"]
  discount = 12%
}
"""

SERVICE = """\
# Service {i}: recommendations for shop {i}.
let base_{i} = {b}M prediction/day
let peak_{i} = base_{i} * 4 + 120 prediction/s

service recs_{i} {{
  unit     = prediction
  team     = "team-{t}"
  baseline = base_{i}
  diurnal  = [0.4, 0.3, 0.3, 0.3, 0.4, 0.5, 0.7, 0.9, 1.1, 1.3, 1.4, 1.5]
  growth   = {g}% per month
  event "annual sale" {{ from = 2027-11-24, for = 72 h, scale = 4x, repeat = yearly }}

  runs on aws.c7g.*, aws.m7g.* {{
    service_time = {s} ms
    concurrency  = 1 per vcpu
    memory       = 16 GiB
  }}
  latency p95 < 80 ms
  redundancy = N+1
  survive    = 1 zone
  headroom   = 30%
  spot {{ max = 40%, per_pool = 15% }}
}}

budget team_{i} {{ monthly <= $60k/month + $1.5k/month * {t}, alert = 90% }}
scenario aggressive_{i} {{ recs_{i}.growth = 6% per month, recs_{i}.event."annual sale".scale = 6x }}

"""


def generate(lines: int) -> str:
    parts = [HEADER]
    count = HEADER.count("\n")
    i = 0
    while count < lines:
        block = SERVICE.format(i=i, b=10 + i % 50, t=i % 7, g=1 + i % 5, s=5 + i % 9)
        parts.append(block)
        count += block.count("\n")
        i += 1
    return "".join(parts)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(lines: int, runs: int) -> dict[str, float | int]:
    text = generate(lines)
    t0 = time.perf_counter()
    get_parser()
    build_capdsl = time.perf_counter() - t0
    t0 = time.perf_counter()
    bare = Lark(grammar_text(), parser="lalr", lexer="contextual", cache=False)
    build_bare = time.perf_counter() - t0
    bare_pos = Lark(
        grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True, cache=False
    )

    result = parse_file("bench.cap", text=text)
    if has_errors(result.diagnostics):
        raise SystemExit(f"the generated plan does not check: {result.diagnostics[0]}")
    quantities = text.count(" ms") + text.count("%") + text.count("$")  # rough, for the record

    return {
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "lets": len(result.env),
        "quantities_approx": quantities,
        "check": best_of(runs, lambda: parse_file("bench.cap", text=text)),
        "bare": best_of(runs, lambda: bare.parse(text)),
        "bare_positions": best_of(runs, lambda: bare_pos.parse(text)),
        "build_capdsl": build_capdsl,
        "build_bare": build_bare,
    }


def report(m: dict[str, float | int], runs: int) -> str:
    ratio = float(m["check"]) / float(m["bare"])
    ratio_pos = float(m["check"]) / float(m["bare_positions"])
    ok = float(m["check"]) < 1.0 and ratio <= 2.0
    return "\n".join(
        [
            "## Parser (`benchmarks/bench_parse.py`)",
            "",
            f"Generated plan: {m['lines']:,} lines, {m['bytes']:,} bytes, {m['lets']} `let`s; "
            f"best of {runs} runs after a warm-up; Python {platform.python_version()}, "
            f"{platform.machine()}, {platform.system()}.",
            "",
            "| measure | seconds |",
            "|---|---|",
            f"| parse + check (`parse_file`: AST with spans, units, lets, dimensions) | {m['check']:.3f} |",
            f"| bare lark parse, same grammar (plain tree, no positions) | {m['bare']:.3f} |",
            f"| bare lark parse with `propagate_positions=True` | {m['bare_positions']:.3f} |",
            f"| grammar compilation, once per process (capdsl / bare) | {m['build_capdsl']:.3f} / {m['build_bare']:.3f} |",
            "",
            f"**Ratio parse+check / bare lark: {ratio:.2f}x** ({ratio_pos:.2f}x against lark with positions). "
            f"Targets: under 1 s and within 2x — {'met' if ok else 'NOT met'}.",
        ]
    )


def write_section(text: str) -> None:
    write_results_section(f"{START}\n{text}\n{END}", START, END)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    m = measure(args.lines, args.runs)
    text = report(m, args.runs)
    sys.stdout.write(text + "\n")
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
