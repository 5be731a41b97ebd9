"""The SSRF guard: the website watch fetches only public addresses unless a site says it is an intranet site.

The watch fetches URLs that organisations register and, worse, follows redirects chosen by whoever controls
those sites (an attacker, once a site is compromised). Without a guard it could be steered at the centre's own
network: cloud metadata at 169.254.169.254, admin consoles on 10.x, the platform itself on 127.0.0.1.

Rules:
- only ``http``/``https`` URLs with a host, no credentials in the URL, optionally only some ports;
- every address a name resolves to must pass :func:`mamori.core.addresses.refusal` (public only; intranet
  sites may use private and loopback addresses, never link-local or multicast ones), or the whole name is
  refused;
- the check runs at *connect time* for every connection, redirects included, and the connection goes to the
  vetted address itself (see :mod:`mamori.websites.transport`): there is no second lookup an attacker's DNS
  server could answer differently (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver

from mamori.core.addresses import IPAddress, refusal
from mamori.websites.errors import UnsafeTarget

__all__ = ["DNSResolver", "IPAddress", "SSRFGuard", "StaticResolver", "SystemResolver", "refusal"]


class Resolver(Protocol):
    """Turns a host name into IP address strings; raises ``OSError`` when the name does not resolve."""

    async def resolve(self, host: str) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (hosts file, then DNS)."""

    async def resolve(self, host: str) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DNSResolver:
    """Resolves through given DNS servers with dnspython (A and AAAA), e.g. the centre's own resolvers."""

    def __init__(self, nameservers: Sequence[str] = (), *, port: int = 53, timeout: float = 5.0) -> None:
        self.resolver = dns_resolver(nameservers, port=port, timeout=timeout)

    async def resolve(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(host, rdtype)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as exc:
                raise OSError(f"DNS lookup of {host} failed: {exc}") from exc
            found += [r.to_text() for r in answer]
        if not found:
            raise OSError(f"{host} does not resolve")
        return found


class StaticResolver:
    """A fixed name -> addresses table (tests, benchmarks, or pinning names the way a hosts file would)."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self.table = {k.lower().rstrip("."): list(v) for k, v in table.items()}

    async def resolve(self, host: str) -> list[str]:
        try:
            return self.table[host.lower().rstrip(".")]
        except KeyError:
            raise OSError(f"{host} does not resolve") from None


def dns_resolver(
    nameservers: Sequence[str] = (), *, port: int = 53, timeout: float = 5.0
) -> dns.asyncresolver.Resolver:
    """A dnspython resolver: the system's configuration, or exactly the given servers (and port)."""
    try:
        resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    except dns.resolver.NoResolverConfiguration:  # no /etc/resolv.conf: lookups will fail, checks will not
        resolver = dns.asyncresolver.Resolver(configure=False)
    if nameservers:
        resolver.nameservers = list(nameservers)
        resolver.port = port
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int


class SSRFGuard:
    """Vets URLs and the addresses behind them; one instance is shared by every check."""

    def __init__(self, resolver: Resolver | None = None, *, allowed_ports: frozenset[int] | None = None) -> None:
        self.resolver: Resolver = resolver or SystemResolver()
        self.allowed_ports = allowed_ports

    def vet_url(self, url: str) -> Target:
        """Refuse what is wrong with the URL itself (scheme, credentials, port); no network involved."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise UnsafeTarget(f"malformed URL: {exc}", where=url[:200]) from exc
        if parts.scheme not in ("http", "https"):
            raise UnsafeTarget(f"scheme {parts.scheme!r} is not fetched", where=url[:200])
        if not parts.hostname:
            raise UnsafeTarget("URL has no host", where=url[:200])
        if parts.username is not None or parts.password is not None:
            raise UnsafeTarget("URL carries credentials", where=url[:200])
        if self.allowed_ports is not None and port not in self.allowed_ports:
            raise UnsafeTarget(f"port {port} is not allowed", where=url[:200])
        return Target(parts.scheme, parts.hostname.lower(), port)

    async def addresses(self, host: str, *, allow_private: bool) -> list[str]:
        """The vetted addresses of ``host``; every one must pass, or the host is refused."""
        host = host.strip("[]")
        try:
            ips = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await self.resolver.resolve(host)]
            except ValueError as exc:  # a resolver answering garbage is refused, not trusted
                raise UnsafeTarget(f"unusable address for {host}: {exc}", where=host) from exc
        for ip in ips:
            why = refusal(ip, allow_private=allow_private)
            if why:
                raise UnsafeTarget(f"{host} resolves to a {why}", where=host)
        return [str(ip) for ip in ips]
