"""Expressions, let constants and the whole-plan checks parse_file runs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from capdsl.lang import EvalError, ast, evaluate, parse, parse_file
from capdsl.lang.evaluate import evaluate_lets, to_unit
from capdsl.lang.quantity import UnitRegistry, Value


def expr(text: str) -> ast.Expr:
    doc, diags = parse(f"x = {text}")
    assert doc is not None, diags
    return doc.items[0].value  # type: ignore[union-attr]


REG = UnitRegistry(["request"])


def test_values_of_every_literal_kind() -> None:
    assert evaluate(expr("45M request/day"), {}, REG) == REG.quantity(45_000_000, "request/day")
    assert evaluate(expr("2.5k"), {}, REG) == Value(Fraction(2500))
    assert evaluate(expr('"retail"'), {}, REG) == "retail"
    assert evaluate(expr("true"), {}, REG) is True
    assert evaluate(expr('["a", 1]'), {}, REG) == ["a", Value(Fraction(1))]
    assert isinstance(evaluate(expr("2027-01"), {}, REG), ast.Month)
    assert isinstance(evaluate(expr("N+1"), {}, REG), ast.Redundancy)
    assert isinstance(evaluate(expr("aws.c7g.*"), {}, REG), ast.Path)
    assert isinstance(evaluate(expr('csv("f.csv", column = "x")'), {}, REG), ast.Call)


def test_arithmetic_with_lets() -> None:
    env = {"base": REG.quantity(45_000_000, "request/day")}
    peak = evaluate(expr("base * 4 + 10 request/s"), env, REG)
    assert isinstance(peak, Value)
    assert peak.to("request/day", REG) == 180_000_000 + 864_000
    assert evaluate(expr("-(1 + 2) * 30%"), {}, REG) == Value(Fraction(-9, 10))


def test_names_policy() -> None:
    assert evaluate(expr("yearly"), {}, REG, names={"yearly"}) == ast.Name(
        "yearly", expr("yearly").span
    )
    assert isinstance(evaluate(expr("anything"), {}, REG, names=None), ast.Name)
    with pytest.raises(EvalError) as info:
        evaluate(expr("yearl"), {}, REG, names={"yearly"})
    assert info.value.diagnostics[0].code == "E0301"
    assert info.value.diagnostics[0].help == "did you mean `yearly`?"
    # never a bare name inside arithmetic
    with pytest.raises(EvalError):
        evaluate(expr("anything * 2"), {}, REG, names=None)


def test_all_errors_of_one_expression_are_raised_together() -> None:
    with pytest.raises(EvalError) as info:
        evaluate(expr("[1 reqs, 2 ms + 1 GiB, nope * 2]"), {}, REG)
    assert [d.code for d in info.value.diagnostics] == ["E0203", "E0201", "E0301"]


def test_to_unit_converts_exactly_or_names_the_setting() -> None:
    value = evaluate(expr("30%"), {}, REG)
    span = expr("30%").span
    assert to_unit(value, "%", REG, span=span) == 30
    with pytest.raises(EvalError) as info:
        to_unit(evaluate(expr("30 ms"), {}, REG), "%", REG, span=span, setting="headroom")
    d = info.value.diagnostics[0]
    assert d.code == "E0207"
    assert (
        d.message
        == "expected a share or multiplier like `30%` or `4x` for `headroom`, found a duration"
    )
    with pytest.raises(EvalError):
        to_unit("text", "h", REG, span=span)


def test_lets_unit_aliases_and_the_plan_currency(tmp_path: Path) -> None:
    (tmp_path / "plan.cap").write_text(
        'unit token\nunit ktok = 1000 token\nlet rate = 3 ktok/s\nlet cost = 60k EUR/month\nplan "x" { currency = "EUR" }\n'
    )
    result = parse_file(str(tmp_path / "plan.cap"))
    assert result.diagnostics == []
    assert result.registry is not None
    assert result.env["rate"].to("token/s", result.registry) == 3000  # type: ignore[union-attr]
    assert result.env["cost"].to("$/month", result.registry) == 60000  # type: ignore[union-attr]


def test_lets_of_imported_files_come_first(tmp_path: Path) -> None:
    (tmp_path / "shared.cap").write_text("unit request\nlet base = 1k request/s\n")
    (tmp_path / "team.cap").write_text('import "shared.cap"\nlet team_peak = base * 2\n')
    (tmp_path / "plan.cap").write_text(
        'import "team.cap"\nimport "shared.cap"\nlet total = team_peak + base\n'
    )
    result = parse_file(str(tmp_path / "plan.cap"))
    assert result.diagnostics == []
    assert [Path(d.path).name for d in result.documents] == ["plan.cap", "team.cap", "shared.cap"]
    assert result.env["total"].to("request/s", result.registry) == 3000  # type: ignore[union-attr]


def test_a_failed_let_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "plan.cap").write_text("let a = 1 reqs\nlet b = a * 2\nx = a + b\n")
    result = parse_file(str(tmp_path / "plan.cap"))
    assert [d.code for d in result.diagnostics] == ["E0203"]
    assert "a" not in result.env


def test_evaluate_lets_without_an_import_graph() -> None:
    doc, _ = parse("unit job\nlet a = 2 job\nlet b = a * 3\n", "p.cap")
    assert doc is not None
    defs = evaluate_lets([doc])
    assert defs.diagnostics == []
    assert defs.env["b"] == defs.registry.quantity(6, "job")
