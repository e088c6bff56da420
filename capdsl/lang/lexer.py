"""A Pygments lexer for .cap plans (so Rich, Textual and docs highlight them).

Registered through the ``pygments.lexers`` entry point (``pygments.lexers.get_lexer_by_name
("cap")``). It mirrors the terminals of ``grammars/cap.lark``: quantities are one token
group (number + unit), keys of ``key = value`` are attributes, the first word of a block
header is a keyword, dates and ``N+k`` are literals.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

_NUM = r"[0-9][0-9_]*+(?:\.[0-9]+)?+(?:[kMB](?![A-Za-z0-9_]))?+"
_WORD = r"(?:%|[A-Za-z][A-Za-z0-9_]*)"
_UNIT = rf"(?:{_WORD}|per[ \t]+{_WORD})(?:(?:/|[ \t]+per[ \t]+){_WORD})*"
_PATH = r'[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z0-9_*][A-Za-z0-9_*-]*|"(?:[^"\\\n]|\\.)*"))+'
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class CapLexer(RegexLexer):
    """Lexer for capdsl capacity plans (``*.cap``)."""

    name = "cap"
    aliases: ClassVar[list[str]] = ["cap", "capdsl"]
    filenames: ClassVar[list[str]] = ["*.cap"]
    mimetypes: ClassVar[list[str]] = ["text/x-cap"]
    url = "https://example.invalid/capdsl/docs"

    tokens: ClassVar[dict[str, list[tuple[object, ...]]]] = {
        "root": [
            # `kind label... {`: the block kind at the start of a line or after `{`/`,`
            (
                rf"(^[ \t]*)({_NAME})(?=[ \t]+[^=\n{{}}<>]*\{{|[ \t]*\{{)",
                bygroups(Whitespace, Keyword),
            ),
            (
                rf"([{{,])([ \t]*)({_NAME})(?=[ \t]+[^=\n{{}}<>,]*\{{|[ \t]*\{{)",
                bygroups(Punctuation, Whitespace, Keyword),
            ),
            (r"[ \t\r\f]+", Whitespace),
            (r"\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r'"[^\n]*', String.Double),  # unterminated: still a string to the reader
            # `key =` and `a.b.c =`: attributes (not `==`, which is not .cap)
            (rf"({_PATH}|{_NAME})([ \t]*)(=)(?!=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (words(("import", "let", "unit"), suffix=r"\b"), Keyword.Declaration),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (r"N\+[0-9]+", Keyword.Constant),
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}", Number.Other),
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", Number.Other),
            (r"[0-9]{4}-[0-9]{2}(?![0-9-])", Number.Other),
            (
                rf"(\$)({_NUM})((?:(?:/|[ \t]+per[ \t]+){_WORD})*)",
                bygroups(Keyword.Type, Number, Keyword.Type),
            ),
            (rf"({_NUM})([ \t]*)((?!per\b){_UNIT})", bygroups(Number, Whitespace, Keyword.Type)),
            (
                rf"({_NUM})([ \t]+)(per[ \t]+{_WORD}(?:(?:/|[ \t]+per[ \t]+){_WORD})*)",
                bygroups(Number, Whitespace, Keyword.Type),
            ),
            (_NUM, Number),
            (_PATH, Name.Variable),
            (rf"({_NAME})(\()", bygroups(Name.Function, Punctuation)),
            (_NAME, Name),
            (r"<=|>=|[<>=+\-*/]", Operator),
            (r"[{}\[\](),]", Punctuation),
            (r".", Error),
        ],
    }


def highlight_tokens(text: str) -> list[tuple[_TokenType, str]]:
    """Tokens of a plan (tests and the TUI use this)."""
    return list(CapLexer().get_tokens(text))
