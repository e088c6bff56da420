"""User settings of the TUI (Posting-style), validated by pydantic.

Read from a TOML file: ``$CAPDSL_TUI_CONFIG`` if set, else ``tui.toml`` in the user's
config directory (``platformdirs.user_config_dir("capdsl")``). Every key is optional::

    theme = "tokyo-night"
    time_limit = 20          # seconds per solve (as `capdsl solve`)
    seed = 0
    solve_on_open = true
    watch_interval = 1.0     # seconds between checks of the plan file on disk (0 = off)
    format_on_save = true
    report_dir = "reports"   # relative to the plan's directory (default: next to the plan)

    [keymap]                 # binding id -> keys (comma-separated for several)
    solve = "ctrl+enter,f5"
    cancel = "ctrl+c"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class TuiSettings:
    """The settings. A plain dataclass, validated by pydantic (``TypeAdapter``) when read
    from a file: without a settings file the app's first paint does not wait for pydantic
    to load (0.15 s of the TUI's startup)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    theme: str = "textual-dark"
    # as ``capdsl solve``: the same file gives the same plan in the app and on the command
    # line (the solver is deterministic for a time limit and a seed)
    time_limit: float = 20.0
    seed: int = 0
    solve_on_open: bool = True
    watch_interval: float = 1.0
    format_on_save: bool = True
    report_dir: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be above 0 seconds, not {self.time_limit:g}")
        if not self.watch_interval >= 0:
            raise ValueError(
                f"watch_interval must be 0 (off) or more seconds, not {self.watch_interval:g}"
            )


def config_path() -> Path:
    env = os.environ.get("CAPDSL_TUI_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("capdsl")) / "tui.toml"


def load_settings(path: Path | None = None) -> tuple[TuiSettings, str | None]:
    """The settings and, when the file exists but is broken, why (defaults are used then)."""
    import tomllib

    path = path or config_path()
    try:
        raw = path.read_bytes()
    except OSError:
        return TuiSettings(), None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return TuiSettings(), f"{path}: {exc}"
    if not data:
        return TuiSettings(), None
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(TuiSettings).validate_python(data), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "unexpected_keyword_argument":
            import difflib
            from dataclasses import fields

            names = [f.name for f in fields(TuiSettings)]
            close = difflib.get_close_matches(where, names, n=1)
            msg = "no such setting" + (
                f"; did you mean `{close[0]}`?" if close else f" (settings: {', '.join(names)})"
            )
        return TuiSettings(), f"{path}: `{where}`: {msg}" if where else f"{path}: {msg}"
