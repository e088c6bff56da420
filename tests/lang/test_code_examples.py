"""The examples in capdsl/codes/<CODE>.md for the language's codes are real output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capdsl.codes import get_code, known_codes
from capdsl.lang import EvalError, ast, evaluate, parse, parse_file
from capdsl.lang.diagnostics import render, render_all
from capdsl.lang.evaluate import to_unit

SINGLE_FILE = [c for c in known_codes() if c[:3] in ("E01", "E02") or c in ("E0301", "E0306")]
SINGLE_FILE.remove("E0207")  # raised by the model through to_unit: tested below


def _blocks(code: str, kind: str) -> list[str]:
    entry = get_code(code)
    assert entry is not None
    return re.findall(rf"```{kind}\n(.*?)```", entry.text, re.S)


@pytest.mark.parametrize("code", SINGLE_FILE)
def test_example_output_is_what_capdsl_prints(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.cap").write_text(_blocks(code, "cap")[0])
    result = parse_file("plan.cap")
    assert code in {d.code for d in result.diagnostics}
    assert render_all(result.diagnostics, result.sources) == _blocks(code, "text")[0].rstrip("\n")


def test_e0207_example() -> None:
    text = _blocks("E0207", "cap")[0]
    doc, _ = parse(text, "plan.cap")
    assert doc is not None
    block = doc.items[0]
    assert isinstance(block, ast.Block)
    attr = block.body[0]
    assert isinstance(attr, ast.Attribute)
    result = parse_file("plan.cap", text=text)
    assert result.registry is not None
    value = evaluate(attr.value, result.env, result.registry)
    with pytest.raises(EvalError) as info:
        to_unit(value, "%", result.registry, span=attr.value.span, setting="headroom")
    assert render(info.value.diagnostics[0], result.sources) == _blocks("E0207", "text")[0].rstrip(
        "\n"
    )


def test_e0304_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _blocks("E0304", "cap")
    (tmp_path / "a.cap").write_text(a)
    (tmp_path / "b.cap").write_text(b)
    monkeypatch.chdir(tmp_path)
    result = parse_file("a.cap")
    assert render_all(result.diagnostics, result.sources) == _blocks("E0304", "text")[0].rstrip(
        "\n"
    )


def test_e0305_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "aws.cap").write_text("")
    (tmp_path / "plans" / "shop.cap").write_text(_blocks("E0305", "cap")[0])
    monkeypatch.chdir(tmp_path)
    result = parse_file("plans/shop.cap")
    assert render_all(result.diagnostics, result.sources) == _blocks("E0305", "text")[0].rstrip(
        "\n"
    )
