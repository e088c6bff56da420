"""The Pygments lexer is registered and highlights real plans without error tokens."""

from __future__ import annotations

from pathlib import Path

import pygments.lexers
import pytest
from pygments.token import Error, Keyword, Name, Number

from capdsl.lang.lexer import CapLexer, highlight_tokens

PLANS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "parse").glob("*.cap"))


def test_registered_through_the_entry_point() -> None:
    assert isinstance(pygments.lexers.get_lexer_by_name("cap"), CapLexer)
    assert isinstance(pygments.lexers.get_lexer_for_filename("shop.cap"), CapLexer)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_real_plans_have_no_error_tokens(plan: Path) -> None:
    tokens = highlight_tokens(plan.read_text(encoding="utf-8"))
    assert [t for t in tokens if t[0] in Error] == []
    assert (
        "".join(v for _, v in tokens) == plan.read_text(encoding="utf-8")
        or plan.stat().st_size == 0
    )


def test_token_kinds() -> None:
    tokens = [
        t
        for t in highlight_tokens("service recs {\n  baseline = 45M prediction/day\n}\n")
        if t[1].strip()
    ]
    assert tokens[0] == (Keyword, "service")
    assert (Name, "recs") in tokens
    assert (Name.Attribute, "baseline") in tokens
    assert (Number, "45M") in tokens
    assert (Keyword.Type, "prediction/day") in tokens
    assert any(t[0] in Error for t in highlight_tokens("x = @"))
