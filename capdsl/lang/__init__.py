"""The .cap language front end: text -> AST (with spans), units, constants, diagnostics.

Knows syntax, spans and units; imports nothing else of capdsl and knows no clouds.

API for the model
-----------------

- ``parse_file(path, *, text=None, allow_outside=False, root=None) -> ParseResult``:
  ``.documents`` (root first, then every imported file once, in import order; only files
  that parsed), ``.diagnostics`` (syntax, imports, literals), ``.sources`` (file -> text,
  for ``diagnostics.render``), ``.imports`` (the import graph).
- ``parse(text, path) -> (Document | None, diagnostics)``: one file, no imports.
- ``capdsl.lang.ast``: the node types (``Block``, ``Attribute``, ``Comparison``,
  ``Quantity``, ...); ``to_dict``/``strip_spans`` for JSON and comparisons.
"""

from __future__ import annotations

from capdsl.lang.imports import parse_file
from capdsl.lang.parser import ParseResult, parse

__all__ = ["ParseResult", "parse", "parse_file"]
