"""The one adapter between the TUI and the rest of capdsl.

``ApiBackend`` goes through ``capdsl.api`` (and the formatter, the code index, the report
renderer and the Pygments lexer); tests pass another object with the same methods. Every
import here is lazy: the first screen paints before OR-Tools or a catalog is loaded.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pygments.lexer import Lexer

    from capdsl.api import Built
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


class Backend(Protocol):
    """What the TUI needs from capdsl. Methods may be called from worker threads."""

    def read(self, path: str) -> str: ...

    def write(self, path: str, text: str) -> None: ...

    def build(self, text: str, path: str, scenario: str | None) -> Built: ...

    def solve(
        self,
        plan: Plan,
        *,
        time_limit: float,
        on_progress: Callable[[Any], None] | None,
        stop: threading.Event,
        hint: Solution | None,
        seed: int,
    ) -> Solution: ...

    def format(self, text: str, path: str) -> str:
        """Canonical text; raises ``DiagnosticError`` when it does not parse."""
        ...

    def explain(self, code: str) -> tuple[str, str] | None:
        """(title, markdown) of a diagnostic code, or None when unknown."""
        ...

    def known_codes(self) -> list[str]: ...

    def report(self, results: Sequence[tuple[Plan, Solution]], fmt: str) -> str | bytes: ...

    def lexer(self) -> Lexer | None: ...


class ApiBackend:
    """The real pipeline, through ``capdsl.api``.

    Solves run in a child process (:mod:`capdsl.tui.solver_process`) unless ``isolate``
    is False: a C++ abort in OR-Tools then costs one solve, not the session."""

    def __init__(self, *, isolate: bool = True) -> None:
        from capdsl.tui.solver_process import SUPPORTED, SolverProcess

        self._process: SolverProcess | None = SolverProcess() if isolate and SUPPORTED else None

    def prepare(self) -> None:
        """Start the solver process early (it imports OR-Tools while the plan builds)."""
        if self._process is not None:
            self._process.start()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()

    def read(self, path: str) -> str:
        return Path(path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        write_atomic(Path(path), text)

    def build(self, text: str, path: str, scenario: str | None) -> Built:
        from capdsl.api import build_text

        return build_text(text, path, scenario=scenario)

    def solve(
        self,
        plan: Plan,
        *,
        time_limit: float,
        on_progress: Callable[[Any], None] | None,
        stop: threading.Event,
        hint: Solution | None,
        seed: int,
    ) -> Solution:
        if self._process is not None:
            return self._process.solve(
                plan,
                on_progress=on_progress,
                stop=stop,
                time_limit=time_limit,
                hint=hint,
                seed=seed,
            )
        from capdsl.api import solve_plan

        return solve_plan(
            plan, time_limit=time_limit, on_progress=on_progress, stop=stop, hint=hint, seed=seed
        )

    def format(self, text: str, path: str) -> str:
        from capdsl.lang.format import format_text

        result: str = format_text(text, path)
        return result

    def explain(self, code: str) -> tuple[str, str] | None:
        from capdsl.codes import get_code

        entry = get_code(code)
        return None if entry is None else (entry.title, entry.text)

    def known_codes(self) -> list[str]:
        from capdsl.codes import known_codes

        return known_codes()

    def report(self, results: Sequence[tuple[Plan, Solution]], fmt: str) -> str | bytes:
        from capdsl.report import render_report

        out: str | bytes = render_report(list(results), fmt)
        return out

    def lexer(self) -> Lexer | None:
        try:
            from capdsl.lang.lexer import CapLexer
        except ImportError:
            return None
        lexer: Lexer = CapLexer()
        return lexer


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a crash never leaves half a plan)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
