"""HTTP for online pricing sources: timeouts, retries with backoff, progress.

httpx is imported here lazily (only when a source actually goes online), so
``import capdsl`` and offline runs never load it. Tests pass an ``httpx.MockTransport``
(or use respx) and a no-op ``sleep``; nothing here touches the network by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capdsl.pricing.catalog import PricingError

if TYPE_CHECKING:
    import httpx

ProgressFn = Callable[[str, float | None], None]

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "capdsl-pricing (+https://example.invalid/capdsl)"


class HttpClient:
    """A small retrying JSON/bytes client around ``httpx.Client``.

    ``retries`` extra attempts after the first, on connection errors, timeouts and the
    status codes in ``RETRY_STATUS``; the wait doubles from ``backoff`` seconds up to
    ``max_backoff`` and honours a ``Retry-After`` header in seconds (capped the same way).
    Other HTTP errors (403, 404, ...) fail at once with the server's message.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
    ):
        self.transport = transport
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.requests = 0  # attempts made (for tests and progress)
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                transport=self.transport,
                timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                headers=self.headers,
                follow_redirects=True,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.backoff * (2**attempt), self.max_backoff)
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.strip().isdigit():
                delay = min(float(retry_after), self.max_backoff)
        return delay

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        progress: ProgressFn | None = None,
        what: str | None = None,
    ) -> bytes:
        """GET ``url`` with retries; the body as bytes (streamed, with byte progress)."""
        import httpx

        label = what or url
        last: str = ""
        for attempt in range(self.retries + 1):
            self.requests += 1
            response: httpx.Response | None = None
            try:
                with self._http().stream("GET", url, params=params) as response:
                    if response.status_code in RETRY_STATUS:
                        last = f"HTTP {response.status_code}"
                    elif response.status_code >= 400:
                        response.read()
                        raise PricingError(
                            f"{label}: HTTP {response.status_code} {response.reason_phrase}"
                            + _snippet(response.text),
                            code="E0501",
                        )
                    else:
                        return b"".join(self._chunks(response, label, progress))
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                delay = self._wait(attempt, response)
                if progress is not None:
                    progress(f"{label}: {last}; retrying in {delay:.1f} s", None)
                self.sleep(delay)
        raise PricingError(
            f"{label}: giving up after {self.retries + 1} attempts ({last})",
            code="E0501",
            help="check the network (or a proxy: HTTPS_PROXY), then retry; `bundled` works offline",
        )

    def download(
        self,
        url: str,
        dest: Path,
        *,
        progress: ProgressFn | None = None,
        what: str | None = None,
    ) -> Path:
        """GET ``url`` into ``dest`` (streamed to a temp file, then renamed), with retries.

        For documents too large to hold in memory (AWS regional offer files)."""
        import httpx

        label = what or url
        last = ""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        for attempt in range(self.retries + 1):
            self.requests += 1
            response: httpx.Response | None = None
            try:
                with self._http().stream("GET", url) as response:
                    if response.status_code in RETRY_STATUS:
                        last = f"HTTP {response.status_code}"
                    elif response.status_code >= 400:
                        response.read()
                        raise PricingError(
                            f"{label}: HTTP {response.status_code} {response.reason_phrase}"
                            + _snippet(response.text),
                            code="E0501",
                        )
                    else:
                        with tmp.open("wb") as fh:
                            for chunk in self._chunks(response, label, progress):
                                fh.write(chunk)
                        tmp.replace(dest)
                        return dest
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            finally:
                tmp.unlink(missing_ok=True)
            if attempt < self.retries:
                delay = self._wait(attempt, response)
                if progress is not None:
                    progress(f"{label}: {last}; retrying in {delay:.1f} s", None)
                self.sleep(delay)
        raise PricingError(
            f"{label}: giving up after {self.retries + 1} attempts ({last})",
            code="E0501",
            help="check the network (or a proxy: HTTPS_PROXY), then retry; `bundled` works offline",
        )

    def _chunks(
        self, response: httpx.Response, label: str, progress: ProgressFn | None
    ) -> Iterator[bytes]:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        for chunk in response.iter_bytes():
            done += len(chunk)
            if progress is not None:
                progress(f"downloading {label}", done / total if total else None)
            yield chunk

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        progress: ProgressFn | None = None,
        what: str | None = None,
    ) -> Any:
        import json

        body = self.get(url, params=params, progress=progress, what=what)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise PricingError(
                f"{what or url}: the response is not JSON ({exc})", code="E0501"
            ) from exc


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return f": {text[:200]}" if text else ""
