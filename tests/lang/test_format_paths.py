"""format_paths: what `capdsl fmt` does to files, directories and stdin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from capdsl.lang.diagnostics import DiagnosticError
from capdsl.lang.format import format_paths, format_text

UGLY = "service recs {\nheadroom=30%\n  baseline = 45M prediction/day\n}\n"
PRETTY = "service recs {\n  headroom = 30%\n  baseline = 45M prediction/day\n}\n"


def test_format_text() -> None:
    assert format_text(UGLY) == PRETTY
    assert format_text(PRETTY) == PRETTY
    with pytest.raises(DiagnosticError) as info:
        format_text("x = = 1\n")
    assert info.value.diagnostics[0].code == "E0101"


def test_files_are_rewritten_in_place(tmp_path: Path) -> None:
    f = tmp_path / "a.cap"
    f.write_text(UGLY)
    f.chmod(0o640)
    result = format_paths([str(f)])
    assert result.exit_code == 0
    assert f.read_text() == PRETTY
    assert f.stat().st_mode & 0o777 == 0o640
    assert result.messages == [f"reformatted {f}", "1 file reformatted"]
    assert list(tmp_path.iterdir()) == [f]  # no temporary file left behind


def test_check_reports_and_does_not_write(tmp_path: Path) -> None:
    f = tmp_path / "a.cap"
    f.write_text(UGLY)
    ok = tmp_path / "b.cap"
    ok.write_text(PRETTY)
    result = format_paths([str(tmp_path)], check=True)
    assert result.exit_code == 1
    assert f.read_text() == UGLY
    assert f"would reformat {f}" in result.messages
    assert format_paths([str(ok)], check=True).exit_code == 0


def test_diff_prints_a_unified_diff(tmp_path: Path) -> None:
    f = tmp_path / "a.cap"
    f.write_text(UGLY)
    result = format_paths([str(f)], diff=True)
    assert result.exit_code == 0
    assert f.read_text() == UGLY
    assert "-headroom=30%" in result.stdout and "+  headroom = 30%" in result.stdout
    assert result.stdout.startswith(f"--- {f}\n+++ {f} (formatted)\n")


def test_a_file_that_does_not_parse_is_never_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cap"
    bad.write_text("x = = 1\n")
    good = tmp_path / "good.cap"
    good.write_text(UGLY)
    result = format_paths([str(bad), str(good)])
    assert result.exit_code == 1
    assert bad.read_text() == "x = = 1\n"
    assert good.read_text() == PRETTY
    assert [d.code for d in result.diagnostics] == ["E0101"]
    assert str(bad) in result.sources


def test_directories_are_walked_for_cap_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "sub" / "a.cap").write_text(UGLY)
    (tmp_path / ".hidden" / "b.cap").write_text(UGLY)
    (tmp_path / "notes.txt").write_text("x=1")
    result = format_paths([str(tmp_path)])
    assert (tmp_path / "sub" / "a.cap").read_text() == PRETTY
    assert (tmp_path / ".hidden" / "b.cap").read_text() == UGLY
    assert (tmp_path / "notes.txt").read_text() == "x=1"
    assert result.messages[-1] == "1 file reformatted"


def test_stdin_to_stdout() -> None:
    result = format_paths(["-"], stdin=io.StringIO(UGLY))
    assert result.stdout == PRETTY
    assert result.messages == []
    assert format_paths(["-"], stdin=io.StringIO(PRETTY)).stdout == PRETTY
    checked = format_paths(["-"], check=True, stdin=io.StringIO(UGLY))
    assert checked.exit_code == 1 and checked.stdout == ""


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = format_paths([str(tmp_path / "nope.cap")])
    assert result.exit_code == 2
    assert "no such file" in result.messages[0]


def test_crlf_files_keep_their_line_ends(tmp_path: Path) -> None:
    f = tmp_path / "win.cap"
    f.write_bytes(UGLY.replace("\n", "\r\n").encode())
    format_paths([str(f)])
    assert f.read_bytes() == PRETTY.replace("\n", "\r\n").encode()
    assert format_paths([str(f)], check=True).exit_code == 0
