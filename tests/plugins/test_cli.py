"""`capdsl catalog` and `capdsl plugins`: real offerings offline, JSON, usage errors, a broken
plugin that does not break the CLI."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capdsl.cli import app
from capdsl.plugins import manager as manager_mod

runner = CliRunner()


def test_catalog_table_offline() -> None:
    result = runner.invoke(app, ["catalog", "--family", "m5", "--limit", "3"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "bundled: 9 offerings in us-east-1" in out
    assert (
        "m5.large" in out and "0.0960" in out and "0.0600" in out
    )  # on-demand, real 1y no-upfront
    assert "showing 3 of 9" in out
    assert "* derived from a documented ratio" in out
    assert "prices from" in out and "karpenter-provider-aws" in out


def test_catalog_json_has_the_full_shape() -> None:
    result = runner.invoke(
        app, ["catalog", "--provider", "gcp", "--gpu", "L4", "--region", "us-east4", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "bundled" and doc["count"] == len(doc["offerings"]) > 0
    assert {o["gpu_model"] for o in doc["offerings"]} == {"l4"}
    first = doc["offerings"][0]
    assert {"zones", "spot_hourly", "reserved", "as_of", "notes", "family"} <= set(first)
    assert doc["query"]["gpu_models"] == ["l4"]
    assert {s["provider"] for s in doc["stamps"]} == {"gcp"}


def test_catalog_from_a_provider_file(pricing: Path) -> None:
    path = pricing / "aws" / "getproducts_m5_large.json"
    result = runner.invoke(app, ["catalog", "--source", "aws", "--file", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    (o,) = json.loads(result.stdout)["offerings"]
    assert o["instance_type"] == "m5.large" and len(o["reserved"]) == 12


def test_unknown_source_is_a_usage_error_with_a_suggestion() -> None:
    result = runner.invoke(app, ["catalog", "--source", "bundle"])
    assert result.exit_code == 2
    assert "did you mean `bundled`?" in result.stderr


def test_missing_file_is_a_usage_error() -> None:
    result = runner.invoke(app, ["catalog", "--source", "aws", "--file", "nope.json"])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_source_failure_exits_1_with_the_reason(pricing: Path) -> None:
    result = runner.invoke(
        app, ["catalog", "--source", "azure", "--file", str(pricing / "gcp" / "skus.json")]
    )
    assert result.exit_code == 1
    assert "not an Azure Retail Prices API response" in result.stderr


def test_plugins_json_lists_versions_hooks_and_contributions() -> None:
    result = runner.invoke(app, ["plugins", "--all", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_name = {p["name"]: p for p in doc["plugins"]}
    assert set(by_name) == {"capdsl", "aws", "azure", "gcp"}
    assert by_name["aws"]["version"] == "0.1.0"
    assert by_name["aws"]["hooks"] == ["register_pricing_sources"]
    assert by_name["gcp"]["registers"] == {"pricing_sources": ["gcp"]}
    assert by_name["capdsl"]["builtin"] is True
    assert doc["failures"] == []
    plain = json.loads(runner.invoke(app, ["plugins", "--format", "json"]).stdout)
    assert "capdsl" not in {p["name"] for p in plain["plugins"]}


def test_a_broken_plugin_does_not_break_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "capdsl_test_broken.py").write_text("import not_installed_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        EntryPoint("broken", "capdsl_test_broken", "capdsl"),
        EntryPoint("aws", "capdsl_aws", "capdsl"),
    ]
    monkeypatch.setattr(manager_mod.metadata, "entry_points", lambda group: eps)
    monkeypatch.setenv("CAPDSL_LOAD_PLUGINS", "broken,aws")
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0
    assert "aws" in result.stdout
    assert "broken" in result.stderr and "not_installed_dependency" in result.stderr
    catalog = runner.invoke(app, ["catalog", "--family", "c7g.large"])
    assert catalog.exit_code == 0 and "c7g.large" in catalog.stdout
