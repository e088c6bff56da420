"""The .cap abstract syntax tree.

The grammar is generic and HCL-like (see docs/language.md): a document is a sequence of
items; an item is an ``import``, a ``let``, a ``unit`` declaration, an attribute
(``key = expr``), a comparison (``latency p95 < 80 ms``) or a block
(``kind label... { items }``). What the blocks and attributes *mean* is the model's
business (``capdsl.model.schema``); this module knows syntax only, and nothing of clouds.

Every node is a frozen dataclass with a ``span``. ``to_dict()`` gives the JSON used by
the golden-file parse fixtures (spans are written as ``"line:col-end_line:end_col"``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Literal, Union

from capdsl.lang.diagnostics import Span

# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Number:
    """A plain number; a scale suffix is already applied (``45M`` -> 45000000)."""

    value: Decimal
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with a unit, lexed as one token: ``45M prediction/day``, ``80 ms``,
    ``$60k/month`` (unit ``USD/month``), ``30%`` (unit ``%``), ``4x`` (unit ``x``),
    ``3% per month`` (unit ``%/month``). ``unit`` is the normalised unit expression text
    (``per`` written as ``/``, single spaces removed); ``value`` has the scale applied.
    """

    value: Decimal
    unit: str
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Date:
    """``2027-11-24`` or ``2027-11-24T18:00`` (a datetime with minute precision)."""

    value: _dt.datetime
    has_time: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Month:
    """``2027-01``."""

    year: int
    month: int
    span: Span

    @property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Redundancy:
    """``N+1`` (``k`` = 1)."""

    k: int
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A bare identifier used as a value: a ``let`` constant, a workload, a keyword-like
    value (``yearly``, ``hard``, ``no_upfront``)."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted reference, possibly with glob segments and quoted segments:
    ``aws.c7g.2xlarge``, ``aws.c7g.*``, ``recs.event."annual sale".scale``.
    ``parts`` holds the segments unquoted."""

    parts: tuple[str, ...]
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class List:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class KeywordArg:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    """``csv("forecast.csv", column = "recs")``."""

    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[KeywordArg, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span


Expr = Union[  # noqa: UP007 - a runtime alias used by isinstance-free dispatch
    Number, Quantity, String, Bool, Date, Month, Redundancy, Name, Path, List, Call, BinOp, Neg
]

# --------------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class Comment:
    """``# text`` (kept by the lexer for the formatter; not part of ``items``)."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Import:
    path: String
    span: Span


@dataclass(frozen=True, slots=True)
class Let:
    name: Name
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class UnitDecl:
    """``unit prediction, request`` declares plan count units; ``unit ktok = 1000 token``
    declares an alias (``value`` set)."""

    names: tuple[Name, ...]
    value: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Attribute:
    """``key = value``. ``key`` is a Path (a one-part path for plain ``growth = ...``;
    several parts in scenario overrides ``recs.growth = ...``)."""

    key: Path
    value: Expr
    span: Span

    @property
    def name(self) -> str:
        return ".".join(self.key.parts)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``latency p95 < 80 ms`` (subject ``latency``, qualifier ``p95``) or
    ``monthly <= $60k`` (no qualifier). In scenarios the subject is a dotted path
    (``budget.monthly <= $80k``)."""

    subject: Path
    qualifier: Name | None
    op: Literal["<", "<=", ">", ">="]
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Block:
    """``kind label... { body }``. Labels are Names, Strings, Paths, or commas-separated
    lists of them: ``runs on aws.c7g.*, aws.m7g.* { ... }`` has kind ``runs`` and labels
    ``[Name(on), Path(aws.c7g.*), Path(aws.m7g.*)]``; ``catalog aws from "bundled" {``
    has labels ``[Name(aws), Name(from), String(bundled)]``."""

    kind: Name
    labels: tuple[Name | String | Path, ...]
    body: tuple[Item, ...]
    span: Span


Item = Union[Import, Let, UnitDecl, Attribute, Comparison, Block]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Document:
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...]
    span: Span


# --------------------------------------------------------------------------- helpers

Node = Union[Expr, Item, Comment, KeywordArg, Document]  # noqa: UP007


def span_text(span: Span) -> str:
    return f"{span.line}:{span.column}-{span.end_line}:{span.end_column}"


def to_dict(node: Any, *, spans: bool = True) -> Any:
    """JSON-ready form of a node (golden fixtures compare this)."""
    if isinstance(node, tuple | list):
        return [to_dict(n, spans=spans) for n in node]
    if isinstance(node, Span):
        return span_text(node)
    if isinstance(node, Decimal):
        return str(node)
    if isinstance(node, _dt.datetime):
        return node.isoformat(timespec="minutes")
    if hasattr(node, "__dataclass_fields__"):
        out: dict[str, Any] = {"node": type(node).__name__}
        for f in fields(node):
            if f.name == "span" and not spans:
                continue
            out[f.name] = to_dict(getattr(node, f.name), spans=spans)
        return out
    return node


def strip_spans(node: Any) -> Any:
    """The span-free JSON form: two parses are 'equal ASTs' when these are equal
    (the formatter's safety check)."""
    return to_dict(node, spans=False)
