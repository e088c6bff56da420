"""Rendering diagnostics: the rustc layout LANGUAGE.md promises, labels, JSON."""

from __future__ import annotations

import json

from capdsl.lang import parse_file
from capdsl.lang.diagnostics import Label, Span, error, render, to_json

# LANGUAGE.md's example, with the plan's own line 12. (Its header says 12:17; `reqs` starts
# at column 18 counted from 1, as every editor counts, which is what capdsl prints.)
SHOP = "unit request\n" + "#\n" * 9 + "service shop {\n  baseline = 45M reqs/day\n}\n"
EXPECTED = """\
error[E0203]: unknown unit `reqs`
  --> plans/shop.cap:12:18
   |
12 |   baseline = 45M reqs/day
   |                  ^^^^ not a known unit
   |
   = help: did you mean `request`?"""


def test_the_language_md_example_renders_like_rustc() -> None:
    result = parse_file("plans/shop.cap", text=SHOP)
    (diag,) = result.diagnostics
    assert render(diag, result.sources) == EXPECTED


def test_labels_in_another_file_get_their_own_section() -> None:
    a = Span("a.cap", 1, 1, 1, 4)
    b = Span("b.cap", 2, 3, 2, 5)
    diag = error("E0304", "m", a, label="here", labels=(Label(b, "and there"),))
    text = render(diag, {"a.cap": "abc\n", "b.cap": "x\nyyzz\n"})
    assert text.splitlines() == [
        "error[E0304]: m",
        " --> a.cap:1:1",
        "  |",
        "1 | abc",
        "  | ^^^ here",
        "  |",
        " ::: b.cap:2:3",
        "  |",
        "2 | yyzz",
        "  |   -- and there",
        "  |",
    ]


def test_multi_line_span_is_underlined_to_the_end_of_its_first_line() -> None:
    diag = error("E0103", "m", Span("f", 1, 5, 3, 2), label="spans lines")
    assert render(diag, {"f": "abc {\n x\n}\n"}).splitlines()[4] == "  |     ^ spans lines"


def test_without_sources_or_span() -> None:
    assert render(error("E0001", "cannot read `x`")) == "error[E0001]: cannot read `x`"
    assert render(error("E0203", "m", Span("f", 1, 1, 1, 2), help="h")).splitlines() == [
        "error[E0203]: m",
        " --> f:1:1",
        "  = help: h",
    ]


def test_json() -> None:
    result = parse_file("p.cap", text="x = = 1\n")
    (item,) = json.loads(to_json(result.diagnostics))
    assert item["code"] == "E0101"
    assert item["span"] == {"file": "p.cap", "line": 1, "column": 5, "end_line": 1, "end_column": 6}
