"""The examples in capdsl/codes/<CODE>.md for the model's codes are real output.

Each case edits ``tests/fixtures/model/docs_base.cap`` (a small, valid plan) so that it
shows one problem; the first ```text block of the code's page must be exactly what capdsl
prints for it. After changing a message, regenerate the blocks with
``python tests/model/test_code_docs.py`` and review the diff.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import pytest

from capdsl.codes import get_code
from capdsl.lang import parse_file
from capdsl.lang.diagnostics import render
from capdsl.model import build
from capdsl.pricing.catalog import CatalogQuery, PriceTable

try:
    from .conftest import MODEL_FIXTURES, fake_resolve
except ImportError:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import MODEL_FIXTURES, fake_resolve  # type: ignore[no-redef]

BASE = (MODEL_FIXTURES / "docs_base.cap").read_text(encoding="utf-8")
CODES_DIR = Path(__file__).resolve().parents[2] / "capdsl" / "codes"

Edit = tuple[str, str]

CASES: dict[str, tuple[list[Edit], dict[str, str]]] = {
    "E0302": (
        [("  spot { max = 40%, per_pool = 15% }", "  spto { max = 40%, per_pool = 15% }")],
        {},
    ),
    "E0303": ([("  headroom   = 30%", "  headrom    = 30%")], {}),
    "E0307": ([("runs on aws.c7g.*, aws.m7g.*", "runs on aws.c7x.*, aws.m7g.*")], {}),
    "E0308": ([("  headroom   = 30%", "  headroom   = 30%\n  headroom   = 40%")], {}),
    "E0309": (
        [
            (
                "scenario aggressive { recs.growth = 6% per month }",
                "scenario aggressive { recs.grwth = 6% per month }",
            )
        ],
        {},
    ),
    "E0310": ([("  horizon = 24 months\n", "  horizon = 24 months\n  plan_for = agressive\n")], {}),
    "E0311": ([('diurnal  = "retail"', 'diurnal  = "retial"')], {}),
    "E0312": ([('from "bundled"', 'from "bundld"')], {}),
    "E0313": ([("  baseline = 45M prediction/day\n", "")], {}),
    "E0314": (
        [
            (
                'reserved aws.c7g.2xlarge { zone = "use1-az1"',
                'reserved aws.c7g.2xlarge { zone = "use1-az9"',
            )
        ],
        {},
    ),
    "E0315": (
        [
            (
                "budget { monthly <= $60k, alert = 90% }",
                "budget { monthly <= $60k, alert = 90%, workloads = [rec] }",
            )
        ],
        {},
    ),
    "E0316": ([('families = ["c7g", "m7g"]', 'families = ["c7g", "m7g"]\n  arch = "riscv"')], {}),
    "E0317": ([('catalog aws from "bundled" {', 'catalog aws "bundled" {')], {}),
    "E0318": (
        [
            (
                "  growth   = 3% per month\n",
                '  growth   = 3% per month\n  monthly  = csv("forecast.csv", column = "recs", unit = "prediction/day")\n',
            )
        ],
        {"forecast.csv": "month,rec\n2027-01,45000000\n"},
    ),
    "E0401": ([("budget { monthly <= $60k", "budget { monthly >= $60k")], {}),
    "E0402": ([("spot { max = 40%", "spot { max = 140%")], {}),
    "E0403": ([("latency p95 < 80 ms", "latency p95 < 50 ms")], {}),
    "E0404": (
        [("    service_time = 20 ms\n", "    service_time = 20 ms\n    memory = 256 GiB\n")],
        {},
    ),
    "E0405": (
        [("  survive    = 1 zone\n", '  survive    = 1 zone\n  zones      = ["use1-az1"]\n')],
        {},
    ),
    "E0407": (
        [('  diurnal  = "retail"\n', '  diurnal  = "retail"\n  peak_to_average = 0.8x\n')],
        {},
    ),
    "E0408": (
        [
            (
                "  latency p95 < 80 ms\n",
                "  latency p95 < 80 ms\n  mix small { share = 40% }\n  mix large { share = 50% }\n",
            )
        ],
        {},
    ),
    "W0001": (
        [("  redundancy = N+1\n", "  availability = 99.9%\n"), ("  survive    = 1 zone\n", "")],
        {},
    ),
    "W0002": ([("  headroom   = 30%", "  headroom   = 10%")], {}),
    "W0003": (
        [
            ('  diurnal  = "retail"\n', ""),
            (
                '  event "annual sale" { from = 2027-11-24, for = 72 h, scale = 4x, repeat = yearly }\n',
                "",
            ),
            ("  headroom   = 30%", "  headroom   = 10%"),
        ],
        {},
    ),
    "W0004": (
        [("budget { monthly <= $60k, alert = 90% }", "budget { monthly <= $600, alert = 50% }")],
        {},
    ),
    "W0005": ([("budget { monthly <= $60k, alert = 90% }", "budget { monthly <= $300 }")], {}),
    "W0006": (
        [
            (
                "from = 2027-11-24, for = 72 h, scale = 4x, repeat = yearly",
                "from = 2030-11-24, for = 72 h, scale = 4x",
            )
        ],
        {},
    ),
    "W0007": (
        [("spot { max = 40%, per_pool = 15% }", "spot { max = 40%, max_interruption = 2% }")],
        {},
    ),
    "W0009": (
        [
            (
                "budget { monthly <= $60k, alert = 90% }",
                "quota cpus { on = [aws.c7g.*, aws.m7g.*], max = 32 vcpu }",
            )
        ],
        {},
    ),
    "W0010": (
        [
            (
                "scenario aggressive { recs.growth = 6% per month }",
                "scenario aggressive { recs.growth = 6% per month, budget.monthly <= $300 }",
            )
        ],
        {},
    ),
    "W0011": (
        [("budget { monthly <= $60k, alert = 90% }", "budget { monthly <= $300, mode = soft }")],
        {},
    ),
    "W0008": ([("until = 2027-09", "until = 2026-11")], {}),
}


def docs_resolve(source: str, query: CatalogQuery) -> PriceTable:
    """The test offerings, under the name users know (`bundled`)."""
    if source == "bundled":
        return fake_resolve("fixture", query)
    raise LookupError(f"unknown pricing source `{source}` (known: bundled)")


def real_output(code: str) -> str:
    edits, files = CASES[code]
    text = BASE
    for old, new in edits:
        assert old in text, (code, old)
        text = text.replace(old, new, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_text(content, encoding="utf-8")
        path = Path(tmp) / "plan.cap"
        path.write_text(text, encoding="utf-8")
        parsed = parse_file(str(path))
        _, diags = build(parsed, resolve=docs_resolve)
        hits = [d for d in diags if d.code == code]
        assert hits, (code, [(d.code, d.message) for d in diags])
        return render(hits[0], {str(path): text}).replace(str(path), "plan.cap")


TEXT_BLOCK = re.compile(r"```text\n(.*?)```", re.S)


@pytest.mark.parametrize("code", sorted(CASES))
def test_example_is_real_output(code: str) -> None:
    entry = get_code(code)
    assert entry is not None
    shown = TEXT_BLOCK.search(entry.text)
    assert shown is not None, f"{code}.md has no ```text example"
    assert shown.group(1).rstrip("\n") == real_output(code)


def regenerate() -> None:
    for code in sorted(CASES):
        path = CODES_DIR / f"{code}.md"
        page = path.read_text(encoding="utf-8")
        new = TEXT_BLOCK.sub(lambda _m, c=code: f"```text\n{real_output(c)}\n```", page, count=1)
        path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    regenerate()
