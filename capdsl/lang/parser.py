"""Text -> `Document`, with every syntax error of the file collected.

One LALR parser (contextual lexer, inline AST transformer) is built per process
(``functools.lru_cache``); nothing is cached on disk. Error recovery: on a syntax error
the offending statement is recorded (at most one error per statement), blanked out
(positions preserved) and the text re-parsed, up to ``MAX_ERRORS`` errors per file. A
file with a syntax error yields no `Document` (``parse`` returns ``None``), but the
recovered items are still used internally to follow its imports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lark import Lark
from lark.exceptions import UnexpectedInput

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Level, Span, error, has_errors
from capdsl.lang.syntax_errors import Brackets, Locator, blank, classify, has_content
from capdsl.lang.transform import CONTEXT, ParseContext, ToAst, on_comment, token_span

if TYPE_CHECKING:
    from capdsl.lang.evaluate import Definitions
    from capdsl.lang.quantity import UnitRegistry

MAX_ERRORS = 20
"""Syntax errors reported per file before giving up (each costs one re-parse)."""


# --------------------------------------------------------------------------- the parser


def grammar_text() -> str:
    """The grammar: ``capdsl/grammars/cap.lark`` in a wheel, ``grammars/cap.lark`` in a checkout."""
    try:
        res = resources.files("capdsl").joinpath("grammars/cap.lark")
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        pass
    repo = Path(__file__).resolve().parents[2] / "grammars" / "cap.lark"
    return repo.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def get_parser() -> Lark:
    """The process-wide parser (built once; thread-safe: per-parse state is a ContextVar).

    Positions: the inline transformer builds every node's span from its tokens (it runs
    with ``keep_all_tokens``), so lark's ``propagate_positions`` would only add work (it
    cannot attach positions to non-``Tree`` results anyway)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=ToAst(),
        lexer_callbacks={"COMMENT": on_comment},
        cache=False,
    )


@functools.lru_cache(maxsize=1)
def get_tree_parser() -> Lark:
    """The same grammar building a plain lark tree (benchmarks compare against it)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        cache=False,
    )


# --------------------------------------------------------------------------- parse


def _document_span(text: str, path: str) -> Span:
    loc = Locator(text, path)
    line, col = loc.line_col(len(text))
    return Span(path, 1, 1, line, col, 0, len(text))


def parse_recovering(text: str, path: str = "<string>") -> tuple[ast.Document, list[Diagnostic]]:
    """Parse, collecting every syntax error; the Document holds what parsed (errors blanked).

    After an error, the next attempt only re-lexes what follows the last complete
    top-level item before the error (the prefix is blanked: one whitespace token), so a
    file with many errors costs about one parse per error *of what follows it*, plus one
    final full parse that yields the recovered items (imports are followed from them)."""
    parser = get_parser()
    work = text  # the text with every erroneous statement blanked so far
    frozen = 0  # everything before this offset is complete top-level items
    stop_at: int | None = None
    syntax: list[Diagnostic] = []
    items: list[ast.Item] = []
    ctx = ParseContext(path)
    while True:
        probe = blank(work, [(0, frozen)]) if frozen else work
        ctx = ParseContext(path)
        token = CONTEXT.set(ctx)
        try:
            items = parser.parse(probe)  # type: ignore[assignment]  # the inline transformer returns the item list
            break
        except UnexpectedInput as exc:
            report = classify(exc, probe, path)
            syntax.append(report.diagnostic)
            error_at = min((a for a, _ in report.resume or ()), default=_error_offset(exc, probe))
            frozen = max(frozen, _last_top_level_end(probe, ctx.item_ends, error_at))
            if report.resume is None or not has_content(work, report.resume):
                stop_at = frozen
                break
            if len(syntax) >= MAX_ERRORS:
                syntax.append(
                    Diagnostic(
                        Level.NOTE,
                        "E0101",
                        f"stopped after {MAX_ERRORS} syntax errors in this file",
                        help="fix these and run `capdsl check` again",
                    )
                )
                stop_at = frozen
                break
            work = blank(work, report.resume)
        finally:
            CONTEXT.reset(token)
    if syntax:
        # One full parse of the recovered text: the items that parsed, their literal
        # diagnostics and the comments (what stopped the recovery is cut off).
        final = blank(work, [(stop_at, len(work))]) if stop_at is not None else work
        ctx = ParseContext(path)
        token = CONTEXT.set(ctx)
        try:
            items = parser.parse(final)  # type: ignore[assignment]
        except UnexpectedInput:
            items = []
        finally:
            CONTEXT.reset(token)
    diags = sorted(
        syntax + ctx.diagnostics + _misplaced(items),
        key=lambda d: (d.level is Level.NOTE, d.span.start if d.span else 0),
    )
    comments = tuple(ast.Comment(str(t).rstrip(), token_span(t, path)) for t in ctx.comments)
    doc = ast.Document(path, tuple(items), comments, _document_span(text, path))
    return doc, diags


def _error_offset(exc: UnexpectedInput, text: str) -> int:
    token = getattr(exc, "token", None)
    if token is not None and token.start_pos is not None:
        return int(token.start_pos)
    pos = getattr(exc, "pos_in_stream", None)
    return len(text) if pos is None else int(pos)


def _last_top_level_end(text: str, ends: list[int], limit: int) -> int:
    """The end of the last complete top-level item before ``limit`` (0 if none)."""
    candidates = sorted((e for e in ends if e <= limit), reverse=True)
    if not candidates:
        return 0
    braces = Brackets.scan(text)
    for end in candidates[:50]:
        if not any(text[o] == "{" for o in braces.open_at(text, end)):
            return end
    return 0


def _misplaced(items: list[ast.Item]) -> list[Diagnostic]:
    """``import``, ``let`` and ``unit`` declarations belong at the top level of a file."""
    out: list[Diagnostic] = []
    stack = [it.body for it in items if isinstance(it, ast.Block)]
    while stack:
        for it in stack.pop():
            if isinstance(it, ast.Block):
                stack.append(it.body)
                continue
            word = {ast.Import: "import", ast.Let: "let", ast.UnitDecl: "unit"}.get(type(it))
            if word is not None:
                out.append(
                    error(
                        "E0108",
                        f"`{word}` is only allowed at the top level of a file",
                        it.span,
                        label="inside a block",
                        help=f"move this `{word}` out of the block, before the blocks that use it",
                    )
                )
    return out


def parse(text: str, path: str = "<string>") -> tuple[ast.Document | None, list[Diagnostic]]:
    """Parse one file's text. The Document is None when there are syntax errors."""
    doc, diags = parse_recovering(text, path)
    return (None if has_errors(diags) else doc), diags


# --------------------------------------------------------------------------- result


@dataclass
class ParseResult:
    """The root document and everything it imports, with all language-level diagnostics.

    ``documents``: the root first, then each imported document once, in import order
    (depth first), each only if it parsed without errors. ``imports`` maps each file to
    the files its ``import`` items resolved to (the import graph, for ordered ``let``
    evaluation). ``registry`` and ``env`` are the plan's units and ``let`` constants
    (set by ``parse_file`` when everything parsed; see ``capdsl.lang`` docs).
    """

    documents: list[ast.Document]
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    root_path: str = ""
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    registry: UnitRegistry | None = None
    env: dict[str, object] = field(default_factory=dict)
    definitions: Definitions | None = None

    @property
    def root(self) -> ast.Document | None:
        return next((d for d in self.documents if d.path == self.root_path), None)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)
