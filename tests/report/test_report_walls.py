"""``capdsl.report`` stays inside its walls and keeps heavy imports lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import capdsl.report

PACKAGE = Path(capdsl.report.__file__).resolve().parent
ALLOWED_CAPDSL = (
    "capdsl.report",
    "capdsl.solve.solution",
    "capdsl.model",
    "capdsl.lang.diagnostics",
    "capdsl.pricing.catalog",
)
FORBIDDEN = ("ortools", "textual", "httpx", "matplotlib.pyplot")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            if node.module == "capdsl":
                names += [f"capdsl.{a.name}" for a in node.names]
    return names


def test_imports_stay_inside_the_walls() -> None:
    bad = []
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(path):
            if (
                name.startswith("capdsl")
                and name != "capdsl"
                and not name.startswith(ALLOWED_CAPDSL)
            ):
                bad.append(f"{path.name}: {name}")
            if name.startswith(FORBIDDEN):
                bad.append(f"{path.name}: {name}")
    assert bad == []


def test_matplotlib_and_rich_load_only_when_needed() -> None:
    code = """
import sys
import capdsl.report
assert "matplotlib" not in sys.modules and "rich" not in sys.modules, "import"
import importlib.util
spec = importlib.util.spec_from_file_location("factories", sys.argv[1])
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)
plan = f.make_plan()
results = [(plan, f.make_solution(plan))]
for fmt in ("json", "csv", "md"):
    capdsl.report.render_solutions(results, fmt)
capdsl.report.render_report(results, "md")
assert "matplotlib" not in sys.modules and "rich" not in sys.modules, "render"
capdsl.report.render_solutions(results, "table")
assert "rich" in sys.modules and "matplotlib" not in sys.modules, "table"
"""
    factories = Path(__file__).with_name("factories.py")
    done = subprocess.run(
        [sys.executable, "-c", code, str(factories)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
