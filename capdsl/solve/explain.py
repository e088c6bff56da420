"""Explanations of a solved plan (placeholder replaced below)."""

from __future__ import annotations

from capdsl.model.plan import Plan
from capdsl.solve.solution import Solution


def explain(plan: Plan, solution: Solution) -> Solution:
    return solution
