"""Tables of the website watch: the registry, check results, kept pages and baseline approvals.

Page bytes never go into the database: snapshot rows point at the content-addressed
:class:`~mamori.websites.snapshots.SnapshotStore` by SHA-256, which re-verifies every byte it hands back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mamori.storage.db import Base, UTCDateTime, utcnow


class Website(Base):
    __tablename__ = "websites"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The core's site id. Random, never reused: detection keys and snapshot folders are built from it, and a
    # recycled integer id would make a new site inherit an old site's alerts.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    interval_seconds: Mapped[int] = mapped_column(default=300)
    expectations: Mapped[dict[str, Any]] = mapped_column(default=dict)  # SiteExpectations fields not below
    allow_private: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # What the last check left behind (the worker's memory between checks, and the wall's colours).
    watch_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    availability: Mapped[str] = mapped_column(String(20), default="unknown")
    integrity: Mapped[str] = mapped_column(String(20), default="unknown")
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_latency_ms: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(String(500))
    latest_sha256: Mapped[str | None] = mapped_column(String(64))  # body of the last page fetched


class WebsiteSnapshot(Base):
    """A page kept in the snapshot store (``store_id`` is its manifest there)."""

    __tablename__ = "website_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    website_id: Mapped[int] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(64))
    html_sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebsiteCheck(Base):
    __tablename__ = "website_checks"
    __table_args__ = (Index("ix_website_checks_site_at", "website_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    website_id: Mapped[int] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"))
    org_id: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    up: Mapped[bool] = mapped_column()
    status: Mapped[int | None] = mapped_column()
    latency_ms: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int] = mapped_column(default=0)
    failure: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(500))
    redirects: Mapped[list[Any]] = mapped_column(default=list)
    final_url: Mapped[str] = mapped_column(String(2000), default="")
    tls: Mapped[dict[str, Any]] = mapped_column(default=dict)  # issuer, subject, not_after, days_left, version
    dns: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a, aaaa, cname, error
    problems: Mapped[list[Any]] = mapped_column(default=list)  # TLS and DNS problems, as sentences
    score: Mapped[float | None] = mapped_column(Float)
    defaced: Mapped[bool | None] = mapped_column()
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    availability: Mapped[str] = mapped_column(String(20))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("website_snapshots.id", ondelete="SET NULL"))


class WebsiteBaseline(Base):
    """One approval: from ``approved_at`` on, checks compare with this snapshot. The newest row is in force."""

    __tablename__ = "website_baselines"

    id: Mapped[int] = mapped_column(primary_key=True)
    website_id: Mapped[int] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("website_snapshots.id", ondelete="CASCADE"))
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    volatile_paths: Mapped[list[Any]] = mapped_column(default=list)  # learned dynamic regions (DOM paths)
    # The approval this baseline comes from (None only for baselines made before approvals were recorded).
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("website_approvals.id", ondelete="SET NULL"))


class WebsiteApproval(Base):
    """A request to make a page the baseline: who asked, why, what the verdict said, and who decided.

    Both pages stay referenced: the page approved (``snapshot_id``) and the baseline it would replace
    (``previous_snapshot_id``). A pending approval changes nothing: the watch keeps comparing with, and the
    restore bundle keeps handing out, the previous known-good page until a second person confirms.
    """

    __tablename__ = "website_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    website_id: Mapped[int] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("website_snapshots.id", ondelete="CASCADE"))
    previous_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("website_snapshots.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    verdict: Mapped[str] = mapped_column(String(20))  # the site's integrity when asked: ok / changed / defaced …
    verdict_score: Mapped[float | None] = mapped_column(Float)
    verdict_reasons: Mapped[list[Any]] = mapped_column(default=list)
    rebaseline: Mapped[bool] = mapped_column(default=False)  # back to an earlier known-good page
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))  # the second person, if one was needed
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
