"""Every diagnostic code used in the source has a long explanation with an example."""

from __future__ import annotations

import re
from pathlib import Path

from capdsl.codes import get_code, known_codes

ROOT = Path(__file__).resolve().parent.parent
CODE_IN_SOURCE = re.compile(r"""["'`]([EW]\d{4})["'`]""")


def _codes_used() -> dict[str, str]:
    used: dict[str, str] = {}
    for base in ("capdsl", "plugins"):
        for path in sorted((ROOT / base).rglob("*.py")):
            for m in CODE_IN_SOURCE.finditer(path.read_text(encoding="utf-8")):
                used.setdefault(m.group(1), str(path.relative_to(ROOT)))
    return used


def test_every_used_code_is_documented() -> None:
    missing = {code: where for code, where in _codes_used().items() if get_code(code) is None}
    assert missing == {}, f"codes without capdsl/codes/<CODE>.md: {missing}"


def test_every_code_has_a_title_and_an_example() -> None:
    for code in known_codes():
        entry = get_code(code)
        assert entry is not None
        assert entry.text.startswith(f"# {code}: "), code
        assert entry.title and entry.title != code, code
        assert "## Example" in entry.text, f"{code} has no '## Example' section"


def test_code_lookup_is_case_insensitive() -> None:
    assert get_code("e0001") is get_code("E0001")
    assert get_code("E9999") is None


def test_docs_errors_index_is_current() -> None:
    from capdsl.codes import index_markdown

    index = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert index == index_markdown(), "run: python -m capdsl.codes > docs/errors.md"
    for code in known_codes():
        assert f"| `{code}` |" in index
