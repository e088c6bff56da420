"""The parser itself: one per process, every terminal has human words, spans, recovery."""

from __future__ import annotations

import threading

from capdsl.lang import ast, parse
from capdsl.lang.parser import MAX_ERRORS, get_parser, get_tree_parser, grammar_text
from capdsl.lang.syntax_errors import TERMINAL_WORDS


def test_the_parser_is_built_once() -> None:
    assert get_parser() is get_parser()


def test_grammar_is_found_and_every_terminal_has_human_words() -> None:
    assert "QUANTITY" in grammar_text()
    names = {t.name for t in get_parser().terminals} - {"WS", "COMMENT"}
    assert names <= set(TERMINAL_WORDS), names - set(TERMINAL_WORDS)
    assert not any(n.startswith("__ANON") for n in names)


def test_the_tree_parser_accepts_the_same_language() -> None:
    text = "service recs { headroom = 30%, latency p95 < 80 ms }\n"
    assert get_tree_parser().parse(text).data == "start"


def test_spans_are_one_based_with_exclusive_ends() -> None:
    text = 'plan "x" {\n  horizon = 24 months\n}\n'
    doc, _ = parse(text, "p.cap")
    assert doc is not None
    block = doc.items[0]
    assert isinstance(block, ast.Block)
    attr = block.body[0]
    assert isinstance(attr, ast.Attribute)
    s = attr.value.span
    assert (s.file, s.line, s.column, s.end_line, s.end_column) == ("p.cap", 2, 13, 2, 22)
    assert text[s.start : s.end] == "24 months"
    assert (block.span.line, block.span.end_line, block.span.end_column) == (1, 3, 2)


def test_parenthesised_expressions_cover_their_parentheses() -> None:
    doc, _ = parse("x = (1 + 2) * 3")
    assert doc is not None
    value = doc.items[0].value  # type: ignore[union-attr]
    assert isinstance(value, ast.BinOp)
    assert (value.left.span.column, value.span.column) == (5, 5)


def test_comments_are_kept_in_order() -> None:
    doc, _ = parse("# one\nx = 1 # two\n# three\n")
    assert doc is not None
    assert [c.text for c in doc.comments] == ["# one", "# two", "# three"]
    assert [c.span.line for c in doc.comments] == [1, 2, 3]


def test_crlf_and_tabs() -> None:
    doc, diags = parse('plan "x" {\r\n\tstart = 2027-01\r\n}\r\n')
    assert diags == [] and doc is not None


def test_errors_are_capped_per_file() -> None:
    text = "".join(f"x{i} = = {i}\n" for i in range(MAX_ERRORS + 10))
    doc, diags = parse(text)
    assert doc is None
    assert len([d for d in diags if d.is_error]) == MAX_ERRORS
    assert "stopped after" in diags[-1].message


def test_one_error_per_statement_and_the_rest_still_checked() -> None:
    text = "a = [1 2 3]\nb = 2\nc = = 3\nd = 4\n"
    _, diags = parse(text)
    assert [(d.code, d.span.line if d.span else 0) for d in diags] == [("E0101", 1), ("E0101", 3)]


def test_parsing_in_threads_keeps_files_apart() -> None:
    results: dict[str, list[str]] = {}

    def work(name: str) -> None:
        for _ in range(20):
            doc, _ = parse(f"# {name}\n{name} = 1\n", name)
            assert doc is not None
            results.setdefault(name, []).append(doc.items[0].span.file + doc.comments[0].text)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(set(v) == {f"{k}# {k}"} for k, v in results.items())
