"""Properties (hypothesis): fmt is idempotent and keeps the AST on generated plans; the
parser on arbitrary or mangled text only ever returns diagnostics."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capdsl.lang import parse, parse_file
from capdsl.lang.ast import strip_spans
from capdsl.lang.diagnostics import render_all
from capdsl.lang.format import format_text

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- generated plans

KEYWORDS = {"import", "let", "unit", "true", "false", "per", "N"}
names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
units = st.sampled_from(
    [
        "ms",
        "h",
        "GiB",
        "%",
        "x",
        "request/s",
        "prediction/day",
        "% per month",
        "zone",
        "gpu_hour per month",
    ]
)
numbers = st.builds(
    lambda i, frac, scale: f"{i}{frac}{scale}",
    st.integers(0, 99999),
    st.sampled_from(["", ".5", ".25"]),
    st.sampled_from(["", "k", "M", "B"]),
)


def _quantity(n: str, unit: str) -> str:
    attached = unit in ("%", "x")
    return f"{n}{'' if attached else ' '}{unit}"


quantities = st.builds(_quantity, numbers, units)
money = st.builds(lambda n, u: f"${n}{u}", numbers, st.sampled_from(["", "/month", "/h", " per h"]))
strings = st.text(st.characters(codec="utf-8", exclude_characters='\n\r"\\'), max_size=12).map(
    lambda s: f'"{s}"'
)
paths = st.builds(
    lambda a, b, c: f"{a}.{b}.{c}",
    names,
    names,
    st.sampled_from(["*", "2xlarge", "n2-standard-*", '"annual sale"']),
)
atoms = st.one_of(
    numbers,
    quantities,
    money,
    strings,
    names,
    paths,
    st.sampled_from(["true", "false", "2027-01", "2027-11-24", "2027-11-24T18:00", "N+1", "N+2"]),
)


def _exprs() -> st.SearchStrategy[str]:
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from("+-*/"), inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a: f"-{a}", inner),
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.builds(lambda f, a: f"{f}({a})", names, inner),
        ),
        max_leaves=6,
    )


exprs = _exprs()
comments = st.one_of(
    st.just(""),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=15).map(
        lambda s: f"  # {s}"
    ),
)
gaps = st.sampled_from(["\n", "\n", "\n\n", "\n\n\n", ", "])


def _broken_list(items: list[str], breaks: list[bool], notes: list[str], trailing: bool) -> str:
    """A list written over several lines, with comments after some items."""
    out = "["
    for i, (item, brk, note) in enumerate(zip(items, breaks, notes, strict=True)):
        out += item + ("," if i < len(items) - 1 or trailing else "")
        out += (note + "\n") if brk else " "
    return out + "]"


multiline_lists = st.lists(atoms, min_size=1, max_size=5).flatmap(
    lambda xs: st.builds(
        _broken_list,
        st.just(xs),
        st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)),
        st.lists(comments, min_size=len(xs), max_size=len(xs)),
        st.booleans(),
    )
)


def _items(depth: int) -> st.SearchStrategy[str]:
    attribute = st.builds(
        lambda k, sp, v, c: f"{k}{sp}={sp}{v}{c}",
        st.one_of(names, paths, st.just("unit")),
        st.sampled_from([" ", "", "   "]),
        st.one_of(exprs, multiline_lists),
        comments,
    )
    comparison = st.builds(
        lambda k, q, op, v: f"{k} {q}{op} {v}",
        names,
        st.sampled_from(["", "p95 ", "p99 "]),
        st.sampled_from(["<", "<=", ">", ">="]),
        exprs,
    )
    own_comment = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=15).map(
        lambda s: f"# {s}\n"
    )
    simple = st.one_of(attribute, comparison)
    if depth == 0:
        return st.builds(lambda c, s: c + s, st.one_of(st.just(""), own_comment), simple)
    block = st.builds(
        lambda kind, labels, body, sep: f"{kind} {labels} {{{sep}{body}{sep}}}",
        names,
        st.lists(st.one_of(names, strings, paths), max_size=3).map(" ".join),
        st.tuples(
            st.lists(_items(depth - 1), max_size=4), st.sampled_from(["\n", ", ", "\n\n"])
        ).map(lambda t: t[1].join(t[0])),
        st.sampled_from(["\n", " "]),
    )
    return st.builds(
        lambda c, s: c + s, st.one_of(st.just(""), own_comment), st.one_of(simple, block)
    )


plans = st.lists(
    st.one_of(
        _items(2),
        st.builds(lambda n, v: f"let {n} = {v}", names, exprs),
        st.builds(lambda ns: "unit " + ", ".join(ns), st.lists(names, min_size=1, max_size=3)),
        st.just('import "shared/aws.cap"'),
    ),
    max_size=8,
).flatmap(
    lambda items: st.lists(gaps, min_size=len(items), max_size=len(items)).map(
        lambda g: "".join(i + s for i, s in zip(items, g, strict=True))
    )
)


@FAST
@given(plans)
def test_fmt_is_idempotent_and_keeps_the_ast(text: str) -> None:
    doc, _diags = parse(text)
    if doc is None:  # the generator can build e.g. `a = 1 2` via `, ` gaps: not our property
        return
    once = format_text(text)  # raises FormatError if the AST or the comments would change
    assert format_text(once) == once
    again, _ = parse(once)
    assert strip_spans(again) == strip_spans(doc)


def test_the_generator_mostly_makes_valid_plans() -> None:
    ok = 0

    # (derandomized: the same 40 plans every run; drawn at random, 19 of 40 were valid once
    # and the count failed a clean CI run)
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(plans)
    def count(text: str) -> None:
        nonlocal ok
        ok += parse(text)[0] is not None

    count()
    assert ok >= 20  # the property above is not vacuous


# --------------------------------------------------------------------------- arbitrary text

cap_chars = st.sampled_from(
    [
        *list("{}[]()=<>+-*/,.\"#$%\n \t:;'@"),
        "service",
        "x",
        "1",
        "45M",
        "ms",
        "let",
        "unit",
        "import",
        "N+1",
        "2027-01",
        "per",
        "\\",
    ]
)
junk = st.one_of(st.text(max_size=200), st.lists(cap_chars, max_size=80).map("".join))


def _check_diagnostics_only(text: str) -> None:
    doc, diags = parse(text, "fuzz.cap")
    if doc is None:
        assert any(d.is_error for d in diags)
    rendered = render_all(diags, {"fuzz.cap": text})
    assert "__ANON" not in rendered
    for d in diags:
        assert d.span is None or 0 <= d.span.start <= len(text)


@FAST
@given(junk)
def test_arbitrary_text_only_ever_yields_diagnostics(text: str) -> None:
    _check_diagnostics_only(text)


FIXTURE = (Path(__file__).resolve().parent.parent / "fixtures" / "parse" / "retail.cap").read_text(
    encoding="utf-8"
)


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, len(FIXTURE)), st.integers(0, 5), cap_chars),
        min_size=1,
        max_size=6,
    )
)
def test_mangled_plans_only_ever_yield_diagnostics(edits: list[tuple[int, int, str]]) -> None:
    text = FIXTURE
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    _check_diagnostics_only(text)
    result = parse_file("fuzz.cap", text=text)  # imports and unit checks too
    render_all(result.diagnostics, result.sources)
