"""Lark parse tree -> AST, applied inline while the LALR parser runs.

The parser is built with ``keep_all_tokens=True`` and this transformer, so every callback
sees its punctuation tokens and computes its own span (lark's ``propagate_positions`` cannot
attach positions to non-``Tree`` results of an inline transformer). The per-parse context
(file name, collected comments, literal diagnostics) lives in a ``ContextVar`` so the one
cached parser serves every thread and every file.

Literal problems the grammar cannot see (``2027-13-01``, a bad string escape, a number too
large to hold) are recorded as diagnostics and replaced by a placeholder node; a document
with any diagnostic is never handed to the model.
"""

from __future__ import annotations

import datetime as _dt
import re
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from lark import Token, Transformer

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Span, error


@dataclass
class ParseContext:
    """What one parse run collects besides the tree."""

    file: str
    comments: list[Token] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    item_ends: list[int] = field(default_factory=list)  # end offsets of reduced items


CONTEXT: ContextVar[ParseContext] = ContextVar("capdsl_parse_context")


def on_comment(token: Token) -> Token:
    """Lexer callback: keep ``# ...`` comments for the formatter."""
    CONTEXT.get().comments.append(token)
    return token


# --------------------------------------------------------------------------- spans


def token_span(tok: Token, file: str) -> Span:
    return Span(
        file,
        tok.line or 1,
        tok.column or 1,
        tok.end_line or tok.line or 1,
        tok.end_column or tok.column or 1,
        tok.start_pos or 0,
        tok.end_pos or 0,
    )


def _span(first: Any, last: Any, file: str) -> Span:
    a = (
        first
        if isinstance(first, Span)
        else (token_span(first, file) if isinstance(first, Token) else first.span)
    )
    b = (
        last
        if isinstance(last, Span)
        else (token_span(last, file) if isinstance(last, Token) else last.span)
    )
    return Span(file, a.line, a.column, b.end_line, b.end_column, a.start, b.end)


# --------------------------------------------------------------------------- literals

SCALES = {"k": 3, "M": 6, "B": 9}
_NUMBER = re.compile(r"([0-9][0-9_]*(?:\.[0-9]+)?)([kMB](?![A-Za-z0-9_]))?")
_PER = re.compile(r"[ \t]+per[ \t]+")
_MAX_DIGITS = 60


def number_value(digits: str, scale: str | None) -> Decimal:
    """``45`` + ``M`` -> Decimal(45000000); integral results carry no fractional zeros.

    Raises ValueError for numbers too large to be meant (more than 60 digits)."""
    digits = digits.replace("_", "")
    if len(digits) > _MAX_DIGITS:
        raise ValueError("number too large")
    whole, _, frac = digits.partition(".")
    shift = SCALES[scale] if scale else 0
    # Move the decimal point textually: exact, no float and no context precision limits.
    frac = frac + "0" * max(0, shift - len(frac))
    whole, frac = whole + frac[:shift], frac[shift:]
    frac = frac.rstrip("0")
    whole = whole.lstrip("0") or "0"
    return Decimal(f"{whole}.{frac}" if frac else whole)


def normalize_unit(text: str) -> str:
    """``prediction/s per vcpu`` -> ``prediction/s/vcpu``; ``per vcpu`` -> ``1/vcpu``."""
    text = text.strip()
    if text.startswith("per ") or text.startswith("per\t"):
        text = "1/" + text[3:].strip()
    return _PER.sub("/", text).replace(" ", "").replace("\t", "")


def split_quantity(text: str) -> tuple[str, str | None, str]:
    """Split a QUANTITY token into (digits, scale, raw unit text)."""
    m = _NUMBER.match(text)
    assert m is not None  # the lexer guarantees a leading number
    return m.group(1), m.group(2), text[m.end() :]


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")


def unescape(body: str) -> tuple[str, str | None]:
    """Resolve ``\\"``, ``\\\\``, ``\\n``, ``\\t``; returns (value, first bad escape or None)."""
    bad: list[str] = []

    def sub(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch not in _ESCAPES:
            bad.append(ch)
            return ch
        return _ESCAPES[ch]

    value = _ESCAPE.sub(sub, body) if "\\" in body else body
    return value, (bad[0] if bad else None)


def path_parts(text: str) -> tuple[str, ...]:
    """``recs.event."annual sale".scale`` -> ("recs", "event", "annual sale", "scale")."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            parts.append(unescape(text[i + 1 : j])[0])
            i = j + 2  # skip the closing quote and the dot
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            parts.append(text[i:j])
            i = j + 1
    return tuple(parts)


# --------------------------------------------------------------------------- transformer


def _tokens(children: list[Any], kind: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type == kind]


def _nodes(children: list[Any]) -> list[Any]:
    return [c for c in children if not isinstance(c, Token) and c is not None]


_Children = list[Any]


class ToAst(Transformer[Token, Any]):
    """Callbacks named after the grammar's rules and aliases (see grammars/cap.lark)."""

    # -- helpers
    @staticmethod
    def _file() -> str:
        return CONTEXT.get().file

    @staticmethod
    def _report(diag: Diagnostic) -> None:
        CONTEXT.get().diagnostics.append(diag)

    @staticmethod
    def _done(node: Any) -> Any:
        """Every reduced item records where it ends (error recovery resumes after one)."""
        CONTEXT.get().item_ends.append(node.span.end)
        return node

    # -- document
    def start(self, children: list[Any]) -> list[Any]:
        return _nodes(children)

    # -- items
    def import_stmt(self, c: list[Any]) -> ast.Import:
        string = self.string([c[1]])
        return self._done(ast.Import(string, _span(c[0], c[1], self._file())))

    def let_stmt(self, c: list[Any]) -> ast.Let:
        f = self._file()
        return self._done(
            ast.Let(ast.Name(str(c[1]), token_span(c[1], f)), c[3], _span(c[0], c[3], f))
        )

    def unit_names(self, c: list[Any]) -> ast.UnitDecl:
        f = self._file()
        names = tuple(ast.Name(str(t), token_span(t, f)) for t in _tokens(c, "NAME"))
        return self._done(ast.UnitDecl(names, None, _span(c[0], c[-1], f)))

    def unit_alias(self, c: list[Any]) -> ast.UnitDecl:
        f = self._file()
        name = ast.Name(str(c[1]), token_span(c[1], f))
        return self._done(ast.UnitDecl((name,), c[3], _span(c[0], c[3], f)))

    def _key(self, tok: Token) -> ast.Path:
        f = self._file()
        if tok.type == "PATH":
            return ast.Path(path_parts(str(tok)), str(tok), token_span(tok, f))
        return ast.Path((str(tok),), str(tok), token_span(tok, f))

    def attribute(self, c: list[Any]) -> ast.Attribute:
        return self._done(ast.Attribute(self._key(c[0]), c[2], _span(c[0], c[2], self._file())))

    def comparison(self, c: list[Any]) -> ast.Comparison:
        f = self._file()
        qualifier = None
        if len(c) == 4:
            qualifier = ast.Name(str(c[1]), token_span(c[1], f))
        op = str(c[-2])
        node = ast.Comparison(self._key(c[0]), qualifier, op, c[-1], _span(c[0], c[-1], f))  # type: ignore[arg-type]
        return self._done(node)  # type: ignore[no-any-return,unused-ignore]

    def block(self, c: list[Any]) -> ast.Block:
        f = self._file()
        kind = ast.Name(str(c[0]), token_span(c[0], f))
        brace = next(i for i, x in enumerate(c) if isinstance(x, Token) and x.type == "LBRACE")
        labels = tuple(_nodes(c[1:brace]))
        body = tuple(_nodes(c[brace + 1 : -1]))
        return self._done(ast.Block(kind, labels, body, _span(c[0], c[-1], f)))

    def label_name(self, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), token_span(c[0], self._file()))

    def label_string(self, c: list[Any]) -> ast.String:
        return self.string(c)

    def label_path(self, c: list[Any]) -> ast.Path:
        return self.path(c)

    # -- expressions
    def binop(self, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(str(c[1]), c[0], c[2], _span(c[0], c[2], self._file()))  # type: ignore[arg-type]

    def neg(self, c: list[Any]) -> ast.Neg:
        return ast.Neg(c[1], _span(c[0], c[1], self._file()))

    def paren(self, c: list[Any]) -> Any:
        # The parentheses belong to the expression's span (underlines cover them).
        return replace(c[1], span=_span(c[0], c[2], self._file()))

    def _decimal(self, tok: Token, digits: str, scale: str | None) -> Decimal:
        try:
            return number_value(digits, scale)
        except (ValueError, InvalidOperation):
            self._report(
                error(
                    "E0107",
                    "number is too large",
                    token_span(tok, self._file()),
                    label=f"more than {_MAX_DIGITS} digits",
                    help="write large amounts with a scale suffix: `45M`, `1.2B`",
                )
            )
            return Decimal(0)

    def number(self, c: list[Any]) -> ast.Number:
        tok = c[0]
        digits, scale, _ = split_quantity(str(tok))
        return ast.Number(
            self._decimal(tok, digits, scale), str(tok), token_span(tok, self._file())
        )

    def quantity(self, c: list[Any]) -> ast.Quantity:
        tok = c[0]
        digits, scale, unit = split_quantity(str(tok))
        value = self._decimal(tok, digits, scale)
        return ast.Quantity(value, normalize_unit(unit), str(tok), token_span(tok, self._file()))

    def money(self, c: list[Any]) -> ast.Quantity:
        tok = c[0]
        digits, scale, rest = split_quantity(str(tok)[1:])
        value = self._decimal(tok, digits, scale)
        # `$40/h`, `$40 per h`, `$60k/month per zone`: the unit is USD over the rest
        rest = re.sub(r"^[ \t]*per[ \t]+", "/", rest)
        unit = "USD" + normalize_unit(rest)
        return ast.Quantity(value, unit, str(tok), token_span(tok, self._file()))

    def string(self, c: list[Any]) -> ast.String:
        tok = c[0]
        sp = token_span(tok, self._file())
        value, bad = unescape(str(tok)[1:-1])
        if bad is not None:
            at = str(tok).find("\\" + bad)
            where = Span(
                sp.file,
                sp.line,
                sp.column + at,
                sp.line,
                sp.column + at + 2,
                sp.start + at,
                sp.start + at + 2,
            )
            self._report(
                error(
                    "E0104",
                    f"unknown escape `\\{bad}` in string",
                    where,
                    label="unknown escape",
                    help='strings know the escapes `\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash',
                )
            )
        return ast.String(value, sp)

    def true(self, c: list[Any]) -> ast.Bool:
        return ast.Bool(True, token_span(c[0], self._file()))

    def false(self, c: list[Any]) -> ast.Bool:
        return ast.Bool(False, token_span(c[0], self._file()))

    def _bad_date(self, tok: Token, exc: ValueError, what: str) -> None:
        self._report(
            error(
                "E0105",
                f"invalid {what} `{tok}`",
                token_span(tok, self._file()),
                label=str(exc),
                help="dates are `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, months `YYYY-MM`",
            )
        )

    def datetime(self, c: list[Any]) -> ast.Date:
        tok = c[0]
        try:
            value = _dt.datetime.strptime(str(tok), "%Y-%m-%dT%H:%M")
        except ValueError:
            self._bad_date(tok, _date_problem(str(tok)), "date and time")
            value = _dt.datetime(1, 1, 1)
        return ast.Date(value, True, token_span(tok, self._file()))

    def date(self, c: list[Any]) -> ast.Date:
        tok = c[0]
        try:
            value = _dt.datetime.strptime(str(tok), "%Y-%m-%d")
        except ValueError:
            self._bad_date(tok, _date_problem(str(tok)), "date")
            value = _dt.datetime(1, 1, 1)
        return ast.Date(value, False, token_span(tok, self._file()))

    def month(self, c: list[Any]) -> ast.Month:
        tok = c[0]
        year, month = int(str(tok)[:4]), int(str(tok)[5:7])
        if not 1 <= month <= 12 or year < 1:
            self._bad_date(tok, ValueError("month must be 01 to 12"), "month")
        return ast.Month(year, month, token_span(tok, self._file()))

    def redundancy(self, c: list[Any]) -> ast.Redundancy:
        tok = c[0]
        return ast.Redundancy(int(str(tok)[2:]), token_span(tok, self._file()))

    def name(self, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), token_span(c[0], self._file()))

    def path(self, c: list[Any]) -> ast.Path:
        tok = c[0]
        return ast.Path(path_parts(str(tok)), str(tok), token_span(tok, self._file()))

    def list(self, c: _Children) -> ast.List:  # the grammar alias `-> list`
        return ast.List(tuple(_nodes(c[1:-1])), _span(c[0], c[-1], self._file()))

    def kwarg(self, c: _Children) -> ast.KeywordArg:
        return ast.KeywordArg(str(c[0]), c[2], _span(c[0], c[2], self._file()))

    def call(self, c: _Children) -> ast.Call:
        inner = _nodes(c[2:-1])
        args = tuple(a for a in inner if not isinstance(a, ast.KeywordArg))
        kwargs = tuple(a for a in inner if isinstance(a, ast.KeywordArg))
        return ast.Call(str(c[0]), args, kwargs, _span(c[0], c[-1], self._file()))


def _date_problem(text: str) -> ValueError:
    """A short reason why a date literal is not a date (for the diagnostic label)."""
    parts = re.split(r"[-T:]", text)
    if int(parts[0]) < 1:
        return ValueError("year must be 0001 or later")
    month = int(parts[1])
    if not 1 <= month <= 12:
        return ValueError("month must be 01 to 12")
    if len(parts) > 2:
        try:
            _dt.date(int(parts[0]), month, int(parts[2]))
        except ValueError:
            return ValueError(f"{parts[0]}-{parts[1]} has no day {parts[2]}")
    if len(parts) > 3 and not (int(parts[3]) < 24 and int(parts[4]) < 60):
        return ValueError("time must be 00:00 to 23:59")
    return ValueError("not a calendar date")
