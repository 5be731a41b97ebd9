"""National statistics: potential attacks per day and organisation, year on year, top rules and sources."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.alerts.enums import AlertStatus
from mamori.alerts.models import Alert, DailyCount
from mamori.alerts.service import source_address


@dataclass
class Dashboard:
    days: list[date]
    per_org: dict[str, list[int]]  # org -> counts aligned with `days`
    today: int
    same_day_last_year: int
    includes_demo_history: bool
    top_rules: list[tuple[str, int]] = field(default_factory=list)
    top_sources: list[tuple[str, int]] = field(default_factory=list)
    open_by_org: dict[str, dict[str, int]] = field(default_factory=dict)  # org -> severity -> open alerts


def daily_series(session: Session, *, principal: Principal, until: date, days: int) -> dict[str, list[int]]:
    orgs = principal.require_any("stats.view")
    start = until - timedelta(days=days - 1)
    query = (
        select(DailyCount.org_id, DailyCount.day, func.sum(DailyCount.count))
        .where(DailyCount.day >= start, DailyCount.day <= until)
        .group_by(DailyCount.org_id, DailyCount.day)
    )
    if orgs is not None:
        query = query.where(DailyCount.org_id.in_(orgs))
    series: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for org, day, total in session.execute(query):
        series[org][(day - start).days] = int(total or 0)
    return dict(series)


def total_on(session: Session, *, principal: Principal, day: date) -> int:
    orgs = principal.require_any("stats.view")
    query = select(func.coalesce(func.sum(DailyCount.count), 0)).where(DailyCount.day == day)
    if orgs is not None:
        query = query.where(DailyCount.org_id.in_(orgs))
    return int(session.scalar(query) or 0)


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def dashboard(session: Session, *, principal: Principal, now: datetime, days: int = 30) -> Dashboard:
    today = now.date()
    per_org = daily_series(session, principal=principal, until=today, days=days)
    board = Dashboard(
        days=[today - timedelta(days=days - 1 - i) for i in range(days)],
        per_org=per_org,
        today=total_on(session, principal=principal, day=today),
        same_day_last_year=total_on(session, principal=principal, day=_same_day_last_year(today)),
        includes_demo_history=False,
    )
    if not principal.may_any("alerts.view"):  # a trainer sees the statistics, not the alerts behind them
        return board
    _add_alert_parts(session, principal=principal, board=board, now=now)
    return board


def _add_alert_parts(session: Session, *, principal: Principal, board: Dashboard, now: datetime) -> None:
    """Top rules and sources of the last 24 hours and open alerts per organisation, for callers who see alerts."""
    orgs = principal.visible_orgs("alerts.view")
    recent = select(Alert).where(Alert.last_seen >= now - timedelta(hours=24))
    open_q = (
        select(Alert.org_id, Alert.severity, func.count())
        .where(Alert.status != AlertStatus.CLOSED.value)
        .group_by(Alert.org_id, Alert.severity)
    )
    demo_q = select(func.count()).select_from(DailyCount).where(DailyCount.demo.is_(True))
    if orgs is not None:
        recent = recent.where(Alert.org_id.in_(orgs))
        open_q = open_q.where(Alert.org_id.in_(orgs))
        demo_q = demo_q.where(DailyCount.org_id.in_(orgs))
    rules: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for alert in session.scalars(recent.limit(5000)):
        rules[alert.rule_title] += alert.count
        src = source_address(alert.entities)
        if src:
            sources[str(src)] += alert.count
    open_by_org: dict[str, dict[str, int]] = defaultdict(dict)
    for org, severity, n in session.execute(open_q):
        open_by_org[org][severity] = int(n)
    board.includes_demo_history = bool(session.scalar(demo_q))
    board.top_rules = rules.most_common(10)
    board.top_sources = sources.most_common(10)
    board.open_by_org = dict(open_by_org)
