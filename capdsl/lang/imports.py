"""A plan file and everything it imports: ``parse_file``.

Imports are resolved relative to the importing file (relative to the current directory
for ``<stdin>``/``<string>``). Each file is parsed once; a cycle is an error at the
``import`` that closes it, with the chain (E0304); a file outside the root plan's
directory is rejected unless ``allow_outside`` (E0305); a file that cannot be read is
E0001 at the ``import``.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, error, has_errors
from capdsl.lang.parser import ParseResult, parse_recovering

_PSEUDO = ("<stdin>", "<string>", "-")


@dataclass
class _Walk:
    root_dir: str
    allow_outside: bool
    documents: list[ast.Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # real path -> display path
    recovered: list[ast.Document] = field(default_factory=list)  # every file, errors or not


def _read(path: str) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text ({exc.reason})"
    except OSError as exc:
        return None, exc.strerror or str(exc)


def _shown(path: str) -> str:
    """A path as the user would type it: relative to the current directory when shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


def _inside(root: str, path: str) -> bool:
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # different drives
        return False


def parse_file(
    path: str,
    *,
    text: str | None = None,
    allow_outside: bool = False,
    root: str | None = None,
    analyze: bool = True,
) -> ParseResult:
    """Parse a plan file and, recursively, every file it imports.

    ``text`` given: used instead of reading ``path``. ``root``: the directory imports must
    stay inside (default: the plan's own directory; the current directory for
    ``<stdin>``). With ``analyze`` (default) and no errors so far, the plan's units and
    ``let`` constants are evaluated too (``ParseResult.registry``/``env``; unit and
    dimension errors of every quantity are reported)."""
    display = "<stdin>" if path == "-" else path
    pseudo = display in _PSEUDO
    if text is None:
        if pseudo:
            raise ValueError("parse_file needs `text` for <stdin>/<string>")
        text, reason = _read(path)
        if text is None:
            diag = error("E0001", f"cannot read `{path}`: {reason}")
            return ParseResult([], [diag], {}, root_path=display)
    real = (
        os.path.realpath(os.path.join(os.getcwd(), "__stdin__.cap"))
        if pseudo
        else os.path.realpath(path)
    )
    root_dir = os.path.realpath(root) if root else os.path.dirname(real)
    walk = _Walk(root_dir, allow_outside)
    _visit(walk, display, real, text, [])
    result = ParseResult(
        walk.documents, walk.diagnostics, walk.sources, root_path=display, imports=walk.imports
    )
    if analyze and not has_errors(result.diagnostics):
        from capdsl.lang.evaluate import analyze as _analyze

        defs = _analyze(result)
        result.definitions = defs
        result.registry = defs.registry
        result.env = dict(defs.env)
        result.diagnostics += defs.diagnostics
    elif analyze:
        result.diagnostics += _unit_errors_of_recovered(walk, result)
    return result


def _unit_errors_of_recovered(walk: _Walk, result: ParseResult) -> list[Diagnostic]:
    """With syntax errors, still report the unit and dimension errors (E02xx) of the
    statements that parsed, so one run shows every error of the file. Name errors are left
    out: a constant defined in a broken statement would only cascade."""
    from capdsl.lang.evaluate import analyze as _analyze

    partial = ParseResult(
        walk.recovered, [], walk.sources, root_path=result.root_path, imports=walk.imports
    )
    try:
        defs = _analyze(partial)
    except Exception:  # recovered trees are best effort; the syntax errors stand on their own
        return []
    seen = {(d.code, d.span) for d in result.diagnostics}
    return [
        d for d in defs.diagnostics if d.code.startswith("E02") and (d.code, d.span) not in seen
    ]


def _visit(walk: _Walk, display: str, real: str, text: str, chain: list[tuple[str, str]]) -> None:
    walk.seen[real] = display
    walk.sources[display] = text
    doc, diags = parse_recovering(text, display)
    walk.diagnostics += diags
    walk.recovered.append(doc)
    if not has_errors(diags):
        walk.documents.append(doc)
    chain = [*chain, (real, display)]
    targets: list[str] = []
    for item in doc.items:
        if not isinstance(item, ast.Import):
            continue
        target = _resolve(walk, item, display, real, chain)
        if target is None:
            continue
        t_display, t_real = target
        targets.append(t_display)
        if t_real in walk.seen:
            continue
        t_text, reason = _read(t_real)
        if t_text is None:
            walk.diagnostics.append(
                error(
                    "E0001",
                    f"cannot read `{t_display}`: {reason}",
                    item.path.span,
                    label="imported here",
                    help="import paths are relative to the importing file",
                )
            )
            continue
        _visit(walk, t_display, t_real, t_text, chain)
    walk.imports[display] = tuple(targets)


def _resolve(
    walk: _Walk, item: ast.Import, display: str, real: str, chain: list[tuple[str, str]]
) -> tuple[str, str] | None:
    rel = item.path.value
    base_display = "" if display in _PSEUDO else os.path.dirname(display)
    t_display = os.path.normpath(os.path.join(base_display, rel))
    t_real = os.path.realpath(os.path.join(os.path.dirname(real), rel))
    if any(r == t_real for r, _ in chain):
        start = next(i for i, (r, _) in enumerate(chain) if r == t_real)
        names = [d for _, d in chain[start:]] + [chain[start][1]]
        walk.diagnostics.append(
            error(
                "E0304",
                f"import cycle: {' -> '.join(f'`{n}`' for n in names)}",
                item.span,
                label="this import closes the cycle",
                notes=tuple(f"`{a}` imports `{b}`" for a, b in itertools.pairwise(names)),
                help="move what both files need into a third file that both import",
            )
        )
        return None
    if not walk.allow_outside and not _inside(walk.root_dir, t_real):
        walk.diagnostics.append(
            error(
                "E0305",
                f"import `{rel}` is outside the plan's directory",
                item.path.span,
                label=f"resolves to `{_shown(t_real)}`",
                notes=(f"the plan's directory is `{_shown(walk.root_dir)}`",),
                help="move the file under the plan's directory, or pass `--allow-outside`",
            )
        )
        return None
    return walk.seen.get(t_real, t_display), t_real
