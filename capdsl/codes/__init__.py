"""The diagnostic code index: one Markdown file per code (``E0203.md``).

Adding a code is adding a file: a ``# CODE: title`` heading, the long explanation, and an
``## Example`` section (``tests/test_codes.py`` fails for a code used in the source without
a file, or a file without an example). ``capdsl explain CODE`` prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_CODE = re.compile(r"^[EW]\d{4}$")


@dataclass(frozen=True)
class CodeEntry:
    code: str
    title: str
    text: str  # the whole Markdown file

    @property
    def level(self) -> str:
        return "warning" if self.code.startswith("W") else "error"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "level": self.level, "text": self.text}


@lru_cache(maxsize=1)
def _index() -> dict[str, CodeEntry]:
    out: dict[str, CodeEntry] = {}
    for item in resources.files(__package__).iterdir():
        name = item.name
        if not name.endswith(".md"):
            continue
        code = name[:-3]
        if not _CODE.match(code):
            continue
        text = item.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        title = first.split(":", 1)[1].strip() if ":" in first else code
        out[code] = CodeEntry(code, title, text)
    return out


def known_codes() -> list[str]:
    return sorted(_index())


def get_code(code: str) -> CodeEntry | None:
    return _index().get(code.strip().upper())


_GROUPS = (
    ("E00", "Files"),
    ("E01", "Syntax"),
    ("E02", "Units and quantities"),
    ("E03", "Names and references"),
    ("E04", "Model: contradictory or infeasible plans"),
    ("E05", "Pricing sources and plugins"),
    ("W", "Lints and notes"),
)


def index_markdown() -> str:
    """``docs/errors.md``: every code with its title (``python -m capdsl.codes``)."""
    out = [
        "# Diagnostic codes",
        "",
        "Every problem capdsl reports has a code. `capdsl explain CODE` prints the long form with an",
        "example; the source of each page is `capdsl/codes/CODE.md`. This index is generated from",
        "those files with `python -m capdsl.codes > docs/errors.md` (a test fails when it is stale).",
        "",
    ]
    for prefix, title in _GROUPS:
        entries = [_index()[c] for c in known_codes() if c.startswith(prefix)]
        if entries:
            out += [f"## {title}", "", "| code | what it means |", "|---|---|"]
            out += [f"| `{e.code}` | {e.title} |" for e in entries]
            out.append("")
    return "\n".join(out)
