"""The disk cache: atomic, checksummed, TTL, corrupt entries refetched, stale warned."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from capdsl.pricing import cache as cache_mod
from capdsl.pricing.cache import PriceCache, cache_dir, parse_ttl
from capdsl.pricing.catalog import PricingError


class Producer:
    def __init__(self, *payloads: bytes | Exception):
        self.payloads = list(payloads)
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        item = self.payloads.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def test_cache_dir_honours_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPDSL_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "prices"


def test_round_trip_and_atomic_files(tmp_path: Path) -> None:
    c = PriceCache("aws", directory=tmp_path)
    produce = Producer(b'{"a": 1}')
    first = c.load("k", produce)
    second = c.load("k", produce)
    assert (first.payload, first.from_cache, second.from_cache) == (b'{"a": 1}', False, True)
    assert produce.calls == 1
    files = list((tmp_path / "aws").iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"  # no temp files left behind
    doc = json.loads(files[0].read_text())
    assert doc["key"] == "k" and len(doc["sha256"]) == 64


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"\x00garbage"),
        lambda p: p.write_text(
            p.read_text().replace('\\"a\\": 1', '\\"a\\": 2')
        ),  # checksum mismatch
        lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]),  # truncated
    ],
)
def test_corrupt_entry_is_detected_and_refetched(tmp_path: Path, damage: object) -> None:
    c = PriceCache("aws", directory=tmp_path)
    c.load("k", Producer(b'{"a": 1}'))
    (path,) = (tmp_path / "aws").iterdir()
    damage(path)  # type: ignore[operator]
    produce = Producer(b'{"a": 3}')
    loaded = PriceCache("aws", directory=tmp_path).load("k", produce)
    assert produce.calls == 1 and loaded.payload == b'{"a": 3}' and not loaded.from_cache
    assert any("corrupt cache entry" in w for w in loaded.warnings)


def _age(c: PriceCache, key: str, days: float) -> None:
    path = c.path_for(key)
    doc = json.loads(path.read_text())
    doc["fetched_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    path.write_text(json.dumps(doc))


def test_stale_entry_is_refetched(tmp_path: Path) -> None:
    c = PriceCache("gcp", directory=tmp_path, ttl=dt.timedelta(days=7))
    c.load("k", Producer(b"old"))
    _age(c, "k", 8)
    produce = Producer(b"new")
    loaded = c.load("k", produce)
    assert loaded.payload == b"new" and loaded.warnings == []


def test_stale_entry_is_used_with_a_warning_when_the_refetch_fails(tmp_path: Path) -> None:
    c = PriceCache("gcp", directory=tmp_path, ttl=dt.timedelta(days=7))
    c.load("k", Producer(b"old"))
    _age(c, "k", 12)
    for _ in range(2):  # every use warns, not only the first
        loaded = c.load("k", Producer(PricingError("ConnectError: offline")), what="GCP SKUs")
        assert loaded.payload == b"old" and loaded.from_cache
        (warning,) = loaded.warnings
        assert warning.startswith("GCP SKUs: cached prices are 12 days old")
        assert "TTL 7 days" in warning and "offline" in warning


def test_missing_entry_and_failed_fetch_raises(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="offline"):
        PriceCache("x", directory=tmp_path).load("k", Producer(PricingError("offline")))


def test_refresh_bypasses_a_fresh_entry(tmp_path: Path) -> None:
    c = PriceCache("x", directory=tmp_path)
    c.load("k", Producer(b"one"))
    assert c.load("k", Producer(b"two"), refresh=True).payload == b"two"
    assert c.load("k", Producer()).payload == b"two"


def test_offline_mode_never_fetches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPDSL_OFFLINE", "1")
    c = PriceCache("x", directory=tmp_path, ttl=dt.timedelta(hours=1))
    with pytest.raises(PricingError, match="CAPDSL_OFFLINE"):
        c.load("k", Producer(b"never"))
    c.put("k", b"cached")
    _age(c, "k", 3)
    loaded = c.load("k", Producer())
    assert loaded.payload == b"cached" and "CAPDSL_OFFLINE" in loaded.warnings[0]


def test_ttl_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_ttl("7d") == dt.timedelta(days=7)
    assert parse_ttl("12h") == dt.timedelta(hours=12)
    assert parse_ttl("90") == dt.timedelta(seconds=90)
    with pytest.raises(ValueError):
        parse_ttl("soon")
    monkeypatch.setenv("CAPDSL_CACHE_TTL", "2d")
    assert cache_mod.default_ttl() == dt.timedelta(days=2)
