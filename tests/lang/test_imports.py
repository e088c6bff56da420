"""parse_file: imports relative to the importing file, once each, cycles, the root wall."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from capdsl.lang import parse_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_documents_are_root_first_then_imports_depth_first_once(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "units.cap", "unit request\n")
    write(tmp_path / "shared" / "aws.cap", 'import "units.cap"\ncatalog aws from "bundled" {}\n')
    write(tmp_path / "teams" / "shop.cap", 'import "../shared/units.cap"\nservice shop {}\n')
    root = write(
        tmp_path / "plan.cap", 'import "shared/aws.cap"\nimport "teams/shop.cap"\nplan "x" {}\n'
    )
    result = parse_file(str(root))
    assert result.diagnostics == []
    rel = [os.path.relpath(d.path, tmp_path) for d in result.documents]
    assert rel == ["plan.cap", os.path.join("shared", "aws.cap"), os.path.join("shared", "units.cap"),
                   os.path.join("teams", "shop.cap")]  # fmt: skip
    assert result.root is result.documents[0]
    assert set(result.sources) == {d.path for d in result.documents}
    assert result.imports[str(root)] == (
        str(tmp_path / "shared" / "aws.cap"),
        str(tmp_path / "teams" / "shop.cap"),
    )


def test_relative_display_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "plans" / "lib" / "a.cap", "let a = 1\n")
    write(tmp_path / "plans" / "shop.cap", 'import "lib/a.cap"\n')
    monkeypatch.chdir(tmp_path)
    result = parse_file("plans/shop.cap")
    assert [d.path for d in result.documents] == [
        "plans/shop.cap",
        os.path.join("plans", "lib", "a.cap"),
    ]


def test_cycle_is_reported_with_its_chain(tmp_path: Path) -> None:
    write(tmp_path / "a.cap", 'import "b.cap"\n')
    write(tmp_path / "b.cap", 'import "c.cap"\n')
    write(tmp_path / "c.cap", 'import "a.cap"\n')
    result = parse_file(str(tmp_path / "a.cap"))
    (d,) = result.diagnostics
    assert d.code == "E0304"
    assert d.span is not None and d.span.file.endswith("c.cap")
    assert [n.split(" imports ")[0].strip("`").rsplit("/", 1)[-1] for n in d.notes] == [
        "a.cap",
        "b.cap",
        "c.cap",
    ]


def test_outside_the_root_needs_allow_outside(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "aws.cap", "let a = 1\n")
    plan = write(tmp_path / "plans" / "shop.cap", 'import "../shared/aws.cap"\n')
    assert [d.code for d in parse_file(str(plan)).diagnostics] == ["E0305"]
    assert parse_file(str(plan), allow_outside=True).diagnostics == []
    assert parse_file(str(plan), root=str(tmp_path)).diagnostics == []


def test_symlink_escaping_the_root_is_outside(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "x.cap", "let a = 1\n")
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "link.cap").symlink_to(tmp_path / "elsewhere" / "x.cap")
    plan = write(tmp_path / "plans" / "shop.cap", 'import "link.cap"\n')
    assert [d.code for d in parse_file(str(plan)).diagnostics] == ["E0305"]


def test_missing_and_unreadable_imports(tmp_path: Path) -> None:
    (tmp_path / "bin.cap").write_bytes(b"\xff\xfe\x00")
    plan = write(tmp_path / "plan.cap", 'import "nope.cap"\nimport "bin.cap"\nimport "."\n')
    result = parse_file(str(plan))
    assert [d.code for d in result.diagnostics] == ["E0001", "E0001", "E0001"]
    assert "not UTF-8" in result.diagnostics[1].message
    assert all(
        d.span is not None and d.span.line == i + 1 for i, d in enumerate(result.diagnostics)
    )


def test_root_file_that_cannot_be_read(tmp_path: Path) -> None:
    result = parse_file(str(tmp_path / "missing.cap"))
    assert [d.code for d in result.diagnostics] == ["E0001"]
    assert result.documents == []


def test_stdin_imports_resolve_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "lib.cap", "unit job\n")
    monkeypatch.chdir(tmp_path)
    result = parse_file("<stdin>", text='import "lib.cap"\nlet n = 3 job\n')
    assert result.diagnostics == []
    assert [d.path for d in result.documents] == ["<stdin>", "lib.cap"]
    with pytest.raises(ValueError):
        parse_file("<stdin>")


def test_errors_in_an_imported_file_are_reported_there(tmp_path: Path) -> None:
    write(tmp_path / "lib.cap", "x = = 1\n")
    plan = write(tmp_path / "plan.cap", 'import "lib.cap"\ny = 2\n')
    result = parse_file(str(plan))
    assert [d.code for d in result.diagnostics] == ["E0101"]
    assert result.diagnostics[0].span is not None and result.diagnostics[0].span.file.endswith(
        "lib.cap"
    )
    assert [Path(d.path).name for d in result.documents] == ["plan.cap"]
    assert result.registry is None  # no analysis on a plan with syntax errors


def test_imports_of_a_broken_file_are_still_followed(tmp_path: Path) -> None:
    write(tmp_path / "lib.cap", "x = = 1\n")
    plan = write(tmp_path / "plan.cap", 'import "lib.cap"\nimport "missing.cap"\ny = = 2\n')
    codes = sorted(d.code for d in parse_file(str(plan)).diagnostics)
    assert codes == ["E0001", "E0101", "E0101"]


def test_imports_before_an_unclosed_block_are_followed(tmp_path: Path) -> None:
    write(tmp_path / "lib.cap", "x = = 1\n")
    plan = write(tmp_path / "plan.cap", 'import "lib.cap"\nservice recs {\n  headroom = 30%\n')
    result = parse_file(str(plan))
    assert sorted(d.code for d in result.diagnostics) == ["E0101", "E0103"]
