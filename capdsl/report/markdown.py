"""Write a ``Document`` as GitHub-flavoured Markdown.

Charts are not embedded: many Markdown viewers (GitHub among them) drop ``data:`` images,
and every chart's numbers are already in the table beside it, which diffs well in review.
Use the HTML report for charts.
"""

from __future__ import annotations

import re

from capdsl.report.document import Block, Bullets, Chart, Document, Pre, Section, Table, Text

_SPECIAL = re.compile(r"([\\`*\[\]<>])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def escape(text: str) -> str:
    text = _SPECIAL.sub(r"\\\1", text)
    return _UNDERSCORE.sub(r"\\_", text)


def text(t: Text) -> str:
    out = []
    for part, style in t.parts:
        if not part:
            continue
        if style == "code":
            out.append(f"`{part.replace('`', '')}`")
        elif style in ("strong", "ok", "bad", "warn"):
            out.append(f"**{escape(part)}**")
        elif style == "muted":
            out.append(f"*{escape(part)}*")
        else:
            out.append(escape(part))
    return "".join(out)


def _cell(value: str) -> str:
    return escape(value).replace("|", "\\|").replace("\n", " ") or " "


def table(t: Table) -> str:
    head = "| " + " | ".join(_cell(c) for c in t.columns) + " |"
    rule = "|" + "|".join("---:" if t.is_numeric(i) else "---" for i in range(len(t.columns))) + "|"
    lines = [head, rule]
    for i, row in enumerate(t.rows):
        cells = [_cell(c) for c in row]
        if i in t.marked and cells:
            cells = [f"**{c}**" if c.strip() else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    if t.caption:
        lines.append("")
        lines.append(f"*{escape(t.caption)}*")
    return "\n".join(lines)


def block(b: Block) -> str | None:
    if isinstance(b, Text):
        return text(b)
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Bullets):
        return "\n".join(f"- {text(item)}" for item in b.items)
    if isinstance(b, Pre):
        fence = "````" if "```" in b.text else "```"
        return f"{fence}text\n{b.text}\n{fence}"
    if isinstance(b, Chart):
        return None  # the table beside it carries the numbers
    raise TypeError(f"unknown block {type(b).__name__}")


def _section(s: Section, level: int, out: list[str]) -> None:
    out.append(f"{'#' * min(level, 6)} {escape(s.title)}")
    for b in s.blocks:
        rendered = block(b)
        if rendered is not None:
            out.append(rendered)
    for child in s.children:
        _section(child, level + 1, out)


def render_markdown(doc: Document) -> str:
    out = [f"# {escape(doc.title)}"]
    for b in doc.intro:
        rendered = block(b)
        if rendered is not None:
            out.append(rendered)
    for s in doc.sections:
        _section(s, 2, out)
    return "\n\n".join(out) + "\n"
