"""Fixtures for the report tests: hand-built plans and solutions (``factories.py``).

``factories`` is loaded by path under a unique module name, so it never collides with
another test package's helper of the same name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from capdsl.model.plan import Plan
from capdsl.solve.solution import Solution

_NAME = "capdsl_report_test_factories"


def _load_factories() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).with_name("factories.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


factories = _load_factories()


@pytest.fixture(scope="session")
def f() -> ModuleType:
    """The factories module (``f.make_plan()``, ``f.make_solution(plan)``, ...)."""
    return factories


@pytest.fixture
def one() -> list[tuple[Plan, Solution]]:
    """One optimal, verified 3-month plan."""
    plan = factories.make_plan()
    return [(plan, factories.make_solution(plan))]


@pytest.fixture
def scenarios() -> list[tuple[Plan, Solution]]:
    """Base, moderate (plan for) and aggressive, in the order --all-scenarios gives."""
    return factories.make_scenarios()


@pytest.fixture
def infeasible() -> list[tuple[Plan, Solution]]:
    plan = factories.make_plan(scenario="aggressive")
    return [(plan, factories.make_infeasible(plan))]


@pytest.fixture
def failed() -> list[tuple[Plan, Solution]]:
    """A plan the verifier rejected (status error, not verified)."""
    plan = factories.make_plan()
    return [(plan, factories.make_error(plan))]


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "report"
