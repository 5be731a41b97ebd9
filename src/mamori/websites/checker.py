"""The asynchronous checker: one call fetches one site and returns everything the watch knows about it.

A check fetches the registered URL with redirects followed by hand (each hop passes the SSRF guard, the
connection goes to the vetted address), reads at most ``max_body_bytes``, records status, latency, size and
the redirect chain, reads the certificate from the very TLS connection used, looks up the DNS answers
concurrently, and, given an approved baseline, runs integrity analysis on the page. It never raises for
anything the site does: failures come back as a :class:`~mamori.websites.results.CheckResult` with a
:class:`~mamori.websites.results.FailureKind`.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from mamori.websites.dnsfacts import DNSFacts, dns_facts, dns_problems
from mamori.websites.errors import UnsafeTarget
from mamori.websites.integrity import Baseline, Verdict, verdict_of
from mamori.websites.results import CheckLimits, CheckResult, FailureKind
from mamori.websites.schemas import SiteExpectations
from mamori.websites.ssrf import DNSResolver, Resolver, SSRFGuard, dns_resolver
from mamori.websites.tlsfacts import facts_from_der, tls_problems
from mamori.websites.transport import GuardedTransport

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
UNCHANGED = Verdict(defaced=False, score=0.0, reasons=[])


@dataclass(frozen=True, slots=True)
class _Fetched:
    status: int
    body: bytes
    truncated: bool
    latency_ms: float
    final_url: str
    redirects: tuple[str, ...]
    tls: tuple[ssl.SSLObject, bytes] | None  # the connection's TLS object and the peer certificate (DER)
    charset: str | None  # from the Content-Type header


class _Failed(Exception):
    def __init__(self, kind: FailureKind, message: str, redirects: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kind, self.message, self.redirects = kind, message, redirects


class Checker:
    """Checks sites; one instance serves many concurrent checks (its connection pools are shared)."""

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        dns_nameservers: tuple[str, ...] = (),
        dns_port: int = 53,
        ssl_context: ssl.SSLContext | None = None,
        limits: CheckLimits | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        """``network_backend`` replaces the socket layer *below* the SSRF guard (tests fake the internet)."""
        self.limits = limits or CheckLimits()
        self._network_backend = network_backend
        self._connections = asyncio.Semaphore(self.limits.max_connections)
        if resolver is None and dns_nameservers:
            resolver = DNSResolver(dns_nameservers, port=dns_port)
        self.guard = SSRFGuard(resolver)
        self.dns = dns_resolver(dns_nameservers, port=dns_port)
        context = ssl_context or ssl.create_default_context()
        self._clients = {flag: self._client(flag, context) for flag in (False, True)}

    def _client(self, allow_private: bool, context: ssl.SSLContext) -> _Requester:
        transport = GuardedTransport(
            self.guard,
            allow_private=allow_private,
            ssl_context=context,
            network_backend=self._network_backend,
        )
        headers = {
            "User-Agent": self.limits.user_agent,
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
        }
        return _Requester(transport, headers)

    async def __aenter__(self) -> Checker:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def check(
        self, site: SiteExpectations, *, baseline: Baseline | None = None, now: datetime | None = None
    ) -> CheckResult:
        """Check ``site`` once; compare with ``baseline`` when given."""
        now = now or datetime.now(UTC)
        dns_task = asyncio.create_task(self._dns(site)) if self._wants_dns(site) else None
        try:
            async with asyncio.timeout(site.timeout_seconds):
                fetched = await self._follow(site)
        except _Failed as failed:
            return await self._failure(site, now, failed, dns_task)
        except TimeoutError:
            return await self._failure(site, now, _Failed(FailureKind.TIMEOUT, "check timed out"), dns_task)
        dns = await dns_task if dns_task else None
        return await self._result(site, now, fetched, dns, baseline)

    def _wants_dns(self, site: SiteExpectations) -> bool:
        return self.limits.record_dns or not site.dns.empty

    async def _dns(self, site: SiteExpectations) -> DNSFacts | None:
        return await dns_facts(site.host, resolver=self.dns)

    async def _failure(
        self,
        site: SiteExpectations,
        now: datetime,
        failed: _Failed,
        dns_task: asyncio.Task[DNSFacts | None] | None,
    ) -> CheckResult:
        dns = await dns_task if dns_task else None
        return CheckResult(
            site_id=site.site_id,
            org=site.org,
            url=site.url,
            checked_at=now,
            up=False,
            redirects=failed.redirects,
            failure=failed.kind,
            error=failed.message[:500],
            dns=dns,
            dns_problems=tuple(dns_problems(site.dns, dns)),
        )

    async def _result(
        self,
        site: SiteExpectations,
        now: datetime,
        fetched: _Fetched,
        dns: DNSFacts | None,
        baseline: Baseline | None,
    ) -> CheckResult:
        up = fetched.status == site.expected_status
        tls = facts_from_der(fetched.tls[1], now=now, version=fetched.tls[0].version()) if fetched.tls else None
        https = urlsplit(fetched.final_url).scheme == "https"
        body_sha256 = hashlib.sha256(fetched.body).hexdigest()
        verdict: Verdict | None = None
        resources: tuple[tuple[str, bytes], ...] = ()
        if baseline is not None and up:
            verdict, resources = await self._verdict(site, baseline, fetched, body_sha256)
        return CheckResult(
            site_id=site.site_id,
            org=site.org,
            url=site.url,
            checked_at=now,
            up=up,
            status=fetched.status,
            latency_ms=round(fetched.latency_ms, 2),
            size=len(fetched.body),
            truncated=fetched.truncated,
            redirects=fetched.redirects,
            final_url=fetched.final_url,
            failure=None if up else FailureKind.STATUS,
            error=None if up else f"status {fetched.status}, expected {site.expected_status}",
            tls=tls,
            tls_problems=tuple(tls_problems(site.tls, tls, https=https)),
            dns=dns,
            dns_problems=tuple(dns_problems(site.dns, dns)),
            verdict=verdict,
            body_sha256=body_sha256,
            body=fetched.body,
            resources=resources,
        )

    async def _verdict(
        self, site: SiteExpectations, baseline: Baseline, fetched: _Fetched, body_sha256: str
    ) -> tuple[Verdict, tuple[tuple[str, bytes], ...]]:
        """Integrity analysis of the fetched page (and its same-site resources when the site asks)."""
        if body_sha256 == baseline.html_sha256 and not site.content.fetch_subresources:
            return UNCHANGED, ()  # the very bytes that were approved: nothing to analyse
        if len(fetched.body) > self.limits.analyse_in_thread_from:
            # Analysis is CPU work on the event loop; a huge page must not stall every other check.
            page = await asyncio.to_thread(baseline.read, fetched.body, encoding=fetched.charset)
        else:
            page = baseline.read(fetched.body, encoding=fetched.charset)
        resources: tuple[tuple[str, bytes], ...] = ()
        if site.content.fetch_subresources:
            resources = await self._subresources(site, fetched.final_url, page.scripts | page.stylesheets)
        hashes = {url: hashlib.sha256(data).hexdigest() for url, data in resources}
        return verdict_of(baseline, page, subresources=hashes), resources

    # --- HTTP -------------------------------------------------------------------------------------------
    async def _follow(self, site: SiteExpectations) -> _Fetched:
        """Fetch the registered URL, following redirects one vetted hop at a time."""
        url = site.url
        chain: tuple[str, ...] = ()
        for _ in range(self.limits.max_redirects + 1):
            fetched, location = await self._hop(site, url, chain)
            if fetched is not None:
                return fetched
            url, chain = location, (*chain, location)
        raise _Failed(FailureKind.REDIRECTS, f"more than {self.limits.max_redirects} redirects", chain)

    async def _hop(self, site: SiteExpectations, url: str, chain: tuple[str, ...]) -> tuple[_Fetched | None, str]:
        try:
            self.guard.vet_url(url)
            client = self._clients[site.allow_private]
            async with self._connections:
                return await self._get(client, url, chain)
        except UnsafeTarget as exc:
            raise _Failed(FailureKind.REFUSED, str(exc), chain) from exc
        except httpx.InvalidURL as exc:  # stricter than urlsplit: refused like any other unusable URL
            raise _Failed(FailureKind.REFUSED, f"malformed URL: {exc}", chain) from exc
        except httpx.HTTPError as exc:
            raise _Failed(_kind(exc), f"{type(exc).__name__}: {exc}", chain) from exc

    async def _get(self, client: _Requester, url: str, chain: tuple[str, ...]) -> tuple[_Fetched | None, str]:
        """One request; returns the page, or None and the Location to go to next."""
        started = time.perf_counter()
        async with client.stream(url) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return None, urljoin(url, response.headers["location"].strip())
            body, truncated = await self._read(response)
            tls = _tls(response)
            elapsed = (time.perf_counter() - started) * 1000
        charset = response.charset_encoding
        return _Fetched(response.status_code, body, truncated, elapsed, url, chain, tls, charset), url

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        cap = self.limits.max_body_bytes
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"".join(chunks)[:cap], True
        return b"".join(chunks), False

    async def _subresources(
        self, site: SiteExpectations, base_url: str, urls: frozenset[str]
    ) -> tuple[tuple[str, bytes], ...]:
        """Same-site scripts and stylesheets, fetched for hashing (never followed off-site)."""
        host = urlsplit(base_url).hostname
        absolute = sorted({urljoin(base_url, u) for u in urls})
        wanted = [u for u in absolute if urlsplit(u).hostname == host][: self.limits.max_subresources]
        out = []
        client = self._clients[site.allow_private]
        for url in wanted:
            try:
                self.guard.vet_url(url)
                async with self._connections, client.stream(url) as response:
                    if response.status_code == 200:
                        out.append((url, (await self._read(response))[0]))
            except (UnsafeTarget, httpx.HTTPError, httpx.InvalidURL):
                continue  # a missing script is the page's problem, seen elsewhere; not a check failure
        return tuple(out)


class _Requester:
    """The part of an httpx client a check needs: one GET, streamed.

    Without ``httpx.AsyncClient``: a check follows redirects itself, must never keep cookies (one site's
    state must not leak into the next check, and a jar filled by thousands of sites is scanned on every
    request), has its own deadline for the whole check, and the client's machinery around a request
    (header and cookie merging, auth and redirect generators, hooks) was a tenth of a check's CPU.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, headers: dict[str, str]) -> None:
        self.transport = transport
        self.headers = headers

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[httpx.Response]:
        request = httpx.Request("GET", url, headers=self.headers)
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()


def _tls(response: httpx.Response) -> tuple[ssl.SSLObject, bytes] | None:
    """The certificate of the connection this response came over (DER: present even if unverified)."""
    stream: Any = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return (ssl_object, der) if der else None


def _kind(exc: httpx.HTTPError) -> FailureKind:
    text = f"{exc} {exc.__cause__ or ''}".lower()
    if isinstance(exc, httpx.TimeoutException):
        return FailureKind.TIMEOUT
    if "ssl" in text or "certificate" in text or "tls" in text:
        return FailureKind.TLS
    if "does not resolve" in text or "dns" in text or "name or service not known" in text:
        return FailureKind.DNS
    if isinstance(exc, httpx.ConnectError):
        return FailureKind.CONNECT
    return FailureKind.PROTOCOL
