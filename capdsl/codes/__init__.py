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
