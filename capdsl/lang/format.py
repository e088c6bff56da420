"""``capdsl fmt``: canonical .cap text, checked before anything is written.

``format_text`` parses, prints the canonical layout (`capdsl.lang.printer`), re-parses the
result and compares ASTs (``ast.strip_spans``, comments included) before returning: a
formatter bug can never change what a plan means. ``format_paths`` applies it to files,
directories (every ``*.cap`` below, hidden directories skipped) and ``-`` (stdin to
stdout); writes are atomic (temporary file + ``os.replace``), and a file that does not
parse is reported and never written.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from capdsl.lang.ast import strip_spans
from capdsl.lang.diagnostics import Diagnostic, DiagnosticError, has_errors
from capdsl.lang.parser import parse
from capdsl.lang.printer import print_document


class FormatError(RuntimeError):
    """The formatter produced text that does not mean the same as its input (a bug)."""


def format_text(text: str, path: str = "<string>") -> str:
    """The canonical form of ``text``. Raises DiagnosticError if it does not parse."""
    doc, diags = parse(text, path)
    if doc is None or has_errors(diags):
        raise DiagnosticError(diags)
    out = print_document(text, doc)
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        out = out.replace("\n", "\r\n")  # a file written with CRLF line ends keeps them
    again, _diags2 = parse(out, path)
    if again is None or strip_spans(again) != strip_spans(doc):
        raise FormatError(f"formatting {path} would change its meaning; the file was left as it is")
    return out


@dataclass
class FormatResult:
    exit_code: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    messages: list[str] = field(default_factory=list)


def _expand(paths: list[str], result: FormatResult) -> list[str]:
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(root, f) for f in files if f.endswith(".cap")]
            out += sorted(found)
        elif path.exists():
            out.append(p)
        else:
            result.messages.append(f"error: no such file or directory: {p}")
            result.exit_code = 2
    return out


def _write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _diff(name: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"{name}",
            f"{name} (formatted)",
        )
    )


def format_paths(
    paths: list[str], *, check: bool = False, diff: bool = False, stdin: TextIO | None = None
) -> FormatResult:
    """Format files in place (or report with ``check``/``diff``). Exit code: 0 fine,
    1 a file would change under ``check`` or does not parse, 2 a path does not exist."""
    result = FormatResult()
    changed = unchanged = failed = 0
    for p in _expand(paths, result):
        name = "<stdin>" if p == "-" else p
        if p == "-":
            before = (stdin or sys.stdin).read()
        else:
            try:
                with open(p, encoding="utf-8", newline="") as fh:  # keep CRLF as it is
                    before = fh.read()
            except (OSError, UnicodeDecodeError) as exc:
                result.messages.append(
                    f"error: cannot read {p}: {getattr(exc, 'strerror', None) or exc}"
                )
                result.exit_code = max(result.exit_code, 1)
                failed += 1
                continue
        result.sources[name] = before
        try:
            after = format_text(before, name)
        except DiagnosticError as exc:
            result.diagnostics += exc.diagnostics
            result.messages.append(f"error: cannot format {name}: it does not parse")
            result.exit_code = max(result.exit_code, 1)
            failed += 1
            continue
        except FormatError as exc:
            result.messages.append(f"error: {exc}")
            result.exit_code = max(result.exit_code, 1)
            failed += 1
            continue
        if after == before:
            unchanged += 1
            if p == "-" and not (check or diff):
                result.stdout += after
            continue
        changed += 1
        if diff:
            result.stdout += _diff(name, before, after)
        if check:
            result.messages.append(f"would reformat {name}")
            result.exit_code = max(result.exit_code, 1)
        elif p == "-":
            if not diff:
                result.stdout += after
        elif not diff:
            _write_atomic(p, after)
            result.messages.append(f"reformatted {name}")
    verb = "would be reformatted" if (check or diff) else "reformatted"
    summary = [f"{changed} file{'s' * (changed != 1)} {verb}"] if changed else []
    if unchanged:
        summary.append(f"{unchanged} file{'s' * (unchanged != 1)} left unchanged")
    if failed:
        summary.append(f"{failed} file{'s' * (failed != 1)} failed")
    if summary and not (paths == ["-"] and not check and not diff):
        result.messages.append(", ".join(summary))
    return result
