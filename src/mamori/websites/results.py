"""What one check of one site found: the record the lead's ``Check`` table stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mamori.websites.dnsfacts import DNSFacts
from mamori.websites.integrity import Verdict
from mamori.websites.tlsfacts import TLSFacts


class FailureKind(StrEnum):
    REFUSED = "refused"  # the SSRF guard refused the URL or an address
    DNS = "dns"  # the name did not resolve
    CONNECT = "connect"
    TLS = "tls"  # handshake or certificate verification failed
    TIMEOUT = "timeout"
    PROTOCOL = "protocol"  # the server spoke broken HTTP
    REDIRECTS = "redirects"  # too many redirects, or a redirect without a usable Location
    STATUS = "status"  # answered, but not with the expected status


@dataclass(frozen=True, slots=True)
class CheckLimits:
    """Resource limits of the checker (shared by all sites)."""

    max_connections: int = 256  # requests in flight at once (each on its own connection)
    max_body_bytes: int = 5 * 1024 * 1024  # decoded bytes: a compressed bomb stops here too
    max_redirects: int = 5
    max_subresources: int = 20
    analyse_in_thread_from: int = 256 * 1024  # bytes; larger pages are analysed off the event loop
    record_dns: bool = True  # query A/AAAA/CNAME on every check, not only when the site sets expectations
    user_agent: str = "mamori-website-watch/0.1"


@dataclass(frozen=True, slots=True)
class CheckResult:
    site_id: str
    org: str
    url: str
    checked_at: datetime
    up: bool
    status: int | None = None
    latency_ms: float | None = None  # request sent -> last body byte of the final hop
    size: int = 0  # decoded body bytes read (at most CheckLimits.max_body_bytes)
    truncated: bool = False
    redirects: tuple[str, ...] = ()  # every Location followed, in order
    final_url: str = ""
    failure: FailureKind | None = None
    error: str | None = None
    tls: TLSFacts | None = None
    tls_problems: tuple[str, ...] = ()
    dns: DNSFacts | None = None
    dns_problems: tuple[str, ...] = ()
    verdict: Verdict | None = None  # None when there was no baseline or no page to compare
    body_sha256: str | None = None
    body: bytes = field(default=b"", repr=False)
    resources: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # same-site scripts/styles
