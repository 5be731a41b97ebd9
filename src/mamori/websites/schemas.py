"""What a watched website is expected to look like: the input of every check.

The lead's ``Website`` model stores these fields; the checker only ever reads a :class:`SiteExpectations`.
Every model is frozen and validates itself, so a bad selector or URL is refused when the site is registered,
not at 3 a.m. in the middle of a check.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamori.websites.selectors import compile_selector


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DNSExpectations(_Frozen):
    """Answers the site's name must resolve to; an empty list means "not checked"."""

    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    cname: tuple[str, ...] = ()

    @field_validator("a", "aaaa")
    @classmethod
    def _ips(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(str(ipaddress.ip_address(v.strip())) for v in values))

    @field_validator("cname")
    @classmethod
    def _names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(v.strip().lower().rstrip(".") for v in values))

    @property
    def empty(self) -> bool:
        return not (self.a or self.aaaa or self.cname)


class TLSExpectations(_Frozen):
    issuer_contains: str | None = None  # e.g. "Let's Encrypt" or the national CA's name
    expiry_warning_days: int = Field(default=21, ge=0, le=365)


class ContentRules(_Frozen):
    """How to read the page: what is dynamic (ignored) and what must never change."""

    ignore_selectors: tuple[str, ...] = ()  # CSS selectors of dynamic regions (news ticker, clock)
    critical_selectors: tuple[str, ...] = ()  # CSS selectors of elements that must not change (logo, title)
    learn_volatile: bool = True  # learn dynamic regions by comparing successive known-good fetches
    fetch_subresources: bool = False  # also hash same-site scripts and stylesheets on every check

    @field_validator("ignore_selectors", "critical_selectors")
    @classmethod
    def _selectors(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for v in values:
            compile_selector(v)  # raises ValueError naming the selector
        return values


class SiteExpectations(_Frozen):
    site_id: str = Field(min_length=1, max_length=200)
    org: str = Field(min_length=1, max_length=200)
    url: str
    interval_seconds: int = Field(default=300, ge=10, le=86_400)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    expected_status: int = Field(default=200, ge=100, le=599)
    dns: DNSExpectations = DNSExpectations()
    tls: TLSExpectations = TLSExpectations()
    content: ContentRules = ContentRules()
    allowed_domains: tuple[str, ...] = ()  # external domains the page may load from (suffix match)
    allow_private: bool = False  # intranet site: private addresses are expected
    failures_before_alert: int = Field(default=3, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL with a host")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials")
        return value.strip()

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower().lstrip(".").rstrip(".") for v in values if v.strip())

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


# --- the registry's input and output (API, console, CLI) -------------------------------------------------
class WebsiteIn(_Frozen):
    """A site to watch. The expectation fields are validated by :class:`SiteExpectations` on the way in."""

    org_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000)
    interval_seconds: int = Field(default=300, ge=10, le=86_400)
    allow_private: bool = False
    enabled: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    expected_status: int = Field(default=200, ge=100, le=599)
    failures_before_alert: int = Field(default=3, ge=1, le=100)
    dns: DNSExpectations = DNSExpectations()
    tls: TLSExpectations = TLSExpectations()
    content: ContentRules = ContentRules()
    allowed_domains: tuple[str, ...] = ()


class WebsiteUpdate(_Frozen):
    """Fields to change; those left out keep their value. The organisation never changes."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    interval_seconds: int | None = Field(default=None, ge=10, le=86_400)
    allow_private: bool | None = None
    enabled: bool | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)
    expected_status: int | None = Field(default=None, ge=100, le=599)
    failures_before_alert: int | None = Field(default=None, ge=1, le=100)
    dns: DNSExpectations | None = None
    tls: TLSExpectations | None = None
    content: ContentRules | None = None
    allowed_domains: tuple[str, ...] | None = None
    reason: str | None = Field(default=None, max_length=2000)  # required to pause the watch (enabled: false)


class ApproveIn(_Frozen):
    """Approve the last fetched page, or (``snapshot_id``) go back to an earlier known-good snapshot.

    ``reason`` is required (blank is refused by the service). When the current verdict says the page is
    changed or defaced, ``confirm_changed`` must be true: the approval then waits for a second person.
    """

    snapshot_id: int | None = None
    reason: str = Field(max_length=500)
    confirm_changed: bool = False


class ApprovalDecisionIn(_Frozen):
    """A second person's confirmation or rejection of a pending approval; the reason is required."""

    reason: str = Field(max_length=500)


class WebsiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: str
    name: str
    url: str
    interval_seconds: int
    allow_private: bool
    enabled: bool
    expectations: dict[str, Any]
    created_by: str
    created_at: datetime
    availability: str
    integrity: str
    last_checked_at: datetime | None
    last_latency_ms: float | None
    last_error: str | None


class CheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    checked_at: datetime
    up: bool
    status: int | None
    latency_ms: float | None
    size: int
    failure: str | None
    error: str | None
    redirects: list[Any]
    final_url: str
    tls: dict[str, Any]
    dns: dict[str, Any]
    problems: list[Any]
    score: float | None
    defaced: bool | None
    reasons: list[Any]
    body_sha256: str | None
    availability: str
    snapshot_id: int | None


class BaselineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    snapshot_id: int
    approved_by: str
    approved_at: datetime
    note: str
    approval_id: int | None


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    snapshot_id: int
    previous_snapshot_id: int | None
    requested_by: str
    requested_at: datetime
    reason: str
    verdict: str
    verdict_score: float | None
    verdict_reasons: list[Any]
    rebaseline: bool
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str


class SnapshotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    html_sha256: str
    kind: str
    taken_at: datetime
