"""Retries, backoff, timeouts and progress, with the transport faked (no network)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from capdsl.pricing.catalog import PricingError
from capdsl.pricing.http import HttpClient


def client(handler: object, **kw: object) -> tuple[HttpClient, list[float]]:
    sleeps: list[float] = []
    c = HttpClient(transport=httpx.MockTransport(handler), sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    return c, sleeps


def test_retries_on_429_and_5xx_with_backoff_and_retry_after() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503),
        httpx.Response(200, json={"ok": True}),
    ]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return answers.pop(0)

    c, sleeps = client(handler, backoff=0.5)
    assert c.get_json("https://prices.example/x", params={"a": "1"}) == {"ok": True}
    assert seen == ["https://prices.example/x?a=1"] * 3
    assert sleeps == [3.0, 1.0]  # Retry-After honoured, then 0.5 * 2**1


def test_timeouts_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, content=b"done")

    c, sleeps = client(handler)
    assert c.get("https://prices.example/") == b"done"
    assert len(sleeps) == 1


def test_gives_up_after_the_last_attempt() -> None:
    c, sleeps = client(lambda request: httpx.Response(502), retries=2)
    with pytest.raises(PricingError, match=r"giving up after 3 attempts \(HTTP 502\)"):
        c.get("https://prices.example/", what="AWS offer file")
    assert len(sleeps) == 2 and c.requests == 3


def test_client_errors_fail_at_once_with_the_server_message() -> None:
    c, sleeps = client(lambda request: httpx.Response(403, text="API key not valid"))
    with pytest.raises(PricingError, match="HTTP 403 Forbidden: API key not valid"):
        c.get("https://prices.example/")
    assert sleeps == [] and c.requests == 1


def test_connection_errors_are_retried_then_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    c, _ = client(handler, retries=1)
    with pytest.raises(PricingError, match="ConnectError: no route to host"):
        c.get("https://prices.example/")


def test_download_streams_to_a_file_with_progress(tmp_path: Path) -> None:
    body = b"x" * 200_000
    c, _ = client(
        lambda request: httpx.Response(
            200, content=body, headers={"Content-Length": str(len(body))}
        )
    )
    seen: list[tuple[str, float | None]] = []
    path = c.download(
        "https://prices.example/big",
        tmp_path / "big.json",
        progress=lambda m, f: seen.append((m, f)),
    )
    assert path.read_bytes() == body
    assert seen and seen[-1][1] == 1.0
    assert not list(tmp_path.glob("*.part"))
