"""User settings of the TUI, as a pydantic model (Posting-style).

Read from a TOML file: ``$CAPDSL_TUI_CONFIG`` if set, else ``tui.toml`` in the user's
config directory (``platformdirs.user_config_dir("capdsl")``). Every key is optional::

    theme = "tokyo-night"
    time_limit = 10          # seconds per solve
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
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class TuiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = "textual-dark"
    time_limit: float = Field(default=10.0, gt=0)
    seed: int = 0
    solve_on_open: bool = True
    watch_interval: float = Field(default=1.0, ge=0)
    format_on_save: bool = True
    report_dir: str | None = None
    keymap: dict[str, str] = Field(default_factory=dict)


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
        return TuiSettings.model_validate(data), None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return TuiSettings(), f"{path}: {exc}"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return TuiSettings(), f"{path}: `{where}`: {first['msg']}"
