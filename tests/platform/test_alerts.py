from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mamori.accounts import service as accounts
from mamori.accounts.models import User
from mamori.alerts import service as alerts
from mamori.alerts import stats
from mamori.alerts.enums import Resolution
from mamori.alerts.models import Alert, AlertDetection, AlertEvent, DailyCount
from mamori.alerts.schemas import AlertFilter, TriageAction
from mamori.audit.models import AuditEntry
from mamori.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.storage.db import Database
from mamori.storage.outbox import OutboxMessage
from tests.conftest import seed_tenants

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def det(
    n: int,
    *,
    org: str = "mof",
    ip: str = "203.0.113.9",
    severity: Severity = Severity.HIGH,
    exercise: str | None = None,
) -> Detection:
    return Detection(
        producer="sigma",
        rule_id="r-sqli",
        rule_title="SQL injection attempt",
        severity=severity,
        org=org,
        timestamp=T0 + timedelta(minutes=n),
        entities={"src_ip": ip},
        events=({"@id": f"b:{n}", "c-uri": f"/q?id={n}'--"},),
        tags=("attack.initial-access",),
        exercise_id=exercise,
    )


def who(db: Database, username: str):  # type: ignore[no-untyped-def]
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.principal_for(s, user)


def test_repeats_fold_into_one_alert_and_redelivery_is_ignored(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        alerts.fold(s, [det(1), det(2), det(3, severity=Severity.CRITICAL)])
    with db.session() as s:
        assert alerts.fold(s, [det(1), det(2)]) == []  # same keys again: nothing changes
    with db.session() as s:
        (alert,) = s.scalars(select(Alert)).all()
        assert alert.count == 3 and alert.severity == "critical"
        assert alert.first_seen == T0 + timedelta(minutes=1) and alert.last_seen == T0 + timedelta(minutes=3)
        assert s.scalar(select(func.count()).select_from(AlertEvent)) == 3
        assert s.scalar(select(func.sum(DailyCount.count))) == 3
        # one change message per alert and batch (three detections of one new alert: "created" once)
        (message,) = s.scalars(select(OutboxMessage)).all()
        assert message.payload == {"alert_id": alert.id, "org": "mof", "change": "created"}


def test_other_entities_or_orgs_make_other_alerts_and_exercises_stay_out_of_statistics(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        alerts.fold(s, [det(1), det(2, ip="198.51.100.1"), det(3, org="mofa"), det(4, exercise="ex-1")])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 4
        assert s.scalar(select(func.sum(DailyCount.count))) == 3


def test_a_closed_alert_is_not_reopened_by_a_new_detection(db: Database) -> None:
    seed_tenants(db)
    analyst = who(db, "national_analyst-ncc")
    with db.session() as s:
        (folded,) = alerts.fold(s, [det(1)])
    with db.session() as s:
        alerts.triage(
            s,
            principal=analyst,
            alert_id=folded.alert.id,
            action=TriageAction(action="close", resolution=Resolution.TRUE_POSITIVE, comment="contained"),
        )
    with db.session() as s:
        (again,) = alerts.fold(s, [det(2)])
        assert again.created and again.alert.id != folded.alert.id


def test_triage_workflow_is_checked_and_audited(db: Database) -> None:
    seed_tenants(db)
    officer = who(db, "org_officer-mof")
    with db.session() as s:
        (folded,) = alerts.fold(s, [det(1)])
    alert_id = folded.alert.id
    with db.session() as s:
        alerts.triage(s, principal=officer, alert_id=alert_id, action=TriageAction(action="acknowledge"))
    with pytest.raises(Conflict), db.session() as s:
        alerts.triage(s, principal=officer, alert_id=alert_id, action=TriageAction(action="acknowledge"))
    with pytest.raises(ValidationFailed), db.session() as s:
        alerts.triage(s, principal=officer, alert_id=alert_id, action=TriageAction(action="close"))
    with (
        pytest.raises(ValidationFailed),
        db.session() as s,
    ):  # the other ministry's officer cannot be assignee
        other = s.scalar(select(User.id).where(User.username == "org_officer-mofa"))
        alerts.triage(s, principal=officer, alert_id=alert_id, action=TriageAction(action="assign", assignee_id=other))
    with db.session() as s:
        alerts.triage(
            s,
            principal=officer,
            alert_id=alert_id,
            action=TriageAction(action="close", resolution=Resolution.FALSE_POSITIVE, comment="tester"),
        )
    with db.session() as s:
        assert [c.body for c in alerts.comments_of(s, principal=officer, alert_id=alert_id)] == ["tester"]
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "alert")))
        assert actions == ["alert.acknowledge", "alert.close"]


def test_ministries_never_see_or_touch_each_others_alerts(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        (theirs,) = alerts.fold(s, [det(1, org="mofa")])
    officer, auditor = who(db, "org_officer-mof"), who(db, "auditor-mof")
    with db.session() as s:
        rows, total = alerts.list_(s, principal=officer, filters=AlertFilter())
        assert (list(rows), total) == ([], 0)
        rows, total = alerts.list_(s, principal=officer, filters=AlertFilter(org="mofa"))
        assert total == 0
        for call in (
            lambda: alerts.get(s, principal=officer, alert_id=theirs.alert.id),
            lambda: alerts.events_of(s, principal=officer, alert_id=theirs.alert.id),
        ):
            with pytest.raises(NotFound):
                call()
    with (
        pytest.raises(PermissionDenied),
        db.session() as s,
    ):  # an auditor of mof sees but cannot triage mof alerts
        (mine,) = alerts.fold(s, [det(2)])
        alerts.triage(s, principal=auditor, alert_id=mine.alert.id, action=TriageAction(action="acknowledge"))


def test_dashboard_counts_per_day_and_year_on_year(db: Database) -> None:
    seed_tenants(db)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    with db.session() as s:
        s.add(DailyCount(day=now.date(), org_id="mof", category="x", count=7))
        s.add(DailyCount(day=now.date().replace(year=2025), org_id="mof", category="x", count=3, demo=True))
        s.add(DailyCount(day=now.date() - timedelta(days=2), org_id="mofa", category="x", count=5))
    with db.session() as s:
        board = stats.dashboard(s, principal=who(db, "national_analyst-ncc"), now=now)
        assert (board.today, board.same_day_last_year, board.includes_demo_history) == (7, 3, True)
        assert board.per_org["mofa"][-3] == 5 and len(board.days) == 30
        mine = stats.dashboard(s, principal=who(db, "org_officer-mofa"), now=now)
        assert set(mine.per_org) == {"mofa"} and mine.today == 0


def test_a_later_batch_announces_a_repeat_once_per_alert(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        alerts.fold(s, [det(1)])
    with db.session() as s:
        alerts.fold(s, [det(2), det(3)])
    with db.session() as s:
        changes = [m.payload["change"] for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert changes == ["created", "repeat"]
        assert s.scalar(select(func.count()).select_from(AlertDetection)) == 3


def test_the_source_address_is_found_whatever_the_log_source_calls_it() -> None:
    """The dashboard's top sources and the live feed: a correlation over web logs names `c-ip`, a Windows
    logon `IpAddress`; both are attackers' addresses (they were missing from "top sources")."""
    assert alerts.source_address({"c-ip": "5.188.206.74"}) == "5.188.206.74"
    assert alerts.source_address({"IpAddress": "203.0.113.9", "TargetUserName": "admin"}) == "203.0.113.9"
    assert alerts.source_address({"src_ip": "198.51.100.1", "c-ip": "5.188.206.74"}) == "198.51.100.1"
    assert alerts.source_address({"IpAddress": "-", "SourceIp": "192.0.2.4"}) == "192.0.2.4"
    assert alerts.source_address({"IpAddress": "-"}) is None
    assert alerts.source_address({"TargetUserName": "admin"}) is None
