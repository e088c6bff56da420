from __future__ import annotations

from pathlib import Path

import pytest

PRICING = Path(__file__).resolve().parent.parent / "fixtures" / "pricing"


@pytest.fixture
def pricing() -> Path:
    return PRICING


@pytest.fixture(autouse=True)
def _fresh_manager() -> object:
    """Each test sees a freshly loaded plugin manager (and leaves none behind)."""
    from capdsl.plugins import reset_manager

    reset_manager()
    yield
    reset_manager()
