"""The canonical layout of a parsed .cap document (what ``capdsl fmt`` writes).

Rules: two-space indentation, one item per line, ``=`` aligned within a run of
consecutive attributes (comparisons without a qualifier, ``monthly <= $60k``, align their
operator with them), and within a run of ``let``\\ s; ``{`` aligned within a run of one-line
blocks of the same kind. A run is broken by an item of another kind (a block, a
``latency p95 < 80 ms``), not by blank lines or comments. Trailing comments of a run start
in one column. Blank lines between items are preserved (runs of them collapse to one,
none at the start or end of a block); a block written on one line stays
on one line (``spot { max = 40%, per_pool = 15% }``) while it fits in 100 columns.
Lists stay on one line unless they were written over several lines, end with a trailing
comma, hold comments, or do not fit: then each source line of items becomes one output
line (one item per line when the list was on one line). Literals are printed exactly as
written (``45M``, ``3% per month``), so the document re-parses to an equal AST.

Comments: a comment on its own line stays before the item that follows it; a comment
after an item on the same line stays on that line (two spaces before ``#``). A comment in
a place that has no line of its own (inside a call or between the words of a header) is
moved to its own line before the item, never dropped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from capdsl.lang import ast

WIDTH = 100
INDENT = "  "

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def quote(value: str) -> str:
    body = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


def expr_text(e: ast.Expr) -> str:
    """One-line text of an expression (literals exactly as written)."""
    if isinstance(e, ast.Number | ast.Quantity | ast.Path):
        return e.text
    if isinstance(e, ast.String):
        return quote(e.value)
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Month):
        return e.text
    if isinstance(e, ast.Date):
        return e.value.strftime("%Y-%m-%dT%H:%M" if e.has_time else "%Y-%m-%d")
    if isinstance(e, ast.Redundancy):
        return f"N+{e.k}"
    if isinstance(e, ast.List):
        return "[" + ", ".join(expr_text(i) for i in e.items) + "]"
    if isinstance(e, ast.Call):
        args = [expr_text(a) for a in e.args] + [
            f"{k.name} = {expr_text(k.value)}" for k in e.kwargs
        ]
        return f"{e.func}({', '.join(args)})"
    if isinstance(e, ast.Neg):
        inner = expr_text(e.operand)
        return f"-({inner})" if isinstance(e.operand, ast.BinOp) else f"-{inner}"
    if isinstance(e, ast.BinOp):
        p = _PRECEDENCE[e.op]
        left = expr_text(e.left)
        if isinstance(e.left, ast.BinOp) and _PRECEDENCE[e.left.op] < p:
            left = f"({left})"
        right = expr_text(e.right)
        if isinstance(e.right, ast.BinOp) and _PRECEDENCE[e.right.op] <= p:
            right = f"({right})"
        return f"{left} {e.op} {right}"
    raise TypeError(f"not an expression: {e!r}")


@dataclass
class _Run:
    """Alignment width for a run of items (0: not aligned) and the run's id (-1: none)."""

    width: int = 0
    group: int = -1


class Printer:
    def __init__(self, text: str, doc: ast.Document):
        self.text = text
        self.lines = text.split("\n")
        self.comments = sorted(doc.comments, key=lambda c: c.span.start)
        self.starts = [c.span.start for c in self.comments]
        self.used = [False] * len(self.comments)
        self.doc = doc

    # -- comments
    def _between(self, lo: int, hi: int) -> list[int]:
        """Indexes of unused comments starting in [lo, hi)."""
        i = bisect.bisect_left(self.starts, lo)
        out = []
        while i < len(self.comments) and self.starts[i] < hi:
            if not self.used[i]:
                out.append(i)
            i += 1
        return out

    def _take(self, idx: int) -> str:
        self.used[idx] = True
        return self.comments[idx].text

    def _blank_between(self, line_a: int, line_b: int) -> bool:
        """Is there an empty source line strictly between 1-based lines a and b?"""
        return any(
            not self.lines[k - 1].strip()
            for k in range(line_a + 1, line_b)
            if 0 < k <= len(self.lines)
        )

    # -- document
    def document(self) -> str:
        body = self.body(list(self.doc.items), 0, 0, len(self.text) + 1, first_line=0)
        return "\n".join(body).rstrip() + "\n" if body else ""

    def body(
        self, items: list[ast.Item], depth: int, lo: int, hi: int, first_line: int
    ) -> list[str]:
        """Lines for items between offsets lo..hi; comments in that range are placed."""
        indent = INDENT * depth
        out: list[str] = []
        prev_line = first_line  # last source line emitted so far (0: none)
        runs = self._runs(items, depth)
        # trailing comments of a run of aligned items are aligned too: run -> [(line, width)]
        trailing: dict[int, list[tuple[int, int]]] = {}
        prev_group = -1

        def add_trailing(idx: int) -> None:
            if prev_group >= 0:
                trailing.setdefault(prev_group, []).append((len(out) - 1, len(out[-1])))
            out[-1] += "  " + self._take(idx)

        for item, run in zip(items, runs, strict=True):
            for idx in self._between(lo, item.span.start):
                c = self.comments[idx]
                if out and c.span.line == prev_line:
                    add_trailing(idx)
                    continue
                if out and self._blank_between(prev_line, c.span.line):
                    out.append("")
                out.append(indent + self._take(idx))
                prev_line = c.span.line
                prev_group = -1
            if out and self._blank_between(prev_line, item.span.line):
                out.append("")
            mark = len(out)
            out += self.item(item, depth, run)
            moved = self._between(item.span.start, item.span.end)
            if moved:  # comments in a spot with no line of their own: keep them, before the item
                out[mark:mark] = [indent + self._take(i) for i in moved]
            prev_line = item.span.end_line
            prev_group = run.group if not moved and len(out) - mark == 1 else -1
            lo = item.span.end
        for idx in self._between(lo, hi):
            c = self.comments[idx]
            if out and c.span.line == prev_line:
                add_trailing(idx)
                continue
            if out and self._blank_between(prev_line, c.span.line):
                out.append("")
            out.append(indent + self._take(idx))
            prev_line = c.span.line
            prev_group = -1
        for entries in trailing.values():
            if len(entries) < 2:
                continue
            column = max(width for _, width in entries) + 2
            for line, width in entries:
                out[line] = out[line][:width].ljust(column) + out[line][width:].lstrip()
        return out

    # -- alignment runs
    def _single_line(self, item: ast.Attribute | ast.Let, depth: int) -> bool:
        return not self._list_breaks(item.value, self._min_prefix(item, depth))

    @staticmethod
    def _min_prefix(item: ast.Item, depth: int) -> int:
        """Width before the value without alignment padding (``key = ``): whether a list
        breaks never depends on the alignment of its neighbours (fmt stays idempotent)."""
        if isinstance(item, ast.Attribute):
            head = item.key.text
        elif isinstance(item, ast.Let):
            head = f"let {item.name.name}"
        else:
            head = ""
        return len(INDENT) * depth + len(head) + 3

    def _kind(self, item: ast.Item, depth: int) -> str | None:
        if isinstance(item, ast.Attribute) and self._single_line(item, depth):
            return "attr"
        if (
            isinstance(item, ast.Comparison)
            and item.qualifier is None
            and not isinstance(item.value, ast.List)
        ):
            return "attr"  # `monthly <= $60k` aligns its operator with `alert   = 90%`
        if isinstance(item, ast.Let) and self._single_line(item, depth):
            return "let"
        if isinstance(item, ast.Block) and self._one_line_block(item):
            return "block:" + item.kind.name
        return None

    def _runs(self, items: list[ast.Item], depth: int) -> list[_Run]:
        runs = [_Run() for _ in items]
        groups: list[list[int]] = []
        prev_kind: str | None = None
        for i, item in enumerate(items):
            kind = self._kind(item, depth)
            joined = kind is not None and kind == prev_kind
            if joined:
                groups[-1].append(i)
            elif kind is not None:
                groups.append([i])
            prev_kind = kind
        for gid, g in enumerate(groups):
            if len(g) < 2:
                continue
            width = max(len(self._head(items[i])) for i in g)
            for i in g:
                runs[i].width = width
                runs[i].group = gid
        return runs

    def _between_any(self, lo: int, hi: int) -> list[int]:
        i = bisect.bisect_left(self.starts, lo)
        out = []
        while i < len(self.comments) and self.starts[i] < hi:
            out.append(i)
            i += 1
        return out

    def _head(self, item: ast.Item) -> str:
        if isinstance(item, ast.Attribute):
            return item.key.text
        if isinstance(item, ast.Comparison):
            return item.subject.text
        if isinstance(item, ast.Let):
            return f"let {item.name.name}"
        if isinstance(item, ast.Block):
            return self._header(item)
        return ""

    # -- items
    def item(self, item: ast.Item, depth: int, run: _Run) -> list[str]:
        indent = INDENT * depth
        if isinstance(item, ast.Import):
            return [f"{indent}import {quote(item.path.value)}"]
        if isinstance(item, ast.UnitDecl):
            names = ", ".join(n.name for n in item.names)
            if item.value is None:
                return [f"{indent}unit {names}"]
            return self._valued(f"{indent}unit {names} = ", item.value, depth)
        if isinstance(item, ast.Let):
            head = f"let {item.name.name}".ljust(run.width)
            return self._valued(
                f"{indent}{head} = ", item.value, depth, self._min_prefix(item, depth)
            )
        if isinstance(item, ast.Attribute):
            prefix = f"{indent}{item.key.text.ljust(run.width)} = "
            return self._valued(prefix, item.value, depth, self._min_prefix(item, depth))
        if isinstance(item, ast.Comparison):
            words = [item.subject.text.ljust(run.width)] + (
                [item.qualifier.name] if item.qualifier else []
            )
            return self._valued(f"{indent}{' '.join(words)} {item.op} ", item.value, depth)
        if isinstance(item, ast.Block):
            return self.block(item, depth, run)
        raise TypeError(f"not an item: {item!r}")

    def _inline(self, item: ast.Item) -> str:
        """One-line text of an item inside a one-line block."""
        if isinstance(item, ast.Block):
            return self._one_line(item, 0)
        return self.item(item, 0, _Run())[0]

    def _valued(
        self, prefix: str, value: ast.Expr, depth: int, min_prefix: int | None = None
    ) -> list[str]:
        width = len(prefix) if min_prefix is None else min_prefix
        if isinstance(value, ast.List) and self._list_breaks(value, width):
            return self._list_lines(prefix, value, depth)
        return [prefix + expr_text(value)]

    # -- blocks
    def _header(self, block: ast.Block) -> str:
        parts = [block.kind.name]
        prev: ast.Node | None = None
        for label in block.labels:
            text = expr_text(label)
            if prev is not None and "," in self.text[prev.span.end : label.span.start]:
                parts[-1] += ","
            parts.append(text)
            prev = label
        return " ".join(parts)

    def _one_line_block(self, block: ast.Block) -> bool:
        if self._between_any(block.span.start, block.span.end):
            return False
        if not block.body:
            return True  # always printed `kind label {}`
        if block.span.line != block.span.end_line:
            return False
        for item in block.body:
            if isinstance(item, ast.Block) and not self._one_line_block(item):
                return False
            value = getattr(item, "value", None)
            if isinstance(value, ast.List) and self._list_breaks(value):
                return False
        return True

    def _one_line(self, block: ast.Block, width: int) -> str:
        head = self._header(block).ljust(width)
        if not block.body:
            return f"{head} {{}}"
        return f"{head} {{ " + ", ".join(self._inline(i) for i in block.body) + " }"

    def block(self, block: ast.Block, depth: int, run: _Run) -> list[str]:
        indent = INDENT * depth
        if self._one_line_block(block):
            line = indent + self._one_line(block, run.width)
            if len(line) <= WIDTH:
                return [line]
        brace = self._open_brace(block)
        head = f"{indent}{self._header(block)} {{"
        out = [head]
        # a comment on the `{` line stays there
        for idx in self._between(brace, block.span.end):
            if self.comments[idx].span.line == self._line_of(brace):
                out[0] += "  " + self._take(idx)
        body = self.body(
            list(block.body), depth + 1, brace + 1, block.span.end - 1, self._line_of(brace)
        )
        if not body and not block.body:
            return [f"{indent}{self._header(block)} {{}}" + out[0][len(head) :]]
        return [*out, *body, f"{indent}}}"]

    def _open_brace(self, block: ast.Block) -> int:
        start = block.labels[-1].span.end if block.labels else block.kind.span.end
        i = start
        while i < len(self.text):
            ch = self.text[i]
            if ch == "{":
                return i
            if ch == "#":
                i = self.text.find("\n", i)
                if i < 0:
                    break
                continue
            i += 1
        return start

    def _line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    # -- lists
    def _list_breaks(self, value: ast.Expr, prefix: int = 0) -> bool:
        if not isinstance(value, ast.List) or not value.items:
            return False
        if value.span.line != value.span.end_line:
            return True
        if self._between_any(value.span.start, value.span.end):
            return True
        if "," in self.text[value.items[-1].span.end : value.span.end - 1]:
            return True  # a trailing comma asks for one item per line
        return prefix + len(expr_text(value)) > WIDTH

    def _list_lines(self, prefix: str, value: ast.List, depth: int) -> list[str]:
        inner = INDENT * (depth + 1)
        out = [prefix + "["]
        open_line = value.span.line
        for idx in self._between(value.span.start, value.items[0].span.start):
            if self.comments[idx].span.line == open_line:
                out[0] += "  " + self._take(idx)
        # group items by their source line (one group per item if the list was one line)
        groups: list[list[ast.Expr]] = []
        one_line = value.span.line == value.span.end_line
        for item in value.items:
            if groups and not one_line and groups[-1][-1].span.end_line == item.span.line:
                groups[-1].append(item)
            else:
                groups.append([item])
        prev_line = open_line
        for gi, group in enumerate(groups):
            for idx in self._between(value.span.start, group[0].span.start):
                c = self.comments[idx]
                if len(out) > 1 and c.span.line == prev_line:
                    out[-1] += "  " + self._take(idx)
                else:
                    if len(out) > 1 and self._blank_between(prev_line, c.span.line):
                        out.append("")
                    out.append(inner + self._take(idx))
                    prev_line = c.span.line
            if len(out) > 1 and self._blank_between(prev_line, group[0].span.line):
                out.append("")
            out.append(inner + ", ".join(expr_text(i) for i in group) + ",")
            prev_line = group[-1].span.end_line
            end = groups[gi + 1][0].span.start if gi + 1 < len(groups) else value.span.end - 1
            for idx in self._between(group[-1].span.end, end):
                c = self.comments[idx]
                if c.span.line == prev_line:
                    out[-1] += "  " + self._take(idx)
        for idx in self._between(value.items[-1].span.end, value.span.end):
            out.append(inner + self._take(idx))
        out.append(INDENT * depth + "]")
        return out


def print_document(text: str, doc: ast.Document) -> str:
    """The canonical text of ``doc`` (parsed from ``text``, which places its comments)."""
    return Printer(text, doc).document()
