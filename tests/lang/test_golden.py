"""Golden files, one folder per stage (adding a case = adding a file):

- ``fixtures/parse/NAME.cap`` -> ``NAME.json``: the AST (``ast.to_dict``, spans included);
- ``fixtures/errors/NAME.cap`` -> ``NAME.txt``: every diagnostic of ``parse_file``,
  rendered rustc-style (files and folders starting with ``_`` are helpers, not cases);
- ``fixtures/fmt/NAME.cap`` -> ``NAME.expected.cap``: ``capdsl fmt`` output.

Regenerate with ``CAPDSL_UPDATE_GOLDEN=1 pytest tests/lang/test_golden.py``, then review
the diff by hand: a golden file is a claim about what users see.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from capdsl.lang import parse, parse_file
from capdsl.lang.ast import strip_spans, to_dict
from capdsl.lang.diagnostics import Level, render_all
from capdsl.lang.format import format_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UPDATE = os.environ.get("CAPDSL_UPDATE_GOLDEN") == "1"


def _cases(folder: str, suffix: str = ".cap") -> list[Path]:
    return sorted(
        p
        for p in (FIXTURES / folder).glob(f"*{suffix}")
        if not p.name.startswith("_") and not p.name.endswith(".expected.cap")
    )


def _golden(path: Path, actual: str) -> None:
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(
                f"missing golden file {path.name}; run with CAPDSL_UPDATE_GOLDEN=1 and review it"
            )
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs (CAPDSL_UPDATE_GOLDEN=1 to update)"
    )


@pytest.mark.parametrize("case", _cases("parse"), ids=lambda p: p.stem)
def test_parse_golden(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    doc, diags = parse(text, case.name)
    assert diags == []
    assert doc is not None
    _golden(
        case.with_suffix(".json"), json.dumps(to_dict(doc), indent=1, ensure_ascii=False) + "\n"
    )


@pytest.mark.parametrize("case", _cases("parse"), ids=lambda p: p.stem)
def test_parse_fixtures_format_idempotently(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    once = format_text(text, case.name)  # raises if the AST would change
    assert format_text(once, case.name) == once


@pytest.mark.parametrize("case", _cases("errors"), ids=lambda p: p.stem)
def test_errors_golden(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case.parent)  # relative paths in the rendered output
    result = parse_file(case.name)
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert errors, "an error fixture must produce at least one error"
    rendered = render_all(result.diagnostics, result.sources)
    assert "__ANON" not in rendered and "Traceback" not in rendered
    _golden(case.with_suffix(".txt"), rendered + "\n")


@pytest.mark.parametrize("case", _cases("fmt"), ids=lambda p: p.stem)
def test_fmt_golden(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    out = format_text(text, case.name)
    expected = case.with_name(case.stem + ".expected.cap")
    _golden(expected, out)
    assert format_text(out, case.name) == out, "fmt is not idempotent"
    before, _ = parse(text, case.name)
    after, _ = parse(out, case.name)
    assert strip_spans(before) == strip_spans(after)
