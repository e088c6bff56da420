"""The .cap language front end: text -> AST (with spans), units, constants, diagnostics.

Knows syntax, spans and units; imports nothing else of capdsl and knows no clouds.
Modules: ``parser`` (grammar, ``parse``), ``transform`` (lark tree -> AST),
``syntax_errors`` (messages and recovery), ``imports`` (``parse_file``), ``quantity``
(units, exact values), ``evaluate`` (expressions, ``let``, whole-plan checks), ``format``
(``capdsl fmt``), ``lexer`` (Pygments), ``diagnostics``, ``ast``.

API for the model
-----------------

- ``parse_file(path, *, text=None, allow_outside=False, root=None) -> ParseResult``:

  - ``.documents``: root first, then every imported file once, in import order (depth
    first); only files that parsed without errors.
  - ``.diagnostics``: syntax (E01xx), imports (E0001/E0304/E0305), units and dimensions of
    every quantity and arithmetic expression (E02xx), ``let`` problems (E0301/E0306).
    If it has errors, stop: the model never needs to re-report these.
  - ``.sources``: file -> text, for ``diagnostics.render``.
  - ``.registry``: the plan's `quantity.UnitRegistry` (built-ins + ``unit`` declarations
    and aliases, ``$`` = the plan's ``currency``); ``.env``: ``let`` name -> value;
    ``.imports``: the import graph. Both set when the files parsed.

- ``evaluate(expr, parsed.env, parsed.registry, names=...)``: an expression's value:
  `quantity.Value` for numbers and quantities (exact ``Fraction`` in base units, with
  dimensions), ``str``, ``bool``, ``list``, or the AST node for dates, months, ``N+k``,
  paths and calls. ``names``: bare names to return as `ast.Name` (keyword values such as
  ``yearly``); ``names=None`` returns any unknown bare name. Raises ``EvalError``
  (``.diagnostics``). ``evaluate.to_unit(value, "%", registry, span=..., setting=...)``
  converts exactly or raises E0207 in the plan's words.
- ``Value.to("USD/month", registry) -> Fraction``; ``Value.dimension_name()``;
  arithmetic raises ``DimensionError``; ``registry.parse_unit(text)`` raises ``UnitError``
  (``.word``, ``.help`` "did you mean").
- ``parse(text, path) -> (Document | None, diagnostics)``: one file, no imports, no unit
  checks. ``format_text(text, path) -> str``: the canonical text (raises DiagnosticError). ``capdsl.lang.ast``: node types; ``to_dict``/``strip_spans``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# ``evaluate`` is also the name of its module: imported here, so that the package's attribute
# is the function whichever is imported first (it loads no parser)
from capdsl.lang.evaluate import EvalError, evaluate

if TYPE_CHECKING:
    from capdsl.lang.format import format_text
    from capdsl.lang.imports import parse_file
    from capdsl.lang.parser import ParseResult, parse

# The parser's exports load on first use (PEP 562), so that a light submodule
# (``diagnostics``, ``lexer``: the TUI's first screen) does not load lark and its grammar.
_EXPORTS = {
    "format_text": "format",
    "parse_file": "imports",
    "ParseResult": "parser",
    "parse": "parser",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["EvalError", "ParseResult", "evaluate", "format_text", "parse", "parse_file"]
