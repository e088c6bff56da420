"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands() -> None:
    cmds = _setup_commands()
    assert len(cmds) == 2
    assert all("\n" not in c for c in cmds), "each set-up command is one line"
    assert "capdsl solve examples/" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _setup_commands()[1] in ci.splitlines()


def test_readme_solve_example_exists() -> None:
    example = re.search(r"capdsl solve (examples/\S+)", _setup_commands()[0])
    assert example and (ROOT / example.group(1)).exists()


def test_readme_language_snippet_is_a_valid_plan() -> None:
    from capdsl.api import build_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```cap\n(.*?)```", readme, flags=re.S)
    assert snippet
    built = build_text(snippet.group(1), str(ROOT / "README.cap"))
    assert built.ok, [d.message for d in built.diagnostics if d.is_error]
