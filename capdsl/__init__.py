"""capdsl: capacity plans in the .cap language, solved to a proven-cheap, verified mix of
reserved, on-demand and spot instances.

The public API follows the ``json`` module::

    import capdsl
    plan = capdsl.load(open("shop.cap"))            # or capdsl.loads(text, path=...)
    diags = capdsl.check(plan_or_text)              # list[Diagnostic]
    result = capdsl.solve(plan, scenario="aggressive", time_limit=10)
    report = capdsl.verify(plan, result)            # independent constraint re-check

Heavy modules (OR-Tools, Textual, the bundled catalog) are imported lazily, so
``import capdsl`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "__version__",
    "check",
    "load",
    "loads",
    "solve",
    "verify",
]

if TYPE_CHECKING:
    from capdsl.api import check, load, loads, solve, verify
    from capdsl.lang.diagnostics import Diagnostic, DiagnosticError


def __getattr__(name: str) -> Any:
    if name in {"check", "load", "loads", "solve", "verify"}:
        from capdsl import api

        return getattr(api, name)
    if name in {"Diagnostic", "DiagnosticError"}:
        from capdsl.lang import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'capdsl' has no attribute {name!r}")
