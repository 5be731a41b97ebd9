"""DNS answers for a site's name (A, AAAA, CNAME) and how they differ from what the site expects."""

from __future__ import annotations

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
    answers: dict[str, tuple[str, ...]] = {}
    for rdtype in ("A", "AAAA", "CNAME"):
        try:
            answer = await resolver.resolve(host, rdtype)
            answers[rdtype] = tuple(sorted(_text(r.to_text(), rdtype) for r in answer))
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            answers[rdtype] = ()
        except dns.exception.DNSException as exc:
            return DNSFacts(error=f"{rdtype} lookup failed: {type(exc).__name__}: {exc}"[:300])
    return DNSFacts(a=answers["A"], aaaa=answers["AAAA"], cname=answers["CNAME"])


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
