"""What-if knobs: value normalisation and edits of the plan text (at spans, or inserted)."""

from __future__ import annotations

import pytest
from tui_fakes import built, shop_text

from capdsl.tui.whatif import (
    WhatIfError,
    apply_whatif,
    current_value,
    find_knob,
    insert_item,
    knobs_for,
    normalise,
    scan_blocks,
    value_of,
)

PATH = "shop.cap"


def knob(path: str, text: str | None = None, scenario: str | None = None):  # type: ignore[no-untyped-def]
    plan = built(text, scenario, PATH).plan
    assert plan is not None
    k = find_knob(knobs_for(plan), path)
    assert k is not None, path
    return plan, k


def edit(path: str, value: str, text: str | None = None, scenario: str | None = None) -> str:
    text = shop_text() if text is None else text
    plan, k = knob(path, text, scenario)
    return apply_whatif(text, plan, k, normalise(k, value), path=PATH, scenario=scenario)


def changed(before: str, after: str) -> list[tuple[str, str]]:
    import difflib

    out = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith(("- ", "+ ")):
            out.append((line[0], line[2:]))
    return out


# --------------------------------------------------------------------------- knobs


def test_knobs_cover_the_issue_parameters() -> None:
    plan = built().plan
    assert plan is not None
    kinds = {(k.kind, k.path) for k in knobs_for(plan)}
    assert ("growth", "recs.growth") in kinds
    assert ("headroom", "recs.headroom") in kinds
    assert ("spot_max", "recs.spot.max") in kinds
    assert ("event_scale", "recs.event.annual sale.scale") in kinds  # the model's key: unquoted
    assert ("budget_monthly", "budget.monthly") in kinds
    assert ("terms", "commitments.terms") in kinds
    # batch workloads have no headroom knob
    assert ("headroom", "train.headroom") not in kinds


def test_current_values_read_as_written_or_default() -> None:
    plan = built().plan
    assert plan is not None
    ks = knobs_for(plan)
    assert current_value(plan, find_knob(ks, "recs.growth")) == "3% per month"  # type: ignore[arg-type]
    assert current_value(plan, find_knob(ks, "budget.monthly")) == "$60k"  # type: ignore[arg-type]
    assert current_value(plan, find_knob(ks, "commitments.terms")) == "[1y, 3y]"  # default  # type: ignore[arg-type]
    assert value_of("monthly <= $60k") == "$60k"
    assert value_of('recs.event."annual sale".scale = 6x') == "6x"


@pytest.mark.parametrize(
    ("path", "raw", "expected"),
    [
        ("recs.growth", "6", "6% per month"),
        ("recs.growth", " 6 % ", "6% per month"),
        ("recs.growth", "-1.5%", "-1.5% per month"),
        ("recs.growth", "2% per week", "2% per week"),  # passed through; the build validates
        ("recs.headroom", "40", "40%"),
        ("recs.spot.max", "0", "0%"),
        ('recs.event."annual sale".scale', "6", "6x"),
        ('recs.event."annual sale".scale', "5.5 x", "5.5x"),
        ("budget.monthly", "80k", "$80k"),
        ("budget.monthly", "$1.2M", "$1.2M"),
        ("commitments.terms", "1y 3y", "[1y, 3y]"),
        ("commitments.terms", "[1y]", "[1y]"),
        ("commitments.terms", "none", "[]"),
    ],
)
def test_normalise_accepts_what_people_type(path: str, raw: str, expected: str) -> None:
    _, k = knob(path)
    assert normalise(k, raw) == expected


@pytest.mark.parametrize(
    ("path", "raw"),
    [("recs.growth", "  "), ("commitments.terms", "2 weeks"), ("budget.monthly", "none")],
)
def test_normalise_rejects_nonsense(path: str, raw: str) -> None:
    _, k = knob(path)
    with pytest.raises(WhatIfError):
        normalise(k, raw)


# --------------------------------------------------------------------------- edits at spans


def test_edit_at_span_changes_only_the_value_and_keeps_the_comment() -> None:
    before = shop_text()
    after = edit("recs.growth", "6")
    assert changed(before, after) == [
        ("-", "  growth   = 3% per month   # from last year's trend"),
        ("+", "  growth   = 6% per month   # from last year's trend"),
    ]


def test_edit_inside_a_one_line_block() -> None:
    before = shop_text()
    after = edit("recs.spot.max", "25")
    assert ("+", "  spot { max = 25%, per_pool = 15% }") in changed(before, after)
    after = edit('recs.event."annual sale".scale', "6")
    assert ("+", '  event "annual sale" { from = 2027-11-24, for = 72 h, scale = 6x }') in changed(
        before, after
    )


def test_edit_a_comparison() -> None:
    after = edit("budget.monthly", "80k")
    assert "budget { monthly <= $80k, alert = 90% }" in after


def test_edited_text_builds_to_the_new_value() -> None:
    after = edit("recs.headroom", "45")
    plan = built(after).plan
    assert plan is not None
    assert plan.workload("recs").headroom == pytest.approx(0.45)


# --------------------------------------------------------------------------- insertions


def test_insert_a_setting_that_is_not_written_into_its_workload_block() -> None:
    before = shop_text()
    after = edit("train.growth", "5")
    assert changed(before, after) == [("+", "  growth = 5% per month")]
    lines = after.splitlines()
    at = lines.index("  growth = 5% per month")
    assert lines[at + 1] == "}"  # last item of `batch train { }`
    assert "batch train {" in lines[at - 4]


def test_insert_spot_block_when_the_workload_has_none() -> None:
    after = edit("train.spot.max", "50")
    assert "  spot { max = 50% }\n}" in after


def test_insert_commitments_block_before_the_scenarios() -> None:
    after = edit("commitments.terms", "1y")
    block = "commitments {\n  terms = [1y]\n}\n"
    assert block in after
    assert after.index(block) < after.index("scenario conservative")


def test_insert_budget_block_when_the_file_has_none() -> None:
    text = shop_text().replace("budget { monthly <= $60k, alert = 90% }\n", "")
    after = edit("budget.monthly", "70k", text=text)
    assert "budget {\n  monthly <= $70k\n}\n" in after


def test_spot_false_is_replaced_by_a_spot_block() -> None:
    text = shop_text().replace("spot { max = 40%, per_pool = 15% }", "spot = false")
    plan, k = knob("recs.spot.max", text)
    assert plan.settings["recs.spot"].text == "spot = false"
    assert "recs.spot.max" not in plan.settings
    assert current_value(plan, k) == "0%"
    after = apply_whatif(text, plan, k, "30%", path=PATH, scenario=None)
    assert "  spot { max = 30% }\n" in after
    assert "spot = false" not in after


# --------------------------------------------------------------------------- scenarios


def test_in_a_scenario_an_override_is_added_to_the_scenario_block() -> None:
    before = shop_text()
    after = edit("recs.headroom", "50", scenario="conservative")
    assert changed(before, after) == [
        ("-", "scenario conservative { recs.growth = 1% per month }"),
        ("+", "scenario conservative { recs.growth = 1% per month, recs.headroom = 50% }"),
    ]


def test_in_a_scenario_an_existing_override_is_edited_in_place() -> None:
    before = shop_text()
    after = edit("recs.growth", "9", scenario="aggressive")
    assert changed(before, after) == [
        (
            "-",
            'scenario aggressive   { recs.growth = 6% per month, recs.event."annual sale".scale = 6x }',
        ),
        (
            "+",
            'scenario aggressive   { recs.growth = 9% per month, recs.event."annual sale".scale = 6x }',
        ),
    ]
    # the base value is untouched
    assert "growth   = 3% per month" in after


def test_scenario_budget_override_uses_the_comparison_form() -> None:
    after = edit("budget.monthly", "90k", scenario="aggressive")
    assert 'recs.event."annual sale".scale = 6x, budget.monthly <= $90k }' in after


# --------------------------------------------------------------------------- refusals


def test_a_setting_written_in_another_file_is_not_edited() -> None:
    text = shop_text()
    plan, k = knob("recs.growth", text)
    s = plan.settings["recs.growth"]
    assert s.span is not None
    moved = s.model_copy(
        update={
            "span": s.span.__class__(
                "shared/recs.cap", s.span.line, s.span.column, s.span.end_line, s.span.end_column
            )
        }
    )
    plan = plan.model_copy(update={"settings": {**plan.settings, "recs.growth": moved}})
    with pytest.raises(WhatIfError, match=r"shared/recs\.cap"):
        apply_whatif(text, plan, k, "5% per month", path=PATH, scenario=None)


def test_a_span_that_no_longer_matches_the_text_is_refused() -> None:
    text = shop_text()
    plan, k = knob("recs.growth", text)
    shifted = "# a new first line\n" + text
    with pytest.raises(WhatIfError, match="changed"):
        apply_whatif(shifted, plan, k, "5% per month", path=PATH, scenario=None)


# --------------------------------------------------------------------------- the block scanner


def test_scan_blocks_finds_nested_blocks_and_ignores_strings_and_comments() -> None:
    text = 'service a { # not a { block\n  event "x { y" { scale = 2x }\n  spot { max = 1% }\n}\nbudget { monthly <= $1 }\n'
    blocks = scan_blocks(text)
    assert [(b.kind, b.labels, b.parent) for b in blocks] == [
        ("service", ("a",), None),
        ("event", ("x { y",), 0),
        ("spot", (), 0),
        ("budget", (), None),
    ]
    assert text[blocks[0].close] == "}" and text[blocks[0].open] == "{"


def test_runs_on_header_with_commas() -> None:
    blocks = scan_blocks("service s {\n  runs on aws.c7g.*, aws.m7g.* {\n    x = 1\n  }\n}\n")
    assert blocks[1].kind == "runs"
    assert blocks[1].labels == ("on", "aws.c7g.*", "aws.m7g.*")


def test_insert_item_into_an_empty_one_line_block() -> None:
    text = "spot { }\n"
    assert insert_item(text, scan_blocks(text)[0], "max = 1%") == "spot { max = 1% }\n"


def test_insert_item_when_the_closing_brace_shares_a_line() -> None:
    text = "service s {\n  a = 1 }\n"
    out = insert_item(text, scan_blocks(text)[0], "b = 2")
    assert out == "service s {\n  a = 1\n  b = 2\n}\n"


def test_a_scenario_override_of_an_event_quotes_the_event_name() -> None:
    after = edit("recs.event.annual sale.scale", "7", scenario="conservative")
    assert (
        'scenario conservative { recs.growth = 1% per month, recs.event."annual sale".scale = 7x }'
        in after
    )
    plan = built(after, "conservative").plan
    assert plan is not None
    assert (
        plan.settings["recs.event.annual sale.scale"].text == 'recs.event."annual sale".scale = 7x'
    )
