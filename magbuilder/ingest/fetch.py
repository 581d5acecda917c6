"""Download feeds and images with httpx: a deadline, a size cap, a user agent, conditional requests.

feedparser would fetch URLs itself, without a timeout; here the bytes are fetched first and then
handed to the parser with their content type. Redirects are followed by hand, all of them under
the one deadline of the request. Connections are made by ``connect``: each host name is looked up
once, and when the caller refuses private addresses, the socket goes to an address that was
checked, not to whatever a second lookup answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from .connect import AddressError, CheckedTransport, deadline

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


class Fetcher:
    """The HTTP clients of a run; use as a context manager."""

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent
        # One client (and connection pool) per policy: a connection opened to a private
        # address for a feed is never reused for an image that must not go there.
        self._clients: dict[bool, httpx.Client] = {}

    def client(self, allow_private: bool) -> httpx.Client:
        """The client whose connections refuse private addresses unless ``allow_private``."""
        if allow_private not in self._clients:
            self._clients[allow_private] = httpx.Client(
                headers={"User-Agent": self.user_agent},
                follow_redirects=False,
                trust_env=False,
                transport=CheckedTransport(allow_private),
            )
        return self._clients[allow_private]

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for client in self._clients.values():
            client.close()

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

        ``timeout`` is the deadline of the whole request: looking up and connecting, the
        headers, the body, and every redirect.
        """
        with deadline(timeout):
            return self._follow(url, timeout, max_bytes, headers or {}, allow_private)

    def _follow(
        self, url: str, timeout: float, max_bytes: int, headers: dict[str, str], allow_private: bool
    ) -> Fetched:
        client = self.client(allow_private)
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"{url}: only http:// and https:// addresses can be fetched")
            try:
                fetched = self._once(client, url, timeout, max_bytes, headers)
            except AddressError as exc:
                raise FetchError(f"{url}: {exc}") from None
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
        self,
        client: httpx.Client,
        url: str,
        timeout: float,
        max_bytes: int,
        headers: dict[str, str],
    ) -> Fetched | str:
        with client.stream("GET", url, headers=headers, timeout=httpx.Timeout(timeout)) as response:
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
