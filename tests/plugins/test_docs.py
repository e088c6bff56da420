"""Every hook is documented in docs/plugins.md with its exact signature (datasette-style)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from capdsl.plugins import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _hooks() -> dict[str, str]:
    out = {}
    for name, fn in vars(hookspecs).items():
        if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec"):
            sig = inspect.signature(fn)
            params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
            out[name] = f"{name}({params}) -> {sig.return_annotation}"
    return out


def test_there_are_hooks() -> None:
    assert set(_hooks()) >= {
        "register_pricing_sources",
        "register_latency_models",
        "register_exporters",
        "register_checks",
    }


def test_every_hook_has_a_section_with_its_exact_signature() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^##|\Z)", text, flags=re.M | re.S))
    for name, signature in _hooks().items():
        assert name in sections, f"docs/plugins.md has no section `### {name}`"
        assert signature in sections[name], f"`{signature}` not in the `{name}` section"


def test_every_documented_hook_exists() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^### (register_\w+)$", text, flags=re.M))
    assert documented == set(_hooks())
