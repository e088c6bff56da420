"""AST -> Plan: planning knowledge (demand, latency-derived capacity, redundancy, budgets).

``build(parsed, *, resolve, scenario=None, latency_models=None, checks=())`` returns
``(Plan | None, diagnostics)``; see ``capdsl.model.builder``. The heavy modules (numpy demand
compilation) load on first use, so ``import capdsl.model.plan`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from capdsl.model.builder import build
    from capdsl.model.checks import Check
    from capdsl.model.latency import LatencyModel
    from capdsl.model.plan import Plan

__all__ = ["Check", "LatencyModel", "Plan", "build"]


def __getattr__(name: str) -> Any:
    if name == "build":
        from capdsl.model.builder import build

        return build
    if name == "Check":
        from capdsl.model.checks import Check

        return Check
    if name == "LatencyModel":
        from capdsl.model.latency import LatencyModel

        return LatencyModel
    if name == "Plan":
        from capdsl.model.plan import Plan

        return Plan
    raise AttributeError(f"module 'capdsl.model' has no attribute {name!r}")
