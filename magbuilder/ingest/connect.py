"""Connections for ``fetch``: under one deadline per request, to the address that was checked.

httpx's timeouts apply to each socket operation, so a server that sends its headers one byte a
second is never "slow" to it. And a host name looked up once for a check and again to connect
can answer a public address to the check and a private one to the connection (DNS rebinding).
Both are handled where connections are made, in an httpcore network backend (public httpcore
API): the name is looked up once, every address is checked, the socket is connected to one of
those addresses, and every connect, TLS handshake, read and write is given at most the time
left until the request's deadline. The URL is left alone, so the ``Host`` header and TLS (SNI
and the certificate check) still use the host name.

httpx takes no network backend of its own, so ``CheckedTransport`` is a small httpx transport
(public httpx API) over an httpcore connection pool that has one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_deadline: ContextVar[float | None] = ContextVar("magbuilder_fetch_deadline", default=None)


class AddressError(Exception):
    """A host not connected to: its name does not resolve, or it has a refused address."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every connection made and every byte read or written inside ends ``seconds`` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _within(timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout`` cut to the time left before the deadline; ``late`` once it has passed."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise late("the deadline for the whole request has passed")
    return left if timeout is None else min(timeout, left)


def address_problem(host: str, address: str) -> str | None:
    """Why ``address`` (an address of ``host``) is not connected to without allow_private."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return f"host '{host}' is a private or loopback address ({ip})"
    return None


def resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host``, looked up once, within ``timeout`` seconds."""
    found: dict[str, Any] = {}

    def lookup() -> None:
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            found["error"] = exc

    # getaddrinfo has no timeout of its own: a stuck lookup is left behind in its thread.
    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"looking up '{host}' took too long")
    if "error" in found:
        error = found["error"]
        raise AddressError(f"cannot resolve host '{host}' ({error.strerror or error})")
    return list(dict.fromkeys(str(info[4][0]) for info in found["infos"]))


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _within(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, _within(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class CheckedBackend(httpcore.NetworkBackend):
    """Makes TCP connections to the checked addresses of a host, within the deadline."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, _within(timeout, httpcore.ConnectTimeout))
        if not self.allow_private:
            for address in addresses:
                if problem := address_problem(host, address):
                    raise AddressError(f"refused: {problem}")
        failure: Exception = httpcore.ConnectError(f"no address found for '{host}'")
        for address in addresses:
            # An address literal: connecting to it looks nothing up again.
            try:
                stream = self.sockets.connect_tcp(
                    address,
                    port,
                    _within(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        raise failure


_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's errors as the httpx errors they correspond to (the most specific first)."""
    try:
        yield
    except Exception as exc:
        mapped = next((ours for theirs, ours in _ERRORS if isinstance(exc, theirs)), None)
        if mapped is None:  # not httpcore's (an AddressError): as it is
            raise
        raise mapped(str(exc)) from exc


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self.stream

    def close(self) -> None:
        if hasattr(self.stream, "close"):
            self.stream.close()


class CheckedTransport(httpx.BaseTransport):
    """An httpx transport whose connections are made by ``CheckedBackend``."""

    def __init__(self, allow_private: bool) -> None:
        self.pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=CheckedBackend(allow_private),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; httpcore's errors become httpx's."""
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self.pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.pool.close()
