"""The on-disk price cache shared by online pricing sources.

- Location: ``$CAPDSL_CACHE_DIR`` if set, else the user cache dir (platformdirs
  ``user_cache_dir("capdsl")``), sub-folder ``prices/<source>/``.
- One file per entry (``<sha256 of the key>.json``): an envelope with the key, the time it
  was fetched, the SHA-256 of the payload and the payload itself. Writes are atomic (temp
  file in the same folder, then ``os.replace``), so a crash never leaves half an entry.
- On read, a file that is not valid JSON, whose checksum or key does not match, is
  **corrupt**: it is deleted and treated as missing, so the caller refetches.
- Entries older than the TTL (``$CAPDSL_CACHE_TTL``: ``7d``, ``12h``, ``3600`` seconds;
  default 7 days) are **stale**: ``PriceCache.load`` tries to refetch them; if that fails
  (offline), the stale prices are used and every ``PriceTable`` built from them carries a
  warning saying how old they are. ``$CAPDSL_OFFLINE=1`` never fetches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from capdsl.pricing.catalog import PricingError

SCHEMA = 1
DEFAULT_TTL = dt.timedelta(days=7)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(text: str) -> dt.timedelta:
    """``7d``, ``12h``, ``30m``, ``3600`` (seconds) -> timedelta."""
    m = _DURATION.match(text.lower())
    if not m:
        raise ValueError(f"not a duration: `{text}` (expected e.g. 7d, 12h, 3600)")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def cache_dir() -> Path:
    """The root of capdsl's price cache (honours ``CAPDSL_CACHE_DIR``)."""
    override = os.environ.get("CAPDSL_CACHE_DIR")
    if override:
        return Path(override).expanduser() / "prices"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("capdsl", appauthor=False)) / "prices"


def default_ttl() -> dt.timedelta:
    text = os.environ.get("CAPDSL_CACHE_TTL")
    if not text:
        return DEFAULT_TTL
    try:
        return parse_ttl(text)
    except ValueError as exc:
        raise PricingError(f"CAPDSL_CACHE_TTL: {exc}", code="E0503") from exc


def offline() -> bool:
    return os.environ.get("CAPDSL_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def describe_age(age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    if days >= 2:
        return f"{days:.0f} days"
    hours = age.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours >= 2 else f"{age.total_seconds() / 60:.0f} minutes"


@dataclass(frozen=True)
class CacheEntry:
    key: str
    payload: bytes
    fetched_at: dt.datetime
    path: Path

    def age(self, now: dt.datetime | None = None) -> dt.timedelta:
        return (now or _now()) - self.fetched_at


@dataclass
class Loaded:
    """What ``PriceCache.load`` returns: the payload, when it was fetched, whether it came
    from the cache, and warnings to pass on to every PriceTable built from it."""

    payload: bytes
    fetched_at: dt.datetime
    from_cache: bool
    warnings: list[str] = field(default_factory=list)


class PriceCache:
    """A directory of checksummed, atomically written cache entries for one source."""

    def __init__(
        self, source: str, *, directory: Path | None = None, ttl: dt.timedelta | None = None
    ):
        self.source = source
        self.directory = (directory or cache_dir()) / re.sub(r"[^A-Za-z0-9_.-]", "_", source)
        self.ttl = ttl if ttl is not None else default_ttl()
        self.problems: list[str] = []  # corrupt entries found (and removed) by this instance

    def path_for(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.json"

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``; None when missing or corrupt (a corrupt file is removed)."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problems.append(f"cannot read cache entry {path}: {exc}")
            return None
        try:
            doc = json.loads(raw)
            payload = doc["payload"].encode("utf-8")
            ok = (
                doc.get("schema") == SCHEMA
                and doc.get("key") == key
                and hashlib.sha256(payload).hexdigest() == doc.get("sha256")
            )
            fetched_at = dt.datetime.fromisoformat(doc["fetched_at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            self.problems.append(
                f"corrupt cache entry for {self.source} `{key}` removed ({path.name})"
            )
            path.unlink(missing_ok=True)
            return None
        return CacheEntry(key, payload, fetched_at, path)

    def put(self, key: str, payload: bytes, *, fetched_at: dt.datetime | None = None) -> CacheEntry:
        """Store ``payload`` (UTF-8 text, e.g. JSON) atomically."""
        fetched_at = fetched_at or _now()
        text = payload.decode("utf-8")
        doc = {
            "schema": SCHEMA,
            "source": self.source,
            "key": key,
            "fetched_at": fetched_at.isoformat(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "payload": text,
        }
        path = self.path_for(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return CacheEntry(key, payload, fetched_at, path)

    def load(
        self,
        key: str,
        produce: Callable[[], bytes],
        *,
        refresh: bool = False,
        what: str | None = None,
    ) -> Loaded:
        """The payload for ``key``: from the cache while fresh, else ``produce()`` (stored).

        A stale entry whose refetch fails is still used, with a warning; a missing entry
        whose fetch fails raises ``PricingError``. ``refresh`` refetches even a fresh entry
        (and falls back to it, with a warning, if the refetch fails).
        """
        label = what or key
        stale = self.get(key)
        warnings = list(self.problems)
        now = _now()
        if stale is not None and not refresh and stale.age(now) <= self.ttl:
            return Loaded(stale.payload, stale.fetched_at, True, warnings)
        if offline():
            if stale is not None:
                warnings.append(self._stale_warning(label, stale, now, "CAPDSL_OFFLINE is set"))
                return Loaded(stale.payload, stale.fetched_at, True, warnings)
            raise PricingError(
                f"{label}: not in the price cache and CAPDSL_OFFLINE is set",
                code="E0505",
                help="fetch once while online (`capdsl catalog --source ... --refresh`), or use `bundled`",
            )
        try:
            payload = produce()
        except PricingError as exc:
            if stale is None:
                raise
            warnings.append(self._stale_warning(label, stale, now, f"the refresh failed: {exc}"))
            return Loaded(stale.payload, stale.fetched_at, True, warnings)
        fresh = self.put(key, payload)
        return Loaded(fresh.payload, fresh.fetched_at, False, warnings)

    def _stale_warning(self, label: str, entry: CacheEntry, now: dt.datetime, why: str) -> str:
        return (
            f"{label}: cached prices are {describe_age(entry.age(now))} old (fetched "
            f"{entry.fetched_at:%Y-%m-%d %H:%M} UTC; cache TTL {describe_age(self.ttl)}); {why}"
        )
