"""The walls between packages (ARCHITECTURE.md), checked on the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "capdsl"


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
    return out


def _modules(sub: str) -> list[Path]:
    return sorted((PKG / sub).rglob("*.py"))


def _offenders(sub: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in _modules(sub):
        for mod, line in _imports(path):
            if any(mod == f or mod.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {mod}")
    return bad


def test_lang_imports_nothing_else_of_capdsl() -> None:
    others = (
        "capdsl.model",
        "capdsl.solve",
        "capdsl.pricing",
        "capdsl.plugins",
        "capdsl.report",
        "capdsl.tui",
        "capdsl.cli",
        "capdsl.api",
        "capdsl.bench",
    )
    assert _offenders("lang", others) == []


def test_model_never_reaches_up() -> None:
    up = (
        "capdsl.solve",
        "capdsl.plugins",
        "capdsl.report",
        "capdsl.tui",
        "capdsl.cli",
        "capdsl.api",
        "capdsl.bench",
    )
    assert _offenders("model", up) == []
    pricing_beyond_catalog = [
        b
        for b in _offenders("model", ("capdsl.pricing",))
        if not b.endswith("capdsl.pricing.catalog")
    ]
    assert pricing_beyond_catalog == []


def test_solve_and_report_stay_below_the_ui() -> None:
    assert (
        _offenders(
            "solve", ("capdsl.plugins", "capdsl.report", "capdsl.tui", "capdsl.cli", "capdsl.api")
        )
        == []
    )
    assert (
        _offenders("report", ("capdsl.tui", "capdsl.cli", "capdsl.api", "ortools", "textual")) == []
    )


@pytest.mark.parametrize(
    ("library", "home"),
    [("ortools", ("solve",)), ("textual", ("tui",)), ("httpx", ("pricing", "plugins"))],
)
def test_heavy_libraries_stay_home(library: str, home: tuple[str, ...]) -> None:
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0] in home:
            continue
        bad += [f"{rel}:{line}" for mod, line in _imports(path) if mod.split(".")[0] == library]
    assert bad == []


def test_no_print_below_the_cli() -> None:
    bad = []
    for sub in ("lang", "model", "solve", "pricing", "report"):
        for path in _modules(sub):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "print"
                ):
                    bad.append(f"{path.relative_to(PKG)}:{node.lineno}")
    assert bad == []


def test_import_capdsl_is_light() -> None:
    """`import capdsl` (and the CLI module) must not drag in OR-Tools, Textual or matplotlib."""
    code = (
        "import sys, capdsl, capdsl.cli, capdsl.solve.solution, capdsl.model.plan;"
        "heavy = [m for m in ('ortools', 'textual', 'matplotlib', 'httpx') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
