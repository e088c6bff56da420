"""Plugin loading: built-ins through the same hooks, entry points one at a time, failures
reported (name, version, error) while capdsl carries on."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from capdsl.plugins import CapdslPluginManager, get_manager, hookimpl, reset_manager
from capdsl.plugins import manager as manager_mod
from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, PricingError

PLUGINS = {
    "good": """
        from capdsl.plugins import hookimpl
        from capdsl.pricing.catalog import PriceTable

        __version__ = "1.2.3"

        class Source:
            name = "fake"
            description = "a fake source"
            providers = ("fake",)

            def fetch(self, query, *, refresh=False, progress=None):
                return PriceTable(offerings=[], stamps=[])

        @hookimpl
        def register_pricing_sources(register):
            register(Source())
        """,
    "broken_import": """
        raise ImportError("needs libfoo 2")
        """,
    "misspelt": """
        from capdsl.plugins import hookimpl

        @hookimpl
        def register_pricing_source(register):
            pass
        """,
    "raising": """
        from capdsl.plugins import hookimpl

        @hookimpl
        def register_pricing_sources(register):
            raise RuntimeError("no config file")
        """,
    "not_a_source": """
        from capdsl.plugins import hookimpl

        class Half:
            name = "half"

        @hookimpl
        def register_pricing_sources(register):
            register(Half())
        """,
    "duplicate": """
        from capdsl.plugins import hookimpl
        from capdsl.pricing.bundled import BundledSource

        @hookimpl
        def register_pricing_sources(register):
            register(BundledSource())
        """,
    "bad_signature": """
        from capdsl.plugins import hookimpl

        @hookimpl
        def register_checks(register, plan):
            pass
        """,
}


@pytest.fixture
def entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., list[EntryPoint]]:
    """Install throwaway plugin modules and pretend they are entry points of group capdsl."""
    pkg = tmp_path / "fakeplugins"
    pkg.mkdir()
    for name, source in PLUGINS.items():
        (pkg / f"capdsl_test_{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(pkg))

    def use(*names: str) -> list[EntryPoint]:
        eps = [EntryPoint(n, f"capdsl_test_{n}", "capdsl") for n in names]
        monkeypatch.setattr(manager_mod.metadata, "entry_points", lambda group: eps)
        return eps

    return use


def test_builtins_and_reference_plugins_load_through_the_hooks() -> None:
    m = get_manager()
    assert set(m.pricing_sources()) == {"bundled", "aws", "azure", "gcp"}
    builtin = [p for p in m.plugins() if p.builtin]
    assert [p.name for p in builtin] == ["capdsl"] and builtin[0].hooks == (
        "register_pricing_sources",
    )
    assert {p.name for p in m.plugins(include_builtin=False)} == {"aws", "azure", "gcp"}
    assert m.failures() == []
    assert m.contributions()["register_pricing_sources"]["aws"] == "aws"


def test_one_broken_plugin_of_each_kind_and_the_good_one_still_works(
    entry_points: Callable[..., list[EntryPoint]],
) -> None:
    entry_points(*PLUGINS)
    m = CapdslPluginManager(environ={})
    sources = m.pricing_sources()
    assert set(sources) == {"bundled", "fake"}
    assert sources["bundled"].fetch(CatalogQuery(provider="aws", types=("m5.large",))).offerings
    failures = {f.name: f for f in m.failures()}
    assert set(failures) == {
        "broken_import",
        "misspelt",
        "raising",
        "not_a_source",
        "duplicate",
        "bad_signature",
    }
    assert failures["broken_import"].stage == "import"
    assert "ImportError: needs libfoo 2" in failures["broken_import"].error
    assert failures["misspelt"].stage == "hooks"
    assert "did you mean `register_pricing_sources`" in failures["misspelt"].error
    assert failures["raising"].error == "raised RuntimeError: no config file"
    assert (
        "is not a PricingSource (missing description, fetch, providers)"
        in failures["not_a_source"].error
    )
    assert "`bundled` is already registered by `capdsl`" in failures["duplicate"].error
    assert failures["bad_signature"].stage == "register"
    good = {p.name: p for p in m.plugins()}["good"]
    assert (good.version, good.hooks) == ("1.2.3", ("register_pricing_sources",))
    assert "misspelt" not in {p.name for p in m.plugins()}  # unregistered, not half-loaded


@pytest.mark.parametrize(
    ("environ", "loaded"),
    [
        ({}, {"good", "raising"}),
        ({"CAPDSL_DISABLE_PLUGINS": "1"}, set()),
        ({"CAPDSL_DISABLE_PLUGINS": "all"}, set()),
        ({"CAPDSL_DISABLE_PLUGINS": "raising"}, {"good"}),
        ({"CAPDSL_LOAD_PLUGINS": "good"}, {"good"}),
        ({"CAPDSL_LOAD_PLUGINS": ""}, set()),
        ({"CAPDSL_LOAD_PLUGINS": "good,raising", "CAPDSL_DISABLE_PLUGINS": "Good"}, {"raising"}),
    ],
)
def test_environment_variables_select_plugins(
    entry_points: Callable[..., list[EntryPoint]], environ: dict[str, str], loaded: set[str]
) -> None:
    entry_points("good", "raising")
    m = CapdslPluginManager(environ=environ)
    assert {p.name for p in m.plugins(include_builtin=False)} == loaded
    assert "bundled" in m.pricing_sources()  # built-ins are never disabled


def test_source_failures_become_pricing_errors_naming_the_plugin() -> None:
    class Exploding:
        name = "exploding"
        description = "raises"
        providers = ("x",)

        def fetch(
            self, query: CatalogQuery, *, refresh: bool = False, progress: object = None
        ) -> PriceTable:
            raise KeyError("price")

    class Wrong:
        name = "wrong"
        description = "returns a list"
        providers = ("x",)

        def fetch(
            self, query: CatalogQuery, *, refresh: bool = False, progress: object = None
        ) -> object:
            return []

    class Plugin:
        __version__ = "9.9"

        @hookimpl
        def register_pricing_sources(self, register: Callable[[object], None]) -> None:
            register(Exploding())
            register(Wrong())

    m = CapdslPluginManager(entry_points=False)
    assert m.register(Plugin(), name="tricky")
    sources = m.pricing_sources()
    with pytest.raises(
        PricingError, match=r"pricing source `exploding` \(plugin `tricky` 9.9\) failed: KeyError"
    ):
        sources["exploding"].fetch(CatalogQuery())
    with pytest.raises(PricingError, match="returned list, not a PriceTable"):
        sources["wrong"].fetch(CatalogQuery())
    m.unregister("tricky")
    assert set(m.pricing_sources()) == {"bundled"}


def test_hooks_are_called_with_keyword_arguments() -> None:
    seen: list[str] = []

    class Plugin:
        @hookimpl
        def register_latency_models(self, register: Callable[[object], None]) -> None:
            seen.append("called")

            class Table:
                name = "loadtest"

                def capacity(self, offering: Offering, **kw: object) -> float:
                    return float(offering.vcpu) * 10

            register(Table())

    m = CapdslPluginManager(entry_points=False)
    m.register(Plugin(), name="lat")
    models = m.latency_models()
    assert seen == ["called"] and set(models) == {"loadtest"}
    offering = Offering(
        provider="x",
        region="r",
        instance_type="t",
        vcpu=4,
        memory_gib=8,
        on_demand_hourly=Decimal(1),
    )
    assert (
        models["loadtest"].capacity(
            offering, workload="w", unit="u", percentile=0.95, target_s=0.1, options={}
        )
        == 40.0
    )


def test_get_manager_is_process_wide_and_resettable() -> None:
    first = get_manager()
    assert get_manager() is first
    reset_manager()
    assert get_manager() is not first
