"""What the watch worker writes after each check: the check row, the site's state, kept pages.

These functions act for the platform (no principal); the worker calls them in one transaction together
with folding the check's detections into alerts, so a check, its state and its alerts commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.websites.detections import WatchOutcome, WatchState
from mamori.websites.enums import Integrity, SnapshotKind, SnapshotStatus
from mamori.websites.models import Website, WebsiteBaseline, WebsiteCheck, WebsiteSnapshot
from mamori.websites.results import CheckResult
from mamori.websites.state import to_json
from mamori.websites.storage import PageStores

CONTENT_KINDS = frozenset({"defaced", "foreign_script", "link_spam", "subresource_changed"})


def enabled(session: Session) -> Sequence[Website]:
    return session.scalars(select(Website).where(Website.enabled.is_(True)).order_by(Website.id)).all()


def record_check(
    session: Session,
    *,
    website: Website,
    result: CheckResult,
    previous: WatchState,
    outcome: WatchOutcome,
    stores: PageStores,
) -> WebsiteCheck:
    if result.up and result.body_sha256:
        website.latest_sha256 = stores.latest.put(website.uid, result.body)
    integrity = _integrity(website, result, outcome)
    kind = _keep_as(website, previous, outcome, integrity) if result.body else None
    snapshot = _keep(session, website, result, stores, kind) if kind else None
    check = WebsiteCheck(website_id=website.id, org_id=website.org_id, snapshot_id=snapshot.id if snapshot else None)
    for name, value in _columns(result).items():
        setattr(check, name, value)
    check.availability = outcome.state.availability.status.value
    session.add(check)
    website.watch_state = to_json(outcome.state)
    website.availability = check.availability
    website.integrity = integrity.value
    website.last_checked_at = result.checked_at
    website.last_latency_ms = result.latency_ms
    website.last_error = result.error
    return check


def _columns(result: CheckResult) -> dict[str, Any]:
    tls, dns, verdict = result.tls, result.dns, result.verdict
    return {
        "checked_at": result.checked_at,
        "up": result.up,
        "status": result.status,
        "latency_ms": result.latency_ms,
        "size": result.size,
        "failure": str(result.failure) if result.failure else None,
        "error": result.error,
        "redirects": list(result.redirects),
        "final_url": result.final_url[:2000],
        "tls": {}
        if tls is None
        else {
            "issuer": tls.issuer,
            "subject": tls.subject,
            "not_after": tls.not_after.isoformat(),
            "days_left": tls.days_left,
            "version": tls.version,
        },
        "dns": {}
        if dns is None
        else {"a": list(dns.a), "aaaa": list(dns.aaaa), "cname": list(dns.cname), "error": dns.error},
        "problems": [*result.tls_problems, *result.dns_problems],
        "score": verdict.score if verdict else None,
        "defaced": verdict.defaced if verdict else None,
        "reasons": list(verdict.reasons) if verdict else [],
        "body_sha256": result.body_sha256,
    }


def _integrity(website: Website, result: CheckResult, outcome: WatchOutcome) -> Integrity:
    if outcome.state.active & CONTENT_KINDS:
        return Integrity.DEFACED
    if result.verdict is None:  # nothing compared this time: keep what the last comparison said
        return Integrity(website.integrity) if website.integrity != Integrity.DEFACED else Integrity.UNKNOWN
    return Integrity.CHANGED if result.verdict.score > 0 else Integrity.OK


def _keep_as(website: Website, previous: WatchState, outcome: WatchOutcome, now: Integrity) -> SnapshotKind | None:
    """Which page to keep, once per episode (a page carrying a fresh token per request must not add a blob to
    the store at every check): the page a content problem *started* on, as evidence; the first page of a
    change below the defacement line, as suspicious, for a person to review and perhaps approve."""
    if (outcome.state.active - previous.active) & CONTENT_KINDS:
        return SnapshotKind.EVIDENCE
    if now is Integrity.CHANGED and website.integrity != Integrity.CHANGED:
        return SnapshotKind.SUSPICIOUS
    return None


def _keep(
    session: Session, website: Website, result: CheckResult, stores: PageStores, kind: SnapshotKind
) -> WebsiteSnapshot:
    stored = stores.snapshots.save(
        site_id=website.uid,
        url=website.url,
        html=result.body,
        resources=result.resources,
        taken_at=result.checked_at,
        status=SnapshotStatus.SUSPICIOUS,  # in the store: never handed out as a restore bundle
    )
    row = WebsiteSnapshot(
        website_id=website.id,
        org_id=website.org_id,
        store_id=stored.id,
        html_sha256=stored.html_sha256,
        kind=kind.value,
        taken_at=result.checked_at,
    )
    session.add(row)
    session.flush()
    return row


def learn(session: Session, *, baseline_id: int, paths: frozenset[str]) -> None:
    """Remember dynamic regions learned from clean fetches (machine state, like a check: not audited)."""
    row = session.get(WebsiteBaseline, baseline_id)
    if row is not None:
        row.volatile_paths = sorted(paths)


def baseline_source(session: Session, *, website: Website) -> tuple[WebsiteBaseline, str] | None:
    """The baseline in force and the hash of its page, for the worker to load and cache."""
    row = session.scalar(
        select(WebsiteBaseline)
        .where(WebsiteBaseline.website_id == website.id)
        .order_by(WebsiteBaseline.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    snapshot = session.get(WebsiteSnapshot, row.snapshot_id)
    return None if snapshot is None else (row, snapshot.html_sha256)


def prune(session: Session, *, before: datetime) -> int:
    """Forget check rows older than ``before`` (kept pages and approvals stay)."""
    result = session.execute(delete(WebsiteCheck).where(WebsiteCheck.checked_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
