"""Syntax errors in the plan's own words, and where to resume after one.

lark reports the first unexpected token or character; this module turns it into a
rustc-style `Diagnostic` (human words for terminals, never ``__ANON_n``; unclosed and
mismatched delimiters reported where they opened) and computes the *statement* to blank
out so the parser can resume: the item around the error at its brace level (newlines and
commas outside brackets separate items). A block whose header is broken is unwrapped, not
dropped, so errors in its body are still found. Blanking replaces characters by spaces
and keeps newlines, so every later position still points into the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from capdsl.lang.diagnostics import Diagnostic, Label, Span, error

# --------------------------------------------------------------------------- words

TERMINAL_WORDS: dict[str, str] = {
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LBRACKET": "`[`",
    "RBRACKET": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "EQ": "`=`",
    "LT": "`<`",
    "LE": "`<=`",
    "GT": "`>`",
    "GE": "`>=`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "IMPORT": "`import`",
    "LET": "`let`",
    "UNIT": "`unit`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NUMBER": "a number",
    "QUANTITY": "a quantity",
    "MONEY": "an amount of money",
    "STRING": "a string",
    "DATE": "a date",
    "DATETIME": "a date and time",
    "MONTH": "a month",
    "REDUNDANCY": "a redundancy like `N+1`",
    "NAME": "a name",
    "PATH": "a dotted path",
    "$END": "the end of the file",
}

_VALUE_START = {
    "NUMBER", "QUANTITY", "MONEY", "STRING", "TRUE", "FALSE", "DATE", "DATETIME", "MONTH",
    "REDUNDANCY", "NAME", "PATH", "LBRACKET", "LPAR", "MINUS",
}  # fmt: skip
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH"}
_COMPARE = {"LT", "LE", "GT", "GE"}
_ITEM_START = {"NAME", "PATH", "IMPORT", "LET", "UNIT"}
_LABELS = {"NAME", "STRING", "PATH"}
_ORDER = list(TERMINAL_WORDS)

_OPENERS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_CLOSER_TERMINALS = {"RBRACE": "}", "RBRACKET": "]", "RPAR": ")"}


def describe_expected(expected: Iterable[str]) -> list[str]:
    """Human words for a set of expected terminals, grouped ("a value", "an operator")."""
    exp = {e for e in expected if not e.startswith("__")}
    item_start = "EQ" in exp
    words: list[str] = []
    if "EQ" in exp:
        words.append(TERMINAL_WORDS["EQ"])
        exp.discard("EQ")
    if {"NUMBER", "QUANTITY", "STRING", "NAME"} <= exp:
        words.append("a value")
        exp -= _VALUE_START
    if exp >= _OPERATORS:
        words.append("an operator")
        exp -= _OPERATORS
    if {"NAME", "PATH"} <= exp and {"IMPORT", "LET"} & exp:
        words.append("a setting")
        exp -= _ITEM_START
    if exp >= _COMPARE:
        words.append("a comparison (`<`, `<=`, `>`, `>=`)")
        exp -= _COMPARE
    if {"LBRACE"} <= exp and exp >= _LABELS:
        words.append("a block (`kind label { ... }`)" if item_start else "a block label or `{`")
        exp -= _LABELS | {"LBRACE", "COMMA"}
    rest = sorted(exp, key=lambda t: _ORDER.index(t) if t in _ORDER else len(_ORDER))
    words += [TERMINAL_WORDS.get(t, f"`{t.lower()}`") for t in rest]
    return words


def join_words(words: list[str]) -> str:
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]} or {words[1]}"
    return "one of " + ", ".join(words[:-1]) + f", or {words[-1]}"


def describe_found(kind: str, text: str) -> str:
    if kind == "$END" or not text:
        return "the end of the file"
    shown = text if len(text) <= 30 else text[:27] + "..."
    return f"`{shown}`"


# --------------------------------------------------------------------------- scanner

_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[{}\[\]()]|\n|,')


@dataclass
class Brackets:
    """Bracket structure of a text, ignoring strings and comments."""

    partner: dict[int, int]
    unclosed: list[int]  # openers never closed, in order
    unmatched: list[int]  # closers with no opener at all
    events: list[int]  # offsets of brackets and separators (newline, comma), in order

    @classmethod
    def scan(cls, text: str) -> Brackets:
        partner: dict[int, int] = {}
        unclosed: list[int] = []
        unmatched: list[int] = []
        events: list[int] = []
        stack: list[int] = []
        for m in _SCAN.finditer(text):
            ch = m.group()
            pos = m.start()
            if ch in _OPENERS:
                stack.append(pos)
            elif ch in _CLOSERS:
                want = _CLOSERS[ch]
                depth = next(
                    (i for i in range(len(stack) - 1, -1, -1) if text[stack[i]] == want), None
                )
                if depth is None:
                    unmatched.append(pos)
                else:
                    unclosed += stack[depth + 1 :]
                    opener = stack[depth]
                    del stack[depth:]
                    partner[opener] = pos
                    partner[pos] = opener
            elif ch not in ("\n", ","):
                continue
            events.append(pos)
        unclosed += stack
        unclosed.sort()
        return cls(partner, unclosed, unmatched, events)

    def open_at(self, text: str, pos: int) -> list[int]:
        """Openers of matched-or-unclosed groups that contain ``pos``, outermost first."""
        out = []
        for e in self.events:
            if e >= pos:
                break
            if text[e] in _OPENERS:
                close = self.partner.get(e)
                if close is None or close >= pos:
                    out.append(e)
        return out


# --------------------------------------------------------------------------- regions


def _block_bounds(text: str, br: Brackets, pos: int) -> tuple[int, int]:
    """The body of the innermost matched ``{ }`` containing ``pos`` (exclusive bounds)."""
    lo, hi = -1, len(text)
    for o in br.open_at(text, pos):
        c = br.partner.get(o)
        if text[o] == "{" and c is not None and c >= pos:
            lo, hi = o, c
    return lo, hi


def statement_region(text: str, br: Brackets, pos: int) -> list[tuple[int, int]]:
    """Ranges to blank so the parser can resume after an error at offset ``pos``."""
    lo, hi = _block_bounds(text, br, pos)
    if pos >= hi:
        # The error is the block's own `}` (or the end of the file): the statement before
        # it is incomplete; blank that one and keep the brace.
        prev = prev_significant(text, pos)
        if prev is None or prev <= lo:
            return [(pos, pos + 1)] if pos < len(text) and text[pos] not in _CLOSERS else []
        return [(a, min(b, hi)) for a, b in statement_region(text, br, prev)]
    # Grow the anchor to the outermost matched group inside this block that holds pos.
    left = right = pos
    for o in br.open_at(text, pos):
        c = br.partner.get(o)
        if lo < o and (c is None or c < hi):
            left, right = o, (pos if c is None else c)
            break
    events = br.events
    import bisect

    # Scan left for a separator at this level, jumping over matched groups.
    start = lo + 1
    i = bisect.bisect_left(events, left) - 1
    while i >= 0:
        e = events[i]
        if e <= lo:
            break
        ch = text[e]
        if ch in _CLOSERS and e in br.partner:
            i = bisect.bisect_left(events, br.partner[e]) - 1
            continue
        if ch in ("\n", ","):
            start = e + 1
            break
        i -= 1
    # Scan right likewise.
    end = hi
    j = bisect.bisect_left(events, pos) if right == pos else bisect.bisect_right(events, right)
    while j < len(events):
        e = events[j]
        if e >= hi:
            break
        ch = text[e]
        if ch in _OPENERS and e in br.partner:
            j = bisect.bisect_right(events, br.partner[e])
            continue
        if ch in _CLOSERS and e in br.partner:
            end = e
            break
        if ch in ("\n", ","):
            end = e + 1 if ch == "," else e
            break
        j += 1
    if end <= pos:
        end = pos + 1
    if start > 0 and text[start - 1] == "," and not (end > 0 and text[end - 1] == ","):
        start -= 1  # take one comma along, or `a = 1, , c = 3` would be a new error
    # A block before the error in this statement parsed fine: keep it.
    for e in events:
        if start <= e < pos and text[e] == "{" and br.partner.get(e, hi) < pos:
            start = br.partner[e] + 1
    # A block whose header is broken: blank the header and the braces, keep the body.
    for e in events:
        if pos <= e < end and text[e] == "{" and e in br.partner and br.partner[e] < hi:
            close = br.partner[e]
            return [(start, e + 1), (close, close + 1)]
        if e >= end:
            break
    return [(start, max(end, pos + 1))]


def prev_significant(text: str, pos: int) -> int | None:
    """Offset of the last character before ``pos`` that is not blank or in a comment."""
    i = pos - 1
    while i >= 0:
        if text[i] in " \t\r\n\f":
            i -= 1
            continue
        line_start = text.rfind("\n", 0, i) + 1
        hash_at = _comment_start(text[line_start : i + 1])
        if hash_at is not None:
            i = line_start + hash_at - 1
            continue
        return i
    return None


def _comment_start(line: str) -> int | None:
    for m in _SCAN.finditer(line):
        if m.group().startswith("#"):
            return m.start()
    return None


def protect(ranges: list[tuple[int, int]], br: Brackets) -> list[tuple[int, int]]:
    """Split ranges around brackets whose partner stays: blanking never unbalances a pair."""

    def inside(k: int) -> bool:
        return any(a <= k < b for a, b in ranges)

    out: list[tuple[int, int]] = []
    for a, b in ranges:
        cuts = sorted(k for k, other in br.partner.items() if a <= k < b and not inside(other))
        start = a
        for k in cuts:
            if start < k:
                out.append((start, k))
            start = k + 1
        if start < b:
            out.append((start, b))
    return out


def blank(text: str, ranges: list[tuple[int, int]]) -> str:
    """Replace the characters in ``ranges`` by spaces, keeping newlines."""
    chars = list(text)
    for a, b in ranges:
        for k in range(max(a, 0), min(b, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def has_content(text: str, ranges: list[tuple[int, int]]) -> bool:
    return any(text[max(a, 0) : b].strip() for a, b in ranges)


# --------------------------------------------------------------------------- spans


class Locator:
    """Offsets -> 1-based (line, column) in one text."""

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(self, pos: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, pos)
        return line, pos - self.starts[line - 1] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        end = start + 1 if end is None else end
        end = max(end, start)
        ln, col = self.line_col(start)
        eln, ecol = self.line_col(end)
        if (eln, ecol) == (ln, col):
            ecol = col + 1
        return Span(self.file, ln, col, eln, ecol, start, end)

    def line_span(self, line: int) -> Span:
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        text = self.text[start:end]
        stripped = len(text) - len(text.lstrip())
        return self.span(start + stripped, max(end, start + stripped + 1))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _unclosed_culprit(text: str, br: Brackets) -> tuple[int, int | None]:
    """The ``{`` most likely missing its ``}`` and the line where its block seems to end.

    By indentation: a ``{`` whose next line at or below its own indentation does not start
    with ``}`` was probably never closed (the usual missing-brace mistake)."""
    lines = text.splitlines()
    loc = Locator(text, "")
    for e in br.events:
        if text[e] != "{":
            continue
        line, _ = loc.line_col(e)
        own = _indent(lines[line - 1])
        for k in range(line, len(lines)):
            body = lines[k].strip()
            if not body or body.startswith("#"):
                continue
            if _indent(lines[k]) <= own:
                if not body.startswith("}") and (
                    e in br.unclosed or br.partner.get(e, -1) > loc.starts[k]
                ):
                    return e, k + 1
                break
    braces = [o for o in br.unclosed if text[o] == "{"]
    return (braces[-1] if braces else br.unclosed[-1]), None


# --------------------------------------------------------------------------- classification


@dataclass
class SyntaxErrorReport:
    diagnostic: Diagnostic
    resume: list[tuple[int, int]] | None  # ranges to blank; None = stop here


_CHAR_HELP = {
    ":": "settings are written `key = value`",
    ";": "items are separated by a new line or a `,`",
    "'": 'strings use double quotes: `"retail"`',
    ".": "write decimals with a leading digit: `0.5`",
    "$": "money is written `$60k`, `$0.25/h` or `$40k/month`",
    "\u00a0": "this is a non-breaking space (often pasted from a document): use a normal space",
    "\u201c": 'this is a typographic quote: strings use straight double quotes `"`',
    "\u201d": 'this is a typographic quote: strings use straight double quotes `"`',
    "\u2018": 'this is a typographic quote: strings use straight double quotes `"`',
    "\u2019": 'this is a typographic quote: strings use straight double quotes `"`',
    "\u2212": "this is a typographic minus: use `-`",
    "\u00d7": "this is a multiplication sign: use `*` (or `4x` for a multiplier)",
}


def classify(exc: UnexpectedInput, text: str, file: str) -> SyntaxErrorReport:
    """One diagnostic for lark's error, and the statement to blank before re-parsing."""
    br = Brackets.scan(text)
    report = _classify(exc, text, file, br)
    if report.resume is not None:
        report.resume = protect(report.resume, br)
    return report


def _classify(exc: UnexpectedInput, text: str, file: str, br: Brackets) -> SyntaxErrorReport:
    loc = Locator(text, file)
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, text, loc, br)
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        token = getattr(exc, "token", None)
        kind = token.type if token is not None else "$END"
        expected = set(getattr(exc, "accepts", None) or exc.expected or ())
        if kind == "$END":
            return _at_end(text, loc, br, expected)
        assert token is not None
        pos = token.start_pos if token.start_pos is not None else len(text)
        return _bad_token(kind, str(token), pos, expected, text, loc, br)
    # Not expected from an LALR parser, but never let a lark internal escape.
    return SyntaxErrorReport(error("E0101", "invalid syntax", loc.span(0)), None)


def _bad_character(
    exc: UnexpectedCharacters, text: str, loc: Locator, br: Brackets
) -> SyntaxErrorReport:
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    ch = text[pos] if pos < len(text) else ""
    region = statement_region(text, br, pos)
    if ch == '"':
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        diag = error(
            "E0104",
            "unterminated string",
            loc.span(pos, end),
            label='this string has no closing `"`',
            help='close the string on the same line: `"retail"`',
        )
        return SyntaxErrorReport(diag, region)
    shown = repr(ch)[1:-1] if not ch.isprintable() or ch in " \t" else ch
    diag = error(
        "E0102",
        f"unexpected character `{shown}`",
        loc.span(pos),
        label="not part of the .cap language",
        help=_CHAR_HELP.get(ch),
    )
    return SyntaxErrorReport(diag, region)


def _at_end(text: str, loc: Locator, br: Brackets, expected: set[str]) -> SyntaxErrorReport:
    end = len(text.rstrip()) or 0
    if br.unclosed:
        opener, end_line = _unclosed_culprit(text, br)
        ch = text[opener]
        labels: tuple[Label, ...] = ()
        if end_line is not None:
            labels = (Label(loc.line_span(end_line), "the block probably ends before this line"),)
        diag = error(
            "E0103",
            f"unclosed `{ch}`",
            loc.span(opener),
            label=f"this `{ch}` is never closed",
            labels=labels,
            help=f"add the missing `{_OPENERS[ch]}`",
        )
        return SyntaxErrorReport(diag, None)
    words = describe_expected(expected)
    diag = error(
        "E0101",
        f"unexpected end of file, expected {join_words(words)}",
        loc.span(max(end - 1, 0), max(end, 1)),
        label="the file ends here",
    )
    return SyntaxErrorReport(diag, None)


_LINE_HEAD = re.compile(r"[ \t]*[A-Za-z_][A-Za-z0-9_.*\"-]*[ \t]*")


def _dangling_operator(text: str, pos: int) -> int | None:
    """``latency p95 <`` followed by a new setting on the next line: newlines are not
    significant, so the parser took the next line's first word as the value and failed on
    its second token. Returns the dangling operator's offset."""
    line_start = text.rfind("\n", 0, pos) + 1
    if line_start == 0 or not _LINE_HEAD.fullmatch(text[line_start:pos]):
        return None
    prev = prev_significant(text, line_start)
    if prev is None:
        return None
    if text[prev] == "=" and prev > 0 and text[prev - 1] in "<>":
        prev -= 1
    if text[prev] not in "=<>+-*/" or (prev > 0 and text[prev - 1] not in " \t"):
        return None
    return prev


def _bad_token(
    kind: str, value: str, pos: int, expected: set[str], text: str, loc: Locator, br: Brackets
) -> SyntaxErrorReport:
    end = pos + max(len(value), 1)
    span = loc.span(pos, end)
    found = describe_found(kind, value)
    region = statement_region(text, br, pos)

    # A closing delimiter that closes nothing, or the wrong thing.
    if kind in _CLOSER_TERMINALS:
        ch = _CLOSER_TERMINALS[kind]
        inner = br.open_at(text, pos)
        if pos in br.unmatched and not inner:
            diag = error(
                "E0106",
                f"unexpected closing delimiter `{ch}`",
                span,
                label=f"no `{_CLOSERS[ch]}` opens this",
                help=f"remove this `{ch}`",
            )
            return SyntaxErrorReport(diag, [(pos, pos + 1)])
        if inner and text[inner[-1]] != _CLOSERS[ch] and pos in br.partner:
            o = inner[-1]
            diag = error(
                "E0103",
                f"unclosed `{text[o]}`",
                loc.span(o),
                label=f"this `{text[o]}` is never closed",
                labels=(Label(span, f"expected `{_OPENERS[text[o]]}` before {found}"),),
                help=f"add the missing `{_OPENERS[text[o]]}`",
            )
            start = statement_region(text, br, o)[0][0]
            return SyntaxErrorReport(diag, [(start, pos)])
        if inner and text[inner[-1]] != _CLOSERS[ch]:
            o = inner[-1]
            diag = error(
                "E0106",
                f"mismatched closing delimiter `{ch}`",
                span,
                label=f"expected `{_OPENERS[text[o]]}`",
                labels=(Label(loc.span(o), f"`{text[o]}` opened here"),),
                help=f"close it with `{_OPENERS[text[o]]}`",
            )
            return SyntaxErrorReport(diag, region)

    # A `(` or `[` left open on an earlier line: say so where it opened.
    for closer, opener in (("RPAR", "("), ("RBRACKET", "[")):
        if closer not in expected:
            continue
        inner = br.open_at(text, pos)
        if (
            inner
            and text[inner[-1]] == opener
            and loc.line_col(inner[-1])[0] < loc.line_col(pos)[0]
        ):
            o = inner[-1]
            diag = error(
                "E0103",
                f"unclosed `{opener}`",
                loc.span(o),
                label=f"this `{opener}` is never closed",
                labels=(Label(span, f"expected `{_OPENERS[opener]}` before {found}"),),
                help=f"add the missing `{_OPENERS[opener]}`",
            )
            line_start = loc.starts[loc.line_col(pos)[0] - 1]
            start = statement_region(text, br, o)[0][0]
            return SyntaxErrorReport(diag, [(start, line_start)])

    dangling = _dangling_operator(text, pos)
    if dangling is not None:
        op_end = dangling + 1 + (text[dangling + 1 : dangling + 2] == "=")
        op = text[dangling:op_end]
        diag = error(
            "E0101",
            f"expected a value after `{op}`",
            loc.span(dangling, op_end),
            label="nothing follows it on this line",
            help="write the value on the same line",
        )
        start = statement_region(text, br, dangling)[0][0]
        line_end = text.find("\n", dangling)
        return SyntaxErrorReport(diag, [(start, len(text) if line_end < 0 else line_end)])

    words = describe_expected(expected)
    help_text = None
    if "EQ" in expected and kind in _VALUE_START - {"NAME", "PATH", "STRING", "MINUS", "LPAR"}:
        before = re.search(
            r"([A-Za-z_][A-Za-z0-9_.*\"-]*)[ \t]*$", text[loc.starts[span.line - 1] : pos]
        )
        key = before.group(1) if before else "key"
        help_text = f"to set a value, write `{key} = {value}`"
    elif kind == "EQ" and "EQ" not in expected:
        help_text = "only `key = value` and `let NAME = value` take `=`"
    elif "COMMA" in expected and kind in _VALUE_START and "RBRACKET" in expected:
        help_text = "separate list items with `,`"
    elif "EQ" in expected and kind in ("NUMBER",):
        help_text = None
    diag = error(
        "E0101",
        f"expected {join_words(words)}, found {found}",
        span,
        label=f"expected {words[0]}" if len(words) == 1 else "not expected here",
        help=help_text,
    )
    return SyntaxErrorReport(diag, region)
