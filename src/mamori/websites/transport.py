"""An httpx transport whose every TCP connection goes through the SSRF guard and to the vetted address.

httpcore opens connections through a *network backend* and passes it the origin's host name; TLS (SNI and
certificate verification) and the ``Host`` header keep using that name. Our backend resolves the name
through :class:`~mamori.websites.ssrf.SSRFGuard`, refuses unsafe addresses, and connects to the vetted IP
itself, so the address checked is the address used: no second lookup, no DNS-rebinding window. Redirects
are new requests, hence new connections (or pooled ones to an already vetted origin), hence vetted too.
"""

from __future__ import annotations

import ssl
import typing

import httpcore
import httpx

from mamori.websites.aionet import AsyncioBackend
from mamori.websites.ssrf import SSRFGuard


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: SSRFGuard, *, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None):
        self.guard = guard
        self.allow_private = allow_private
        self.inner = inner or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.guard.addresses(host, allow_private=self.allow_private)
        except OSError as exc:  # the name did not resolve: a connection failure for httpx, not a crash
            raise httpcore.ConnectError(f"DNS: {host} does not resolve ({exc})") from exc
        failure: Exception | None = None
        for ip in addresses:  # every one is vetted; try them in the resolver's order
            try:
                return await self.inner.connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                failure = exc
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {failure}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class OneShotConnections:
    """Stands where httpx keeps its connection pool: one fresh connection per request, closed with it.

    A watch fetches thousands of *different* hosts once every few minutes, so keep-alive never pays, while
    httpcore's pool re-scans every connection for every queued request (quadratic: with 200 checks in
    flight it used most of the checker's CPU). A fresh connection per check also means a fresh SSRF
    vetting and a fresh certificate read every time. Concurrency is bounded by the checker, not here.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, network_backend: httpcore.AsyncNetworkBackend) -> None:
        self.ssl_context = ssl_context
        self.network_backend = network_backend

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        connection = httpcore.AsyncHTTPConnection(
            origin=request.url.origin, ssl_context=self.ssl_context, network_backend=self.network_backend
        )
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await connection.aclose()
            raise
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_ClosingStream(response.stream, connection),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> OneShotConnections:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _ClosingStream:
    """The response body; closing it closes the connection it came over."""

    def __init__(self, stream: typing.AsyncIterable[bytes], connection: httpcore.AsyncHTTPConnection) -> None:
        self.stream = stream
        self.connection = connection

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for part in self.stream:
            yield part

    async def aclose(self) -> None:
        try:
            if hasattr(self.stream, "aclose"):
                await self.stream.aclose()
        finally:
            await self.connection.aclose()


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections are made by :class:`GuardedBackend`, one per request.

    httpx does not take a network backend, so the pool it builds is replaced by :class:`OneShotConnections`
    (the object httpx calls ``_pool``); proxies from the environment are never used (they would bypass the
    guard).
    """

    def __init__(
        self,
        guard: SSRFGuard,
        *,
        allow_private: bool,
        ssl_context: ssl.SSLContext,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        backend = GuardedBackend(guard, allow_private=allow_private, inner=network_backend)
        self._pool = OneShotConnections(ssl_context=ssl_context, network_backend=backend)  # type: ignore[assignment]
