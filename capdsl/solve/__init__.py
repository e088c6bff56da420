"""Plan -> Solution: the optimiser, its independent verifier and its explanations.

This is the only package that imports OR-Tools, and only lazily: importing ``capdsl.solve``
(or ``capdsl.solve.solution``) does not load it. ``solve``, ``verify`` and ``explain`` are
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capdsl.solve.progress import Progress

__all__ = ["Progress", "explain", "solve", "verify"]

if TYPE_CHECKING:
    from capdsl.solve.explain import explain
    from capdsl.solve.solver import solve
    from capdsl.solve.verify import verify


def __getattr__(name: str) -> Any:
    if name == "solve":
        from capdsl.solve.solver import solve

        return solve
    if name == "verify":
        from capdsl.solve.verify import verify

        return verify
    if name == "explain":
        from capdsl.solve.explain import explain

        return explain
    raise AttributeError(f"module 'capdsl.solve' has no attribute {name!r}")
