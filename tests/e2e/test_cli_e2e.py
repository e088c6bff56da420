"""The `capdsl` command through its console-script entry point: exit codes (0 ok, 1 plan
errors / infeasible, 2 usage), `-` for stdin, `--format json` on commands that print data,
byte-identical solve JSON for the same input, a self-contained HTML report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = EXAMPLES / "data-pipelines.cap"  # solves in seconds


def capdsl(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("capdsl") or str(Path(sys.executable).with_name("capdsl"))
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [exe, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_version_and_help() -> None:
    out = capdsl("--version")
    assert out.returncode == 0 and out.stdout.startswith("capdsl ")
    out = capdsl("--help")
    for cmd in ("check", "solve", "fmt", "tui", "explain", "catalog", "plugins", "bench", "report"):
        assert cmd in out.stdout


def test_check_exit_codes_and_json(tmp_path: Path) -> None:
    ok = capdsl("check", str(SMALL), "--format", "json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["ok"] is True
    bad = tmp_path / "bad.cap"
    bad.write_text(SMALL.read_text().replace("growth   = 2% per month", "growht   = 2% per month"))
    res = capdsl("check", str(bad), "--format", "json")
    assert res.returncode == 1
    diags = json.loads(res.stdout)["diagnostics"]
    assert any(d["code"] == "E0303" and "did you mean `growth`" in (d["help"] or "") for d in diags)
    text = capdsl("check", str(bad))
    assert text.returncode == 1
    assert "error[E0303]" in text.stderr and "^^^^^^" in text.stderr
    assert "Traceback" not in text.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert capdsl("check", str(tmp_path / "missing.cap")).returncode == 2
    assert capdsl("solve", str(SMALL), "--format", "yaml").returncode == 2
    assert capdsl("explain", "E9999").returncode == 2
    assert capdsl("bench", "--size", "XXL").returncode == 2
    assert capdsl("bench", "--size", "S", "--demand", "hourly").returncode == 2
    assert capdsl("solve", str(SMALL), "--against", "nope").returncode == 2


def test_stdin_is_read_with_a_dash() -> None:
    out = capdsl("check", "-", stdin=SMALL.read_text())
    assert out.returncode == 0, out.stderr
    assert "<stdin>: ok" in out.stderr


def test_plan_emits_as_json() -> None:
    out = capdsl("check", str(SMALL), "--emit", "plan", "--format", "json")
    plan = json.loads(out.stdout)["plan"]
    assert plan["name"] == "data-platform" and len(plan["months"]) == 12
    assert {w["name"] for w in plan["workloads"]} == {"etl", "ingest"}


def test_explain_text_and_json() -> None:
    out = capdsl("explain", "e0203")
    assert out.returncode == 0 and "unknown unit" in out.stdout
    data = json.loads(capdsl("explain", "E0203", "--format", "json").stdout)
    assert data["code"] == "E0203" and "## Example" in data["text"]


def test_catalog_and_plugins_json() -> None:
    rows = json.loads(
        capdsl("catalog", "--provider", "aws", "--family", "c7g", "--format", "json").stdout
    )
    offerings = rows["offerings"] if isinstance(rows, dict) else rows
    assert any(o["instance_type"] == "c7g.2xlarge" for o in offerings)
    plugins = json.loads(capdsl("plugins", "--all", "--format", "json").stdout)
    names = {p["name"] for p in (plugins["plugins"] if isinstance(plugins, dict) else plugins)}
    assert {"aws", "azure", "gcp"} <= names


def test_solve_json_is_byte_identical_and_has_the_documented_keys(tmp_path: Path) -> None:
    a = capdsl("solve", str(SMALL), "--format", "json", "-t", "10")
    b = capdsl("solve", str(SMALL), "--format", "json", "-t", "10", cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    data = json.loads(a.stdout)
    for key in (
        "status",
        "objective",
        "bound",
        "gap",
        "verified",
        "currency",
        "totals",
        "months",
        "purchases",
        "binding",
        "sources",
        "diagnostics",
    ):
        assert key in data
    assert data["status"] in ("optimal", "feasible") and data["verified"] is True
    assert {"cost", "all_on_demand_cost", "savings_pct"} <= set(data["totals"])
    assert data["sources"] and all("as_of" in s for s in data["sources"])
    alloc = data["months"][0]["allocations"][0]
    assert {"workload", "offering", "zone", "option", "count"} <= set(alloc)


def test_infeasible_plan_exits_1_with_its_reason() -> None:
    out = capdsl(
        "solve",
        str(EXAMPLES / "llm-inference.cap"),
        "--scenario",
        "quota_squeeze",
        "--format",
        "json",
    )
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["status"] == "infeasible" and data["verified"] is False
    assert any("big_gpus" in d["message"] for d in data["diagnostics"])


def test_report_html_is_one_self_contained_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    out = capdsl("report", str(SMALL), "-o", str(target), "-t", "10")
    assert out.returncode == 0, out.stderr
    assert f"wrote {target}" in " ".join(out.stderr.split())  # says where it went
    assert out.stdout == ""
    html = target.read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "<script src" not in html and "<link" not in html
    md = capdsl("report", str(SMALL), "--format", "md", "-t", "10")
    assert md.returncode == 0 and "# " in md.stdout


def test_fmt_check_on_examples_is_clean() -> None:
    out = capdsl("fmt", "--check", str(EXAMPLES))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("fmt", ["csv", "md", "html", "table"])
def test_solve_other_formats(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"plan.{fmt}"
    out = capdsl("solve", str(SMALL), "--format", fmt, "-o", str(target), "-t", "10")
    assert out.returncode == 0, out.stderr
    assert target.stat().st_size > 200


def test_bench_prints_the_issues_figures_as_one_json_object() -> None:
    out = capdsl(
        "bench", "--size", "S", "--demand", "monthly", "--format", "json", "--time-limit", "2"
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["size"] == "S" and figures["demand"] == "monthly"
    c = figures["capdsl"]
    for key in ("solve_s", "objective", "bound", "gap", "vars_before", "vars_after", "peak_rss_mb"):
        assert key in c
    assert c["verified"] is True and c["vars_before"] >= c["vars_after"] > 0
    assert c["bound"] <= c["objective"] <= figures["all_on_demand"]["objective"]
    assert set(figures["naive"]) >= {"solve_s", "objective", "bound", "gap"}
    assert "naive_time_to_capdsl_gap_s" in figures
    assert figures["greedy"]["objective"] >= c["objective"]
    assert figures["plan"]["blocks"] == 1  # one month, one level
