"""Facts about the certificate a site presented, read from the TLS connection the check itself used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from mamori.websites.schemas import TLSExpectations


@dataclass(frozen=True, slots=True)
class TLSFacts:
    issuer: str  # RFC 4514 string of the issuer name
    subject: str
    not_before: datetime
    not_after: datetime
    days_left: int
    names: tuple[str, ...]  # subject alternative DNS names
    version: str | None = None  # negotiated protocol, e.g. "TLSv1.3"


def facts_from_der(der: bytes, *, now: datetime, version: str | None = None) -> TLSFacts:
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = tuple(san.get_values_for_type(x509.DNSName)) if isinstance(san, x509.SubjectAlternativeName) else ()
    except x509.ExtensionNotFound:
        names = ()
    return TLSFacts(
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=int((not_after - now.astimezone(UTC)).total_seconds() // 86_400),
        names=names,
        version=version,
    )


def common_name(rfc4514: str) -> str:
    """The CN of an RFC 4514 name string, for short display."""
    for part in x509.Name.from_rfc4514_string(rfc4514).get_attributes_for_oid(NameOID.COMMON_NAME):
        return str(part.value)
    return rfc4514


def tls_problems(expect: TLSExpectations, facts: TLSFacts | None, *, https: bool) -> list[str]:
    """What is wrong with the certificate against the site's expectations (empty when all is well)."""
    if facts is None:
        return ["no certificate was presented"] if https else []
    problems = []
    if facts.days_left < 0:
        problems.append(f"certificate expired on {facts.not_after:%Y-%m-%d}")
    elif facts.days_left <= expect.expiry_warning_days:
        problems.append(f"certificate expires in {facts.days_left} days ({facts.not_after:%Y-%m-%d})")
    if expect.issuer_contains and expect.issuer_contains.lower() not in facts.issuer.lower():
        problems.append(f"certificate issued by {facts.issuer!r}, expected {expect.issuer_contains!r}")
    return problems
