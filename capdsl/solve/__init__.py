"""Plan -> Solution: the optimiser, its independent verifier and its explanations.

This is the only package that imports OR-Tools, and only lazily: importing ``capdsl.solve``
(or ``capdsl.solve.solution``) does not load it. ``verify`` and ``explain`` are imported
here eagerly (they are light; ``explain`` loads the solver only when it re-solves), so that
the functions, not their modules, are what ``capdsl.solve.verify`` / ``.explain`` name;
``solve`` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capdsl.solve.explain import explain
from capdsl.solve.progress import Progress
from capdsl.solve.verify import verify

__all__ = ["Progress", "explain", "solve", "verify"]

if TYPE_CHECKING:
    from capdsl.solve.solver import solve


def __getattr__(name: str) -> Any:
    if name == "solve":
        from capdsl.solve.solver import solve

        return solve
    raise AttributeError(f"module 'capdsl.solve' has no attribute {name!r}")
