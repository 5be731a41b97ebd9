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

from mamori.websites.ssrf import SSRFGuard


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self, guard: SSRFGuard, *, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None
    ):
        self.guard = guard
        self.allow_private = allow_private
        self.inner = inner or httpcore.AnyIOBackend()

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


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` with its connection pool built on :class:`GuardedBackend`.

    httpx does not take a network backend, so the pool it builds is replaced by an equivalent one that
    does; proxies from the environment are never used (they would bypass the guard).
    """

    def __init__(
        self,
        guard: SSRFGuard,
        *,
        allow_private: bool,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard, allow_private=allow_private, inner=network_backend),
        )
