"""Uptime and latency of one site over recent days, from its stored checks (for charts and the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.websites import service
from mamori.websites.availability import LatencyPoint, Sample, latency_history, uptime
from mamori.websites.models import WebsiteCheck

MAX_SAMPLES = 20_000  # a site checked every 30 s has this many checks in a week


@dataclass(frozen=True)
class SiteHistory:
    uptime_24h: float | None
    uptime_7d: float | None
    latency: list[LatencyPoint]  # hourly buckets over the window
    start: datetime
    end: datetime


def history(session: Session, *, principal: Principal, site_id: int, now: datetime, days: int = 7) -> SiteHistory:
    site = service.get(session, principal=principal, site_id=site_id)
    start = now - timedelta(days=days)
    rows = session.execute(
        select(WebsiteCheck.checked_at, WebsiteCheck.up, WebsiteCheck.latency_ms)
        .where(WebsiteCheck.website_id == site.id, WebsiteCheck.checked_at >= start)
        .order_by(WebsiteCheck.checked_at.desc())
        .limit(MAX_SAMPLES)
    ).all()
    before = session.execute(
        select(WebsiteCheck.checked_at, WebsiteCheck.up)
        .where(WebsiteCheck.website_id == site.id, WebsiteCheck.checked_at < start)
        .order_by(WebsiteCheck.checked_at.desc())
        .limit(1)
    ).first()
    samples = [Sample(at, up, latency) for at, up, latency in rows]
    if before is not None:
        samples.append(Sample(before[0], before[1]))
    return SiteHistory(
        uptime_24h=uptime(samples, start=now - timedelta(days=1), end=now),
        uptime_7d=uptime(samples, start=start, end=now),
        latency=latency_history(samples, bucket=timedelta(hours=1), origin=start),
        start=start,
        end=now,
    )
