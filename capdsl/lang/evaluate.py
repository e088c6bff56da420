"""Evaluating expressions: exact arithmetic on quantities, ``let`` constants, unit checks.

``evaluate(expr, env, registry)`` turns an expression into a `Result`:

- numbers and quantities -> `Value` (exact ``Fraction`` in base units + dimensions);
- strings -> ``str``; ``true``/``false`` -> ``bool``; lists -> ``list`` of results;
- dates, months, ``N+k``, dotted paths and calls -> their AST nodes, unchanged
  (``csv("f.csv", column = "x")`` is the model's to interpret);
- a name -> the ``let`` constant's value from ``env``; a name listed in ``names``
  (keyword-like values such as ``yearly``) -> the `ast.Name` itself; ``names=None``
  returns any unknown bare name as an `ast.Name` (but never inside arithmetic).

Every problem is a `Diagnostic` at the offending span, and all problems of one expression
are raised together as `EvalError` (a `DiagnosticError`): E0201 mismatched dimensions,
E0203 unknown unit (with "did you mean"), E0204 division by zero, E0205 an operation on a
non-quantity, E0301 unknown name.

``analyze(parsed)`` is what ``parse_file`` runs once everything parsed: the plan's units
(``unit`` declarations and aliases), the ``let`` constants in order (a ``let`` may use the
constants above it and those of the files its file imports; names are plan-wide and
unique, E0306), every quantity's unit, and every arithmetic expression's dimensions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, DiagnosticError, Label, Span, did_you_mean, error
from capdsl.lang.quantity import DimensionError, UnitError, UnitRegistry, Value, describe_dims

if TYPE_CHECKING:
    from capdsl.lang.parser import ParseResult

Result = Union[  # noqa: UP007 - runtime alias
    Value,
    str,
    bool,
    list["Result"],
    ast.Date,
    ast.Month,
    ast.Redundancy,
    ast.Path,
    ast.Name,
    ast.Call,
]


class EvalError(DiagnosticError):
    """One or more problems evaluating an expression (``.diagnostics``)."""


class _Failed:
    """Marks a sub-expression that already produced a diagnostic."""


_FAILED = _Failed()


# --------------------------------------------------------------------------- spans


def unit_word_span(q: ast.Quantity, word: str) -> Span:
    """The span of one unit word inside a quantity literal (``reqs`` in ``45M reqs/day``)."""
    text = q.text
    number = re.match(r"\$?[0-9][0-9_]*(?:\.[0-9]+)?(?:[kMB](?![A-Za-z0-9_]))?", text)
    start = number.end() if number else 0
    m = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])").search(text, start)
    if m is None or q.span.line != q.span.end_line:
        return q.span
    s = q.span
    return Span(
        s.file,
        s.line,
        s.column + m.start(),
        s.line,
        s.column + m.end(),
        s.start + m.start(),
        s.start + m.end(),
    )


def describe(result: object) -> str:
    """Words for a value's kind, for messages."""
    if isinstance(result, Value):
        return result.dimension_name()
    if isinstance(result, bool):
        return "a boolean"
    if isinstance(result, str):
        return "a string"
    if isinstance(result, list):
        return "a list"
    return {
        ast.Date: "a date",
        ast.Month: "a month",
        ast.Redundancy: "a redundancy",
        ast.Path: "a dotted path",
        ast.Name: "a name",
        ast.Call: "a function call",
    }.get(type(result), "a value")


def _unit_error(q: ast.Quantity, exc: UnitError) -> Diagnostic:
    if not exc.word:
        return error("E0203", exc.message, q.span, label="not a unit expression")
    return error(
        "E0203",
        f"unknown unit `{exc.word}`",
        unit_word_span(q, exc.word),
        label="not a known unit",
        help=exc.help
        or f"if `{exc.word}` is the plan's own count unit, declare it: `unit {exc.word}`",
    )


# --------------------------------------------------------------------------- evaluator


class _Evaluator:
    def __init__(
        self,
        env: Mapping[str, object],
        registry: UnitRegistry,
        names: Collection[str] | None,
        later: Mapping[str, Span] | None = None,
    ):
        self.env = env
        self.registry = registry
        self.names = names
        self.later = later or {}
        self.diags: list[Diagnostic] = []

    def fail(self, diag: Diagnostic) -> _Failed:
        self.diags.append(diag)
        return _FAILED

    def run(self, expr: ast.Expr, arithmetic: bool = False) -> Any:
        if isinstance(expr, ast.Quantity):
            try:
                unit = self.registry.parse_unit(expr.unit)
            except UnitError as exc:
                return self.fail(_unit_error(expr, exc))
            return Value(Fraction(expr.value) * unit.factor, unit.dims)
        if isinstance(expr, ast.Number):
            return Value(Fraction(expr.value))
        if isinstance(expr, ast.String):
            return expr.value
        if isinstance(expr, ast.Bool):
            return expr.value
        if isinstance(expr, ast.Name):
            return self.name(expr, arithmetic)
        if isinstance(expr, ast.BinOp):
            return self.binop(expr)
        if isinstance(expr, ast.Neg):
            operand = self.run(expr.operand, arithmetic=True)
            if operand is _FAILED:
                return _FAILED
            if not isinstance(operand, Value):
                return self.fail(
                    error(
                        "E0205",
                        f"cannot negate {describe(operand)}",
                        expr.span,
                        label="only quantities can be negated",
                    )
                )
            return -operand
        if isinstance(expr, ast.List):
            items = [self.run(item) for item in expr.items]
            return _FAILED if any(i is _FAILED for i in items) else items
        return expr  # Date, Month, Redundancy, Path, Call: the model interprets them

    def name(self, expr: ast.Name, arithmetic: bool) -> Any:
        if expr.name in self.env:
            value = self.env[expr.name]
            return _FAILED if value is _FAILED else value
        if not arithmetic and (self.names is None or expr.name in self.names):
            return expr
        known = list(self.env)
        help_text = did_you_mean(expr.name, [*known, *(self.names or ())])
        notes: tuple[str, ...] = ()
        if expr.name in self.later:
            where = self.later[expr.name]
            notes = (
                f"`{expr.name}` is defined later, at {where}; a `let` can only use constants defined above it",
            )
        elif self.registry.knows(expr.name):
            help_text = f"`{expr.name}` is a unit: write it right after a number, like `45M request/{expr.name}`"
        elif expr.name == "N":
            help_text = "redundancy is written without spaces: `N+1`"
        return self.fail(
            error(
                "E0301",
                f"unknown name `{expr.name}`",
                expr.span,
                label="not a `let` constant",
                help=help_text,
                notes=notes,
            )
        )

    def binop(self, expr: ast.BinOp) -> Any:
        left = self.run(expr.left, arithmetic=True)
        right = self.run(expr.right, arithmetic=True)
        if left is _FAILED or right is _FAILED:
            return _FAILED
        verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[expr.op]
        for side, node in ((left, expr.left), (right, expr.right)):
            if not isinstance(side, Value):
                return self.fail(
                    error(
                        "E0205",
                        f"cannot {verb} {describe(left)} and {describe(right)}",
                        node.span,
                        label=f"this is {describe(side)}",
                        help="arithmetic works on numbers and quantities only",
                    )
                )
        try:
            if expr.op == "+":
                return left + right
            if expr.op == "-":
                return left - right
            if expr.op == "*":
                return left * right
            return left / right
        except DimensionError:
            prep = "to" if expr.op == "+" else "from"
            message = (
                f"cannot add {describe(right)} to {describe(left)}"
                if expr.op == "+"
                else f"cannot subtract {describe(right)} {prep} {describe(left)}"
            )
            return self.fail(
                error(
                    "E0201",
                    message,
                    expr.right.span,
                    label=f"this is {describe(right)}",
                    labels=(Label(expr.left.span, f"this is {describe(left)}"),),
                    help="only quantities of the same dimension can be added or subtracted",
                )
            )
        except ZeroDivisionError:
            return self.fail(
                error("E0204", "division by zero", expr.right.span, label="this is zero")
            )


def evaluate(
    expr: ast.Expr,
    env: Mapping[str, object],
    registry: UnitRegistry,
    *,
    names: Collection[str] | None = (),
) -> Result:
    """Evaluate one expression (see the module docstring). Raises EvalError."""
    ev = _Evaluator(env, registry, names)
    result = ev.run(expr)
    if ev.diags:
        raise EvalError(ev.diags)
    return result  # type: ignore[no-any-return,unused-ignore]


def to_unit(
    result: object, unit_text: str, registry: UnitRegistry, *, span: Span, setting: str = ""
) -> Fraction:
    """``result`` as a number of ``unit_text`` (exact), or EvalError E0207 naming the
    setting and both dimensions: ``headroom = 30 ms`` -> "expected a plain number"."""
    unit = registry.parse_unit(unit_text)
    expected = describe_dims(unit.dims)
    if not unit.dims and unit_text in ("%", "x"):
        expected = "a share or multiplier like `30%` or `4x`"
    if isinstance(result, Value):
        try:
            return result.to(unit_text, registry)
        except DimensionError:
            pass
    where = f" for `{setting}`" if setting else ""
    raise EvalError(
        [
            error(
                "E0207",
                f"expected {expected}{where}, found {describe(result)}",
                span,
                label=f"this is {describe(result)}",
                help=f"write it in `{unit_text}` or a unit of the same kind",
            )
        ]
    )


# --------------------------------------------------------------------------- the plan's definitions


@dataclass
class Definitions:
    """The plan's units and constants, and the problems found evaluating them."""

    registry: UnitRegistry
    env: dict[str, Result] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lets: dict[str, ast.Let] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # lets whose value had errors


def _ordered(
    documents: list[ast.Document], imports: Mapping[str, Iterable[str]] | None
) -> list[ast.Document]:
    """Imported files before the files that import them (post-order), each once."""
    if not imports:
        return list(reversed(documents))
    by_path = {d.path: d for d in documents}
    out: list[ast.Document] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen or path not in by_path:
            return
        seen.add(path)
        for child in imports.get(path, ()):
            visit(child)
        out.append(by_path[path])

    for d in documents:
        visit(d.path)
    return out


def plan_currency(documents: Iterable[ast.Document]) -> str:
    """``plan { currency = "EUR" }`` if set (``$`` then means that currency), else USD."""
    for doc in documents:
        for item in doc.items:
            if isinstance(item, ast.Block) and item.kind.name == "plan":
                for sub in item.body:
                    if (
                        isinstance(sub, ast.Attribute)
                        and sub.name == "currency"
                        and isinstance(sub.value, ast.String)
                    ):
                        return sub.value.value.upper()
    return "USD"


def evaluate_lets(
    documents: list[ast.Document],
    registry: UnitRegistry | None = None,
    *,
    imports: Mapping[str, Iterable[str]] | None = None,
) -> Definitions:
    """Declare the plan's units and evaluate its ``let`` constants and unit aliases, in
    order (imported files first). ``registry`` None: a new one for the plan's currency."""
    registry = registry or UnitRegistry(currency=plan_currency(documents))
    defs = Definitions(registry)
    ordered = _ordered(documents, imports)
    decls = [it for d in ordered for it in d.items if isinstance(it, ast.UnitDecl)]
    for decl in decls:
        if decl.value is None:
            for name in decl.names:
                _declare(defs, name)
    defined_at: dict[str, Span] = {}
    for doc in ordered:
        for item in doc.items:
            if isinstance(item, ast.Let):
                defined_at.setdefault(item.name.name, item.name.span)
    env: dict[str, object] = {}
    for doc in ordered:
        for item in doc.items:
            if isinstance(item, ast.Let):
                _let(defs, env, item, defined_at)
            elif isinstance(item, ast.UnitDecl) and item.value is not None:
                _alias(defs, env, item, defined_at)
    defs.env = {k: v for k, v in env.items() if v is not _FAILED}  # type: ignore[misc]
    defs.failed = {k for k, v in env.items() if v is _FAILED}
    return defs


def _declare(defs: Definitions, name: ast.Name) -> None:
    try:
        defs.registry.declare(name.name)
    except UnitError:
        defs.diagnostics.append(
            error(
                "E0206",
                f"`{name.name}` is already a built-in unit",
                name.span,
                label="cannot be declared again",
                help=f"use the built-in `{name.name}`, or pick another name for the plan's own unit",
            )
        )


def _let(
    defs: Definitions, env: dict[str, object], item: ast.Let, defined_at: Mapping[str, Span]
) -> None:
    name = item.name.name
    if name in env:
        first = defs.lets[name]
        defs.diagnostics.append(
            error(
                "E0306",
                f"`{name}` is defined twice",
                item.name.span,
                label="defined again here",
                labels=(Label(first.name.span, "first defined here"),),
                help="`let` names are plan-wide: rename one of them",
            )
        )
        return
    ev = _Evaluator(env, defs.registry, (), defined_at)
    value = ev.run(item.value)
    defs.diagnostics += ev.diags
    env[name] = _FAILED if ev.diags else value
    defs.lets[name] = item


def _alias(
    defs: Definitions, env: dict[str, object], item: ast.UnitDecl, defined_at: Mapping[str, Span]
) -> None:
    name = item.names[0]
    assert item.value is not None
    ev = _Evaluator(env, defs.registry, (), defined_at)
    value = ev.run(item.value)
    defs.diagnostics += ev.diags
    if ev.diags:
        return
    if not isinstance(value, Value):
        defs.diagnostics.append(
            error(
                "E0206",
                f"unit `{name.name}` must be defined as a quantity, found {describe(value)}",
                item.value.span,
                help="write it like `unit ktok = 1000 token`",
            )
        )
        return
    try:
        defs.registry.define(name.name, value, _source_text(item.value))
    except UnitError:
        defs.diagnostics.append(
            error(
                "E0206",
                f"`{name.name}` is already a unit",
                name.span,
                label="cannot be defined again",
                help="pick another name for this unit",
            )
        )


def _source_text(expr: ast.Expr) -> str:
    return getattr(expr, "text", "") or ""


# --------------------------------------------------------------------------- whole-plan checks


def _expressions(items: Iterable[ast.Item]) -> Iterator[ast.Expr]:
    """Every top-level expression of attributes and comparisons, recursively through blocks
    (``let`` values and unit aliases are evaluated by `evaluate_lets`)."""
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, ast.Attribute | ast.Comparison):
                yield item.value
            elif isinstance(item, ast.Block):
                stack.append(iter(item.body))
                break
        else:
            stack.pop()


def _walk(expr: ast.Expr) -> Iterator[ast.Expr]:
    """Quantities outside arithmetic, and arithmetic expressions (evaluated whole)."""
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Quantity | ast.BinOp | ast.Neg):
            yield node
        elif isinstance(node, ast.List):
            stack += reversed(node.items)
        elif isinstance(node, ast.Call):
            stack += [kw.value for kw in reversed(node.kwargs)]
            stack += reversed(node.args)


def check_expressions(documents: Iterable[ast.Document], defs: Definitions) -> list[Diagnostic]:
    """Unit of every quantity (E0203) and dimensions of every arithmetic expression."""
    out: list[Diagnostic] = []
    registry = defs.registry
    # A reference to a let that already failed is not a new error.
    env: dict[str, object] = {**defs.env, **dict.fromkeys(defs.failed, _FAILED)}
    ev = _Evaluator(env, registry, None)
    for doc in documents:
        for expr in _expressions(doc.items):
            for node in _walk(expr):
                if isinstance(node, ast.Quantity):
                    try:
                        registry.parse_unit(node.unit)
                    except UnitError as exc:
                        out.append(_unit_error(node, exc))
                else:
                    ev.run(node)
                    out += ev.diags
                    ev.diags = []
    return out


def analyze(parsed: ParseResult) -> Definitions:
    """Units, constants and expression checks for a parsed plan (``parse_file`` calls this)."""
    defs = evaluate_lets(parsed.documents, imports=parsed.imports)
    defs.diagnostics += check_expressions(parsed.documents, defs)
    rank = {d.path: i for i, d in enumerate(parsed.documents)}
    defs.diagnostics.sort(
        key=lambda d: (rank.get(d.span.file, -1), d.span.start) if d.span else (-1, 0)
    )
    return defs
