"""DNS answers for a site's name (A, AAAA, CNAME) and how they differ from what the site expects."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from mamori.websites.schemas import DNSExpectations


@dataclass(frozen=True, slots=True)
class DNSFacts:
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    cname: tuple[str, ...] = ()
    error: str | None = None


async def dns_facts(host: str, *, resolver: dns.asyncresolver.Resolver) -> DNSFacts | None:
    """Query the three record types; None for IP-literal hosts (nothing to resolve)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    a, aaaa, cname = await asyncio.gather(*(_query(host, t, resolver) for t in ("A", "AAAA", "CNAME")))
    for answer in (a, aaaa, cname):
        if isinstance(answer, str):
            return DNSFacts(error=answer)
    assert not isinstance(a, str) and not isinstance(aaaa, str) and not isinstance(cname, str)
    return DNSFacts(a=a, aaaa=aaaa, cname=cname)


async def _query(host: str, rdtype: str, resolver: dns.asyncresolver.Resolver) -> tuple[str, ...] | str:
    """The sorted answers, or the error as a string."""
    try:
        answer = await resolver.resolve(host, rdtype)
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return ()
    except dns.exception.DNSException as exc:
        return f"{rdtype} lookup failed: {type(exc).__name__}: {exc}"[:300]
    return tuple(sorted(_text(r.to_text(), rdtype) for r in answer))


def _text(value: str, rdtype: str) -> str:
    if rdtype == "CNAME":
        return value.lower().rstrip(".")
    return str(ipaddress.ip_address(value))


def dns_problems(expect: DNSExpectations, facts: DNSFacts | None) -> list[str]:
    """Differences from the expected answers; record types left empty in the expectations are not checked."""
    if facts is None or expect.empty:
        return []
    if facts.error:
        return []  # the lookup failed: nothing was observed, which is not a change
    problems = []
    for name, wanted, got in (
        ("A", expect.a, facts.a),
        ("AAAA", expect.aaaa, facts.aaaa),
        ("CNAME", expect.cname, facts.cname),
    ):
        if wanted and tuple(sorted(wanted)) != tuple(sorted(got)):
            problems.append(f"{name} answers changed: expected {', '.join(wanted)}, got {', '.join(got) or 'none'}")
    return problems
