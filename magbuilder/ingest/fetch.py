"""Download feeds and images with httpx: timeouts, a size cap, a user agent, conditional requests.

feedparser would fetch URLs itself, without a timeout; here the bytes are fetched first and then
handed to the parser with their content type. Redirects are followed by hand so that every hop
can be checked against private addresses when the caller asks for it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5


class FetchError(Exception):
    """A download that failed; the message says why in a person's words."""


@dataclass(frozen=True)
class Fetched:
    """A response body with what the caller needs to know about it."""

    url: str
    status: int
    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """Whether the server answered 304 to a conditional request."""
        return self.status == 304


def public_host(url: str) -> str | None:
    """Why ``url``'s host may not be fetched (it is or resolves to a private address), or None."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "the URL has no host"
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve host '{host}' ({exc.strerror or exc})"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return f"host '{host}' is a private or loopback address ({address})"
    return None


class Fetcher:
    """One HTTP client for a run; use as a context manager."""

    def __init__(self, user_agent: str) -> None:
        self.client = httpx.Client(
            headers={"User-Agent": user_agent}, follow_redirects=False, trust_env=False
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        *,
        timeout: float,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        allow_private: bool = True,
    ) -> Fetched:
        """GET ``url``; raises FetchError on timeouts, oversize bodies, HTTP errors, refusals.

        ``timeout`` bounds each connect and read; the whole download gets five times that.
        """
        deadline = time.monotonic() + 5 * timeout
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"{url}: only http:// and https:// addresses can be fetched")
            if not allow_private and (problem := public_host(url)):
                raise FetchError(f"{url}: refused: {problem}")
            try:
                fetched = self._once(url, timeout, max_bytes, headers or {}, deadline)
            except httpx.TimeoutException:
                raise FetchError(
                    f"{url}: timed out after {timeout:g} s: the server is slow or down; try again"
                    " later or raise the timeout in ingest.yaml"
                ) from None
            except httpx.ConnectError as exc:
                reason = str(exc).split("] ")[-1] or "connection refused"
                host = urlsplit(url).hostname
                raise FetchError(f"{url}: cannot connect to '{host}' ({reason})") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: cannot download ({exc})") from None
            if isinstance(fetched, str):
                url = fetched  # a redirect
                continue
            return fetched
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _once(
        self, url: str, timeout: float, max_bytes: int, headers: dict[str, str], deadline: float
    ) -> Fetched | str:
        with self.client.stream(
            "GET", url, headers=headers, timeout=httpx.Timeout(timeout)
        ) as response:
            if response.is_redirect and "location" in response.headers:
                return urljoin(url, response.headers["location"])
            if response.status_code >= 400:
                raise FetchError(f"{url}: the server answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(_too_big(url, max_bytes, int(declared)))
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise FetchError(_too_big(url, max_bytes))
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("download too slow")
            return Fetched(
                url=str(response.url),
                status=response.status_code,
                content=bytes(body),
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )


def _too_big(url: str, limit: int, size: int | None = None) -> str:
    got = f" ({size / 1e6:.1f} MB)" if size else ""
    return f"{url}: larger than the {limit / 1e6:g} MB limit{got}; raise max_bytes in ingest.yaml"
