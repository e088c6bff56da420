"""The plan source: a read-only TextArea highlighted with the ``.cap`` Pygments lexer.

Textual's TextArea highlights with tree-sitter; ``.cap`` has a Pygments lexer instead, so
this widget fills the TextArea's highlight map from Pygments tokens (plain text when no
lexer is installed). Colours come from the app theme, so they follow theme changes.
Diagnostics are underlined at their spans and lines changed by what-ifs are tinted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.widgets import TextArea
from textual.widgets.text_area import Selection, TextAreaTheme

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from textual.theme import Theme

    from capdsl.lang.diagnostics import Diagnostic

# Pygments token type (by name prefix, most specific first) -> TextArea highlight name.
_TOKEN_NAMES: tuple[tuple[str, str], ...] = (
    ("Token.Comment", "comment"),
    ("Token.Keyword.Type", "type"),
    ("Token.Keyword.Constant", "boolean"),
    ("Token.Keyword", "keyword"),
    ("Token.Name.Builtin", "type.builtin"),
    ("Token.Name.Function", "function"),
    ("Token.Name.Class", "class"),
    ("Token.Name.Tag", "tag"),
    ("Token.Name.Attribute", "property"),
    ("Token.Name.Variable", "variable"),
    ("Token.Name.Constant", "constant.builtin"),
    ("Token.Name.Label", "class"),
    ("Token.Name.Entity", "type"),
    ("Token.Name.Namespace", "class"),
    ("Token.Name.Decorator", "function"),
    ("Token.Literal.String", "string"),
    ("Token.Literal.Number", "number"),
    ("Token.Literal.Date", "number"),
    ("Token.Literal", "number"),
    ("Token.Operator.Word", "keyword"),
    ("Token.Operator", "operator"),
    ("Token.Punctuation", "punctuation.bracket"),
    ("Token.Error", "error"),
)


def highlight_name(token_type: object) -> str | None:
    name = str(token_type)
    for prefix, hl in _TOKEN_NAMES:
        if name == prefix or name.startswith(prefix + "."):
            return hl
    return None


def theme_for(theme: Theme) -> TextAreaTheme:
    """A TextArea theme whose syntax colours are the app theme's colours, each nudged
    towards the foreground until it reads well on the background."""
    background = Color.parse(theme.background or ("#1e1e1e" if theme.dark else "#ffffff"))
    foreground = Color.parse(theme.foreground or ("#e0e0e0" if theme.dark else "#202020"))

    def readable(color: str | None, fallback: str) -> Color:
        c = Color.parse(color or fallback)
        for _ in range(6):
            if abs(c.brightness - background.brightness) >= 0.35:
                break
            c = c.blend(foreground, 0.3)
        return c

    primary = readable(theme.primary, "#0178d4")
    secondary = readable(theme.secondary, theme.primary)
    accent = readable(theme.accent, theme.primary)
    warning = readable(theme.warning, "#ffa62b")
    success = readable(theme.success, "#4ebf71")
    error = readable(theme.error, "#ba3c5b")
    muted = foreground.blend(background, 0.45)

    def fg(c: Color, *, bold: bool = False, italic: bool = False) -> Style:
        return Style(color=c.rich_color, bold=bold or None, italic=italic or None)

    syntax = {
        "comment": fg(muted, italic=True),
        "keyword": fg(primary, bold=True),
        "property": fg(foreground),
        "type": fg(warning),
        "type.builtin": fg(warning),
        "number": fg(warning),
        "string": fg(success),
        "boolean": fg(secondary, bold=True),
        "constant.builtin": fg(secondary, bold=True),
        "variable": fg(primary),
        "function": fg(accent),
        "class": fg(primary, bold=True),
        "tag": fg(primary),
        "operator": fg(muted),
        "punctuation.bracket": fg(muted),
        "error": Style(color=error.rich_color, underline=True),
        "diag.error": Style(underline=True, color=error.rich_color, bold=True),
        "diag.warning": Style(underline=True),
        "whatif": Style(
            bgcolor=Color.parse(theme.warning or "#ffa62b").blend(background, 0.8).rich_color
        ),
    }
    return TextAreaTheme(name="capdsl", syntax_styles=syntax)


def changed_lines(before: str, after: str) -> set[int]:
    """0-based lines of ``after`` that differ from ``before``."""
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            out.update(range(j1, j2))
    return out


class SourceView(TextArea):
    """The plan text, read-only, with line numbers, highlighting and jump-to-line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+g", "app.goto_line", "Go to line", show=False, id="source.goto"),
    ]

    def __init__(self, *, lexer: Lexer | None = None, id: str | None = None) -> None:
        # set before TextArea.__init__, which already builds the highlight map
        self._lexer = lexer
        self._diagnostics: list[Diagnostic] = []
        self._changed: set[int] = set()
        self._path = ""
        super().__init__(
            "",
            read_only=True,
            show_line_numbers=True,
            soft_wrap=False,
            tab_behavior="focus",
            id=id,
        )
        self.cursor_blink = False  # a reading view: a steady cursor

    def on_mount(self) -> None:
        self._apply_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_theme())

    def _apply_theme(self) -> None:
        theme = theme_for(self.app.current_theme)
        self.register_theme(theme)
        self.theme = "capdsl"
        self._build_highlight_map()
        self.refresh()

    # ------------------------------------------------------------------ content

    @property
    def lexer(self) -> Lexer | None:
        return self._lexer

    @lexer.setter
    def lexer(self, lexer: Lexer | None) -> None:
        self._lexer = lexer
        self._build_highlight_map()
        self.refresh()

    def show_source(
        self,
        text: str,
        *,
        path: str,
        diagnostics: Iterable[Diagnostic] = (),
        changed: set[int] | None = None,
    ) -> None:
        """Show ``text`` (keeping the scroll position when only values changed)."""
        diagnostics = list(diagnostics)
        changed = changed or set()
        if (
            text == self.text
            and diagnostics == self._diagnostics
            and changed == self._changed
            and path == self._path
        ):
            return  # nothing to redo (re-lexing a long plan on every solve is wasted work)
        self._path = path
        self._diagnostics = diagnostics
        self._changed = changed
        if text != self.text:
            location = self.cursor_location
            scroll = self.scroll_offset
            self.load_text(text)
            row = min(location[0], self.document.line_count - 1)
            self.cursor_location = (row, 0)
            self.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)
        else:
            self._build_highlight_map()
            self.refresh()

    def set_diagnostics(self, diagnostics: Iterable[Diagnostic]) -> None:
        self._diagnostics = list(diagnostics)
        self._build_highlight_map()
        self.refresh()

    def jump_to(
        self, line: int, column: int = 1, end_line: int | None = None, end_column: int | None = None
    ) -> None:
        """Move the cursor to a 1-based position and select the span, centred."""
        last = max(self.document.line_count - 1, 0)
        row = min(max(line - 1, 0), last)
        col = max(column - 1, 0)
        start = (row, min(col, len(self.document.get_line(row))))
        if end_line is not None and end_column is not None:
            erow = min(max(end_line - 1, 0), last)
            end = (erow, min(max(end_column - 1, 0), len(self.document.get_line(erow))))
            self.selection = Selection(start, end)
        else:
            self.cursor_location = start
        self.scroll_cursor_visible(center=True, animate=False)
        # keep the start of lines in view when the span fits on screen
        visible = self.scrollable_content_region.width - self.gutter_width
        if max(start[1], self.selection.end[1]) < visible - 1:
            self.scroll_to(x=0, animate=False, immediate=True)

    # ------------------------------------------------------------------ highlighting

    def _build_highlight_map(self) -> None:
        """Fill TextArea's highlight map from Pygments tokens, diagnostics, what-ifs.

        Highlights are (start_byte, end_byte | None, name) per 0-based line."""
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        text = self.text
        if not text:
            return
        lines = text.split("\n")
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)

        def byte_col(row: int, col: int) -> int:
            line = lines[row]
            return col if line.isascii() else len(line[:col].encode("utf-8"))

        if self._lexer is not None:
            import bisect

            try:
                tokens = list(self._lexer.get_tokens_unprocessed(text))
            except Exception:  # a lexer bug must not break the source pane
                tokens = []
            for index, token_type, value in tokens:
                name = highlight_name(token_type)
                if name is None or not value:
                    continue
                row = bisect.bisect_right(starts, index) - 1
                col = index - starts[row]
                for k, piece in enumerate(value.split("\n")):
                    r = row + k
                    if r >= len(lines):
                        break
                    c0 = col if k == 0 else 0
                    if piece:
                        highlights[r].append((byte_col(r, c0), byte_col(r, c0 + len(piece)), name))

        for d in self._diagnostics:
            span = d.span
            if span is None or (
                self._path and span.file != self._path and not _same(span.file, self._path)
            ):
                continue
            name = "diag.error" if d.is_error else "diag.warning"
            for r in range(span.line - 1, min(span.end_line, len(lines))):
                if r < 0:
                    continue
                c0 = span.column - 1 if r == span.line - 1 else 0
                c1 = span.end_column - 1 if r == span.end_line - 1 else len(lines[r])
                if c1 <= c0:
                    c1 = min(c0 + 1, len(lines[r]))
                highlights[r].append((byte_col(r, c0), byte_col(r, c1), name))

        for r in self._changed:
            if 0 <= r < len(lines):
                highlights[r].insert(0, (0, None, "whatif"))


def _same(a: str, b: str) -> bool:
    from capdsl.tui.whatif import same_file

    return same_file(a, b)
