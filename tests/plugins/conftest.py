from __future__ import annotations

from pathlib import Path

import pytest

PRICING = Path(__file__).resolve().parent.parent / "fixtures" / "pricing"


@pytest.fixture
def pricing() -> Path:
    return PRICING
