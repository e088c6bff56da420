"""Regenerate the README's 60-second tour from real runs: ``python docs/make_tour.py``.

Runs the real ``capdsl`` command (check, solve, a stress test, report) on the examples and
the real Textual app (a screenshot to ``docs/img/tui.svg``), then rewrites the part of
README.md between ``<!-- TOUR -->`` and ``<!-- /TOUR -->``. Nothing in the tour is typed by
hand, so it cannot drift from what capdsl prints; re-run it after changing the optimiser.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WIDTH = 100
TIME_LIMIT = "20"

BROKEN = """\
unit request

plan "api" {
  start   = 2027-01
  horizon = 12 months
}

catalog aws from "bundled" {
  provider = "aws"
  regions  = ["us-east-1"]
  families = ["c7g", "m7g"]
}

service api {
  unit     = request
  baseline = 2k request/s
  growht   = 3% per month
  runs on aws.c7g.* { throughput = 100 request/s per vcpu }
  headroom = 30%
}
"""


# the reference machine's speed (``capdsl speed``): the tour's plans, and the screenshot's,
# are the same whichever machine makes them
os.environ["CAPDSL_SPEED"] = "1"


def run(args: list[str], cwd: Path = ROOT) -> tuple[str, int]:
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}
    exe = Path(sys.executable).with_name("capdsl")
    out = subprocess.run(
        [str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    text = (out.stderr + out.stdout).rstrip()
    return re.sub(r"[ \t]+\n", "\n", text), out.returncode


def drop_price_stamps(text: str) -> str:
    """The list of price sources at the end of every table is the same each time; keep one."""
    head, sep, _tail = text.partition("\nprices:\n")
    return head + ("\nprices: (the bundled snapshot's sources and dates)" if sep else "")


def drop_note(text: str) -> str:
    """The W0051 note (derived reserved rates) is printed on every run; shown once."""
    return re.sub(r"note\[W0051\].*?\n\n", "", text, count=1, flags=re.S)


async def screenshot(plan: Path, target: Path) -> None:
    from textual.worker import WorkerState

    from capdsl.tui.app import CapApp
    from capdsl.tui.settings import TuiSettings

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / plan.name
        shutil.copy(plan, copy)
        app = CapApp(copy, settings=TuiSettings(watch_interval=0, time_limit=20))
        async with app.run_test(size=(140, 44)) as pilot:
            for _ in range(3000):
                await pilot.pause(0.05)
                busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
                if not busy and app.session.shown is not None:
                    break
            await pilot.pause(0.5)
            target.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=target.name, path=str(target.parent))


def fence(cmd: str, text: str) -> str:
    return f"```console\n$ {cmd}\n{text}\n```\n"


def main() -> None:
    parts = ["## A 60-second tour\n"]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "api.cap").write_text(BROKEN, encoding="utf-8")
        out, rc = run(["check", "api.cap"], cwd=Path(tmp))
    assert rc == 1, out
    parts.append(
        "A mistake is reported at its line, with help, like a compiler would "
        "(`capdsl check`, exit code 1; every error of the file in one run):\n"
    )
    parts.append(fence("capdsl check api.cap", drop_note(out)))

    out, rc = run(["solve", "examples/retail-sale.cap", "-t", TIME_LIMIT])
    assert rc == 0, out
    parts.append(
        "Solve the retail example: 45M predictions a day, a 72-hour 4x sale, p95 < 80 ms, "
        "N+1 and survive a zone. What to buy when, the cost by quarter, where the capacity "
        "cliff of today's fleet is, what binds, and the proof of quality (objective, bound, "
        "gap); `✔ VERIFIED` means the independent verifier re-checked every hour of demand, "
        "every zone loss and every dollar (`--format json|md|csv|html` for the per-month "
        "detail):\n"
    )
    parts.append(fence("capdsl solve examples/retail-sale.cap", drop_price_stamps(drop_note(out))))

    out, rc = run(
        ["solve", "examples/retail-sale.cap", "--scenario", "provision_2x", "--against", "base",
         "-t", TIME_LIMIT]
    )
    assert rc == 1, out
    stress = out[out.index("Stress test") :]
    parts.append(
        "Stress test: buy the fleet for the old rule of thumb (provision for 2x) and replay the "
        "real 4x sale against it, hour by hour (exit code 1 where the SLA breaks):\n"
    )
    parts.append(
        fence(
            "capdsl solve examples/retail-sale.cap --scenario provision_2x --against base",
            "...\n" + drop_price_stamps(stress),
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "retail.html"
        out, rc = run(["report", "examples/retail-sale.cap", "-o", str(target), "-t", TIME_LIMIT])
        assert rc == 0, out
        out = drop_note(out).replace(str(target), "retail.html")
    parts.append(
        "A report to share: cost per month at 6/12/18/24 months, capacity vs demand per "
        "workload with the cliff marked, the purchase mix over time, savings against "
        "all-on-demand, binding constraints, every scenario; one self-contained HTML file with "
        "inline SVG charts (or `--format md`):\n"
    )
    parts.append(fence("capdsl report examples/retail-sale.cap -o retail.html", out))

    shot = ROOT / "docs" / "img" / "tui.svg"
    asyncio.run(screenshot(ROOT / "examples" / "saas-growth.cap", shot))
    parts.append(
        "Explore it live: `capdsl tui examples/saas-growth.cap` shows the plan source with its "
        "diagnostics, the purchase mix, costs, capacity against demand, why each offering was "
        "chosen; switch scenarios, compare two, turn a knob (growth, headroom, spot, budget, "
        "event scale) and watch it re-solve ([docs/tui.md](docs/tui.md)):\n"
    )
    parts.append("![capdsl tui on examples/saas-growth.cap](docs/img/tui.svg)\n")

    tour = "\n".join(parts)
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- TOUR -->", "<!-- /TOUR -->"
    if end not in text:
        text = text.replace(start, f"{start}\n{end}")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    README.write_text(f"{before}{start}\n{tour}\n{end}{after}", encoding="utf-8")
    print(f"README.md tour rewritten ({len(tour.splitlines())} lines), {shot.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
