"""The plugin manager: capdsl's built-in plugins plus every ``capdsl`` entry point, loaded
safely, behind a typed facade.

- Built-in plugins (``DEFAULT_PLUGINS``, e.g. the ``bundled`` pricing source) are registered
  through the very same hooks as third-party ones, first, so their names win.
- Entry points of the group ``capdsl`` are loaded one at a time: a plugin that fails to
  import, to register, that implements a hook capdsl does not have (a misspelt name, caught
  by ``check_pending``), or that raises inside a hook, is recorded in ``failures()`` with
  its name, version and error, and capdsl carries on without it.
- ``CAPDSL_DISABLE_PLUGINS``: ``1``/``all``/``true`` disables every external plugin, or a
  comma list of plugin names to skip. ``CAPDSL_LOAD_PLUGINS``: a comma list, only these
  external plugins are loaded (empty: none). Names match the entry-point name or the
  distribution name (``-``/``_`` and case do not matter).
- Hooks are called with keyword arguments, one implementation at a time, so one broken
  plugin cannot hide the others' contributions.

``get_manager()`` returns the process-wide manager, the only global state in capdsl;
``reset_manager()`` forgets it (tests, or after installing a plugin in-process).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from capdsl.plugins import hookspecs
from capdsl.plugins.protocols import Check, Exporter, LatencyModel, PricingSource, ProgressFn
from capdsl.pricing.catalog import CatalogQuery, PriceTable, PricingError

ENTRY_POINT_GROUP = "capdsl"
# capdsl's own plugins: (name shown by `capdsl plugins --all`, module)
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (("capdsl", "capdsl.plugins.builtin"),)
_ALL = frozenset({"1", "all", "true", "yes", "*"})


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin."""

    name: str
    version: str | None
    distribution: str | None
    module: str
    hooks: tuple[str, ...]
    builtin: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "module": self.module,
            "hooks": list(self.hooks),
            "builtin": self.builtin,
        }


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used (or one of its contributions that was refused)."""

    name: str
    version: str | None
    error: str
    stage: str  # "import", "register", "hooks", or the hook that failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "error": self.error,
            "stage": self.stage,
        }


@dataclass
class _Meta:
    version: str | None
    distribution: str | None
    builtin: bool


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _names(value: str | None) -> set[str]:
    return {_norm(n) for n in (value or "").split(",") if n.strip()}


def _protocol_members(protocol: type) -> set[str]:
    """Attributes and methods a runtime-checkable Protocol requires."""
    members = set(getattr(protocol, "__annotations__", {}))
    members |= {n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")}
    return members


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class GuardedSource:
    """A registered pricing source as capdsl uses it: an unexpected exception inside
    ``fetch`` becomes a ``PricingError`` naming the plugin, and the result is checked."""

    def __init__(self, source: PricingSource, plugin: str, version: str | None):
        self.source = source
        self.plugin = plugin
        self.version = version
        self.name: str = source.name
        self.description: str = str(getattr(source, "description", "") or "")
        self.providers: tuple[str, ...] = tuple(getattr(source, "providers", ()) or ())

    def fetch(
        self,
        query: CatalogQuery,
        *,
        refresh: bool = False,
        progress: ProgressFn | None = None,
    ) -> PriceTable:
        who = f"plugin `{self.plugin}`" + (f" {self.version}" if self.version else "")
        try:
            table = self.source.fetch(query, refresh=refresh, progress=progress)
        except PricingError:
            raise
        except Exception as exc:
            raise PricingError(
                f"pricing source `{self.name}` ({who}) failed: {_describe(exc)}",
                code="E0504",
                help=f"report it to the plugin's authors; `CAPDSL_DISABLE_PLUGINS={self.plugin}` turns it off",
            ) from exc
        if not isinstance(table, PriceTable):
            raise PricingError(
                f"pricing source `{self.name}` ({who}) returned {type(table).__name__}, not a PriceTable",
                code="E0504",
            )
        return table

    def __repr__(self) -> str:
        return f"GuardedSource({self.source!r})"


class CapdslPluginManager:
    """pluggy's manager for project ``capdsl`` with safe loading and a typed facade."""

    def __init__(
        self,
        *,
        entry_points: bool = True,
        environ: Mapping[str, str] | None = None,
        builtins: tuple[tuple[str, str], ...] = DEFAULT_PLUGINS,
    ):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._meta: dict[str, _Meta] = {}
        self._failures: list[PluginFailure] = []
        self._collected: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, dict[str, str]] = {}
        self._lock = threading.RLock()
        env = os.environ if environ is None else environ
        for name, module_name in builtins:
            self.register(importlib.import_module(module_name), name=name, builtin=True)
        if entry_points:
            self._load_entry_points(env)

    # ------------------------------------------------------------------ loading

    def _load_entry_points(self, env: Mapping[str, str]) -> None:
        disable = env.get("CAPDSL_DISABLE_PLUGINS", "")
        if _norm(disable) in _ALL:
            return
        disabled = _names(disable)
        only = _names(env["CAPDSL_LOAD_PLUGINS"]) if "CAPDSL_LOAD_PLUGINS" in env else None
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            dist_name = dist.name if dist is not None else None
            version = dist.version if dist is not None else None
            keys = {_norm(ep.name)} | ({_norm(dist_name)} if dist_name else set())
            if only is not None and not keys & only:
                continue
            if keys & disabled:
                continue
            try:
                plugin = ep.load()
            except BaseException as exc:  # a plugin's import must never take capdsl down
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._fail(
                    ep.name, version, f"cannot import `{ep.value}`: {_describe(exc)}", "import"
                )
                continue
            self.register(plugin, name=ep.name, version=version, distribution=dist_name)

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        builtin: bool = False,
        version: str | None = None,
        distribution: str | None = None,
    ) -> bool:
        """Register a plugin object (module or instance); False (and a failure) if refused."""
        with self._lock:
            label = name or getattr(plugin, "__name__", None) or repr(plugin)
            version = getattr(plugin, "__version__", None) or version
            if builtin and version is None:
                from capdsl import __version__ as version
            try:
                registered = self.pm.register(plugin, name=label)
            except Exception as exc:  # duplicate name, hookimpl signature not matching the spec
                self._fail(label, version, _describe(exc), "register")
                return False
            if registered is None:
                self._fail(label, version, "already registered", "register")
                return False
            try:
                self.pm.check_pending()
            except pluggy.PluginValidationError as exc:
                self.pm.unregister(plugin)
                self._fail(label, version, self._pending_message(exc), "hooks")
                return False
            self._meta[registered] = _Meta(version, distribution, builtin)
            self._collected.clear()
            return True

    def unregister(self, name: str) -> None:
        """Remove a plugin by name (test fixtures register throwaway plugins and remove them)."""
        with self._lock:
            self.pm.unregister(name=name)
            self._meta.pop(name, None)
            self._failures = [f for f in self._failures if f.name != name]
            self._collected.clear()

    def _pending_message(self, exc: pluggy.PluginValidationError) -> str:
        import difflib

        text = str(exc)
        known = [n for n in dir(hookspecs) if n.startswith("register_")]
        for word in text.replace("'", " ").replace('"', " ").split():
            if word.startswith(("register", "capdsl_")) and word not in known:
                close = difflib.get_close_matches(word, known, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                return f"implements `{word}`, which is not a capdsl hook{hint}"
        return text

    def _fail(self, name: str, version: str | None, error: str, stage: str) -> None:
        failure = PluginFailure(name, version, error, stage)
        if failure not in self._failures:
            self._failures.append(failure)

    # ------------------------------------------------------------------ facade

    def _collect(
        self,
        hook: str,
        protocol: type,
        key: str,
        wrap: Callable[[Any, str, str | None], Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            if hook in self._collected:
                return self._collected[hook]
            found: dict[str, Any] = {}
            owners: dict[str, str] = {}
            caller = getattr(self.pm.hook, hook)
            # registration order: built-ins first, so their names win
            for impl in caller.get_hookimpls():
                plugin = impl.plugin_name
                meta = self._meta.get(plugin)
                version = meta.version if meta else None

                def register(
                    obj: object, _plugin: str = plugin, _version: str | None = version
                ) -> None:
                    what = f"{type(obj).__module__}.{type(obj).__qualname__}"
                    if not isinstance(obj, protocol):
                        missing = sorted(
                            a for a in _protocol_members(protocol) if not hasattr(obj, a)
                        )
                        why = f" (missing {', '.join(missing)})" if missing else ""
                        msg = f"{what} is not a {protocol.__name__}{why}; ignored"
                        self._fail(_plugin, _version, msg, hook)
                        return
                    ident = getattr(obj, key)
                    if not isinstance(ident, str) or not ident:
                        self._fail(_plugin, _version, f"{what} has no {key}; ignored", hook)
                        return
                    if ident in found:
                        self._fail(
                            _plugin,
                            _version,
                            f"`{ident}` is already registered by `{owners[ident]}`; ignored",
                            hook,
                        )
                        return
                    found[ident] = wrap(obj, _plugin, _version) if wrap else obj
                    owners[ident] = _plugin

                try:
                    impl.function(register=register)
                except Exception as exc:
                    self._fail(plugin, version, f"raised {_describe(exc)}", hook)
            self._collected[hook] = found
            self._owners[hook] = owners
            return found

    def pricing_sources(self) -> dict[str, PricingSource]:
        """Every registered pricing source by name (built-in ``bundled`` included)."""
        return dict(self._collect("register_pricing_sources", PricingSource, "name", GuardedSource))

    def latency_models(self) -> dict[str, LatencyModel]:
        return dict(self._collect("register_latency_models", LatencyModel, "name"))

    def exporters(self) -> dict[str, Exporter]:
        return dict(self._collect("register_exporters", Exporter, "name"))

    def checks(self) -> dict[str, Check]:
        """Every registered check by code."""
        return dict(self._collect("register_checks", Check, "code"))

    def collect_all(self) -> None:
        """Call every hook once, so that failures inside hooks are known."""
        self.pricing_sources()
        self.latency_models()
        self.exporters()
        self.checks()

    def failures(self) -> list[PluginFailure]:
        """Plugins that failed to import, register or run a hook (name, version, error)."""
        return list(self._failures)

    def plugins(self, *, include_builtin: bool = True) -> list[PluginInfo]:
        """Loaded plugins with their versions and the hooks they implement."""
        out = []
        for name, plugin in self.pm.list_name_plugin():
            meta = self._meta.get(name, _Meta(None, None, False))
            if meta.builtin and not include_builtin:
                continue
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            module = getattr(plugin, "__name__", None) or type(plugin).__module__
            out.append(
                PluginInfo(
                    name, meta.version, meta.distribution, module, tuple(hooks), meta.builtin
                )
            )
        return sorted(out, key=lambda p: (not p.builtin, p.name))

    def contributions(self) -> dict[str, dict[str, str]]:
        """What every hook collected: ``{hook: {name: plugin that registered it}}``."""
        self.collect_all()
        return {hook: dict(owners) for hook, owners in self._owners.items()}


_manager: CapdslPluginManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> CapdslPluginManager:
    """The process-wide plugin manager (created on first use)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = CapdslPluginManager()
        return _manager


def reset_manager() -> None:
    """Forget the process-wide manager; the next ``get_manager()`` loads plugins afresh."""
    global _manager
    with _manager_lock:
        _manager = None
