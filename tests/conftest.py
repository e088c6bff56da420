"""Shared test fixtures. Tests run against the *installed* capdsl (no repo root on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests never see plugins installed on the developer's machine, only capdsl's own.
os.environ.setdefault("CAPDSL_LOAD_PLUGINS", "aws,azure,gcp")
# The solver's work budget at the reference machine's speed: the same plans on every machine
# (and no speed probe in the user's cache); tests of the probe itself set it as they need.
os.environ.setdefault("CAPDSL_SPEED", "1")


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's price cache."""
    monkeypatch.setenv("CAPDSL_CACHE_DIR", str(tmp_path_factory.mktemp("capdsl-cache")))
