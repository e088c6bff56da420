"""Every error and lint of the model, one fixture file each.

``tests/fixtures/model/errors/*.cap`` must fail to build and ``lints/*.cap`` must build with
warnings; each file says what it expects in header lines::

    # expect: E0307 17 `aws.c7x.*` matches no offering of catalog `aws`

(code, line of the primary span or 0 for none, and the start of the message). Adding a case
is adding a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capdsl.codes import get_code
from capdsl.lang.diagnostics import Diagnostic, has_errors, render

from .conftest import MODEL_FIXTURES, build_path

EXPECT = re.compile(r"^# expect: (?P<code>[EW]\d{4}) (?P<line>\d+) (?P<message>.+)$")


def expectations(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if m:
            out.append((m["code"], int(m["line"]), m["message"]))
    assert out, f"{path.name} has no `# expect:` line"
    return out


def found(diags: list[Diagnostic], code: str, line: int, message: str) -> bool:
    return any(
        d.code == code
        and d.message.startswith(message)
        and (line == 0 or (d.span is not None and d.span.line == line))
        for d in diags
    )


def cases(kind: str) -> list[Path]:
    return sorted((MODEL_FIXTURES / kind).glob("*.cap"))


@pytest.mark.parametrize("path", cases("errors"), ids=lambda p: p.stem)
def test_error_fixture(path: Path) -> None:
    plan, diags = build_path(path)
    assert plan is None
    assert has_errors(diags)
    shown = "\n".join(f"{d.code} {d.span.line if d.span else 0} {d.message}" for d in diags)
    for code, line, message in expectations(path):
        assert found(diags, code, line, message), (
            f"expected {code} at line {line}: {message}\ngot:\n{shown}"
        )


@pytest.mark.parametrize("path", cases("lints"), ids=lambda p: p.stem)
def test_lint_fixture(path: Path) -> None:
    plan, diags = build_path(path)
    shown = "\n".join(f"{d.code} {d.span.line if d.span else 0} {d.message}" for d in diags)
    assert plan is not None, shown
    assert not has_errors(diags)
    assert plan.warnings == diags
    for code, line, message in expectations(path):
        assert found(diags, code, line, message), (
            f"expected {code} at line {line}: {message}\ngot:\n{shown}"
        )


@pytest.mark.parametrize("path", cases("errors") + cases("lints"), ids=lambda p: p.stem)
def test_diagnostics_follow_the_house_style(path: Path) -> None:
    """rustc style: lowercase message without a trailing period; a documented code; the
    primary span points into the plan; rendering never shows Python internals."""
    _, diags = build_path(path)
    text = path.read_text(encoding="utf-8")
    for d in diags:
        assert d.message[:1] == d.message[:1].lower() or d.message[:1] in '`"', d.message
        assert not d.message.endswith("."), d.message
        assert get_code(d.code) is not None, f"{d.code} has no capdsl/codes/{d.code}.md"
        rendered = render(d, {str(path): text})
        assert "Traceback" not in rendered and "__" not in rendered
