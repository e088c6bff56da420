"""A tiny document model, so Markdown and HTML show exactly the same content.

``content`` builds a ``Document`` from results; ``markdown`` and ``html`` write it. Text is
plain (writers escape it); emphasis is a style name on a span, never markup in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Style = Literal["", "strong", "ok", "bad", "warn", "muted", "code"]


@dataclass(frozen=True)
class Text:
    """A paragraph (or a list item, a cell-free line): spans of text with a style each."""

    parts: tuple[tuple[str, Style], ...]

    @staticmethod
    def of(*parts: str | tuple[str, Style]) -> Text:
        return Text(tuple((p, "") if isinstance(p, str) else p for p in parts))

    @property
    def plain(self) -> str:
        return "".join(t for t, _ in self.parts)


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # right-aligned columns
    marked: tuple[int, ...] = ()  # rows to highlight (a capacity cliff)
    caption: str = ""

    def is_numeric(self, i: int) -> bool:
        return i < len(self.numeric) and self.numeric[i]


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text, ...]


@dataclass(frozen=True)
class Pre:
    """Preformatted text (rendered diagnostics)."""

    text: str


@dataclass(frozen=True)
class Chart:
    """An SVG chart, rendered only by writers that embed charts. Its numbers are always
    also in a table next to it (Markdown shows that table only)."""

    key: str
    title: str
    render: Callable[[], str]


Block = Text | Table | Bullets | Pre | Chart


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    anchor: str = ""

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self

    def sub(self, title: str) -> Section:
        child = Section(
            title, anchor=f"{self.anchor}-{slug(title)}" if self.anchor else slug(title)
        )
        self.children.append(child)
        return child


@dataclass
class Document:
    title: str
    intro: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str, anchor: str | None = None) -> Section:
        s = Section(title, anchor=anchor or slug(title))
        self.sections.append(s)
        return s


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
