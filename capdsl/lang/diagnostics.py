"""Diagnostics: every problem capdsl finds, at its source span, rendered like rustc.

Every pipeline stage (parse, build, solve, verify) reports problems as `Diagnostic`
values; nothing below the CLI prints or exits. Codes:

- ``E01xx`` syntax, ``E02xx`` units and quantities, ``E03xx`` names and references,
  ``E04xx`` model (contradictory or infeasible), ``E05xx`` pricing sources and plugins,
  ``W0xxx`` lints (rules of thumb).

Each code has a long explanation in ``capdsl/codes/<CODE>.md`` (``capdsl explain CODE``).
Messages start lowercase and carry no trailing period; the fix goes in ``help``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text. Lines and columns are 1-based; ``end_column`` is exclusive.

    ``start``/``end`` are 0-based character offsets into the file's text.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary span with a short message (rustc's ``-`` underline)."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    level: Level
    code: str
    message: str
    span: Span | None = None
    label: str = ""  # text under the primary caret
    labels: tuple[Label, ...] = ()
    help: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "span": self.span.to_dict() if self.span else None,
            "label": self.label,
            "labels": [{"span": lb.span.to_dict(), "message": lb.message} for lb in self.labels],
            "help": self.help,
            "notes": list(self.notes),
        }


def error(code: str, message: str, span: Span | None = None, **kw: Any) -> Diagnostic:
    return Diagnostic(Level.ERROR, code, message, span, **kw)


def warning(code: str, message: str, span: Span | None = None, **kw: Any) -> Diagnostic:
    return Diagnostic(Level.WARNING, code, message, span, **kw)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


def did_you_mean(word: str, candidates: Iterable[str], *, quote: str = "`") -> str | None:
    """``help`` text suggesting the closest candidate, or None when nothing is close."""
    cands = list(dict.fromkeys(candidates))
    match = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in cands}
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    if not match:
        return None
    return f"did you mean {quote}{match[0]}{quote}?"


class DiagnosticError(Exception):
    """Raised by the public API (``capdsl.load``) when a plan has errors."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        first = next((d for d in self.diagnostics if d.is_error), None)
        summary = f"{first.code}: {first.message}" if first else "plan has errors"
        if first and first.span:
            summary = f"{first.span}: {summary}"
        n = sum(d.is_error for d in self.diagnostics)
        if n > 1:
            summary += f" (and {n - 1} more error{'s' if n > 2 else ''})"
        super().__init__(summary)


# --------------------------------------------------------------------------- rendering


def render(diag: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """Render one diagnostic rustc-style. ``sources`` maps file name -> text.

    The primary span is underlined with ``^`` and its ``label``; secondary labels in the
    same file with ``-``. Several annotations on one line share the source line (rustc's
    connector layout); a span over several lines is underlined to the end of its first
    line; lines far apart are separated by ``...``. Labels in other files get their own
    ``-->`` section."""
    sources = sources or {}
    out = [f"{diag.level.value}[{diag.code}]: {diag.message}"]
    span = diag.span
    if span is None:
        out += [f"  = note: {n}" for n in diag.notes]
        if diag.help:
            out.append(f"  = help: {diag.help}")
        return "\n".join(out)
    annotations: list[tuple[Span, str, str]] = [(span, diag.label, "^")]
    annotations += [(lb.span, lb.message, "-") for lb in diag.labels]
    files = list(dict.fromkeys(a[0].file for a in annotations))
    gutter = len(str(max(a[0].line for a in annotations)))
    pad = " " * gutter
    for i, file in enumerate(files):
        mine = [a for a in annotations if a[0].file == file]
        first = (
            mine[0][0] if i == 0 else min((a[0] for a in mine), key=lambda s: (s.line, s.column))
        )
        out.append(f"{pad}{'-->' if i == 0 else ':::'} {file}:{first.line}:{first.column}")
        text = sources.get(file)
        if text is None:
            continue
        out.append(f"{pad} |")
        out += _snippet(text.splitlines(), mine, gutter)
        out.append(f"{pad} |")
    out += [f"{pad} = note: {n}" for n in diag.notes]
    if diag.help:
        out.append(f"{pad} = help: {diag.help}")
    return "\n".join(out)


def _snippet(lines: list[str], annotations: list[tuple[Span, str, str]], gutter: int) -> list[str]:
    pad = " " * gutter
    by_line: dict[int, list[tuple[int, int, str, str]]] = {}
    for sp, msg, mark in annotations:
        if not 1 <= sp.line <= len(lines):
            continue
        src = lines[sp.line - 1].expandtabs(1)
        end_col = sp.end_column if sp.end_line == sp.line else len(src) + 1
        width = max(1, end_col - sp.column)
        by_line.setdefault(sp.line, []).append((sp.column, width, msg, mark))
    out: list[str] = []
    previous = None
    for line in sorted(by_line):
        if previous is not None and line > previous + 1:
            out.append("...")
        previous = line
        out.append(f"{str(line).rjust(gutter)} | {lines[line - 1].expandtabs(1)}".rstrip())
        anns = sorted(by_line[line])
        marks = [" "] * max(c - 1 + w for c, w, _, _ in anns)
        for col, width, _, mark in anns:
            for k in range(col - 1, col - 1 + width):
                if marks[k] == " " or mark == "^":
                    marks[k] = mark
        _last_col, _, last_msg, _ = anns[-1]
        marker_line = "".join(marks)
        out.append(f"{pad} | {marker_line}{' ' + last_msg if last_msg else ''}".rstrip())
        hanging = [(c, m) for c, _, m, _ in anns[:-1] if m]
        if hanging:
            bars = [" "] * hanging[-1][0]
            for c, _ in hanging:
                bars[c - 1] = "|"
            out.append(f"{pad} | {''.join(bars)}".rstrip())
        for k in range(len(hanging) - 1, -1, -1):
            c, m = hanging[k]
            prefix = [" "] * (c - 1)
            for c2, _ in hanging[:k]:
                prefix[c2 - 1] = "|"
            out.append(f"{pad} | {''.join(prefix)}{m}".rstrip())
    return out


def render_all(diags: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    return "\n\n".join(render(d, sources) for d in diags)


def to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], indent=2)
