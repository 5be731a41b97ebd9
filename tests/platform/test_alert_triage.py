"""Assigning alerts to people by name, the list's assignee filters, and bulk triage (service layer)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.accounts.models import User
from mamori.alerts import service as alerts
from mamori.alerts.enums import Resolution
from mamori.alerts.models import Alert, AlertComment
from mamori.alerts.schemas import AlertFilter, BulkTriage, TriageAction
from mamori.audit.models import AuditEntry
from mamori.core.errors import NotFound, PermissionDenied, ValidationFailed
from mamori.storage.db import Database
from tests.conftest import seed_tenants
from tests.platform.test_alerts import det, who


def user_id(db: Database, username: str) -> int:
    with db.session() as s:
        found = s.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def scanner_alerts(db: Database, n: int, *, org: str = "mof", first: int = 0) -> list[int]:
    with db.session() as s:
        folded = alerts.fold(s, [det(first + i, org=org, ip=f"192.0.2.{first + i}") for i in range(n)])
        return [f.alert.id for f in folded]


def test_an_alert_can_be_given_to_whoever_may_triage_its_ministry(db: Database) -> None:
    seed_tenants(db)
    (alert_id,) = scanner_alerts(db, 1)
    with db.session() as s:  # a deactivated analyst is nobody to hand work to
        gone = s.scalar(select(User).where(User.username == "national_analyst-mofa"))
        assert gone is not None
        gone.active = False
    with db.session() as s:
        names = [u.username for u in alerts.assignees_for(s, principal=who(db, "org_officer-mof"), alert_id=alert_id)]
    assert "national_analyst-ncc" in names and "org_officer-mof" in names
    assert not [n for n in names if n.endswith("-mofa")]  # never another ministry's people
    assert "auditor-mof" not in names and "trainer-ncc" not in names  # may not triage
    assert names == sorted(names)
    with pytest.raises(NotFound), db.session() as s:  # the other ministry does not learn the alert exists
        alerts.assignees_for(s, principal=who(db, "org_officer-mofa"), alert_id=alert_id)
    with pytest.raises(PermissionDenied), db.session() as s:  # sees it, may not triage it
        alerts.assignees_for(s, principal=who(db, "auditor-mof"), alert_id=alert_id)


def test_the_list_filters_by_assignee_me_and_unassigned(db: Database) -> None:
    seed_tenants(db)
    mine, analysts, nobodys = scanner_alerts(db, 3)
    officer = who(db, "org_officer-mof")
    analyst = user_id(db, "national_analyst-ncc")
    with db.session() as s:
        alerts.triage(
            s, principal=officer, alert_id=mine, action=TriageAction(action="assign", assignee_id=officer.user_id)
        )
        alerts.triage(
            s, principal=officer, alert_id=analysts, action=TriageAction(action="assign", assignee_id=analyst)
        )

    def ids(wanted: str) -> list[int]:
        with db.session() as s:
            rows, total = alerts.list_(s, principal=officer, filters=AlertFilter(assignee=wanted))
            assert total == len(rows)
            return [a.id for a in rows]

    assert ids("me") == [mine]
    assert ids("none") == [nobodys]
    assert ids(str(analyst)) == [analysts]
    assert sorted(ids("")) == sorted([mine, analysts, nobodys])
    with db.session() as s:
        assert alerts.people_named(s, user_ids=[analyst, None]) == {analyst: "national_analyst-ncc"}


def test_bulk_close_closes_each_alert_it_may_and_reports_the_others_by_id(db: Database) -> None:
    seed_tenants(db)
    ours = scanner_alerts(db, 3)
    (theirs,) = scanner_alerts(db, 1, org="mofa", first=10)
    officer = who(db, "org_officer-mof")
    with db.session() as s:  # one of ours is closed already
        closing = alerts.close_as(Resolution.DUPLICATE, reason="seen twice")
        alerts.triage(s, principal=officer, alert_id=ours[2], action=closing)
    request = BulkTriage(
        ids=[ours[0], ours[1], ours[2], theirs, 999_999, ours[0]],
        action="close",
        resolution=Resolution.BENIGN_POSITIVE,
        comment="Our own scheduled scanner",
    )
    with db.session() as s:
        result = alerts.bulk_triage(s, principal=officer, request=request)
    assert (result.done, result.failed) == (2, 3)
    by_id = {r.id: r for r in result.results}
    assert len(result.results) == 5  # a repeated id is done once
    assert by_id[ours[0]].ok and by_id[ours[0]].status == "closed"
    assert by_id[ours[2]].error == "Conflict"
    assert by_id[theirs].error == "NotFound" and by_id[999_999].error == "NotFound"
    with db.session() as s:
        assert s.get(Alert, theirs).status == "new"  # type: ignore[union-attr]
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.close")).all()
        closes = [e for e in entries if e.details.get("bulk")]
        assert sorted(int(e.object_id) for e in closes) == sorted(ours[:2])  # audited one by one
        assert all(e.details["comment"] == "Our own scheduled scanner" for e in closes)
        assert s.scalar(select(func.count()).where(AlertComment.body == "Our own scheduled scanner")) == 2


def test_bulk_close_needs_a_resolution_and_a_reason_and_changes_nothing_without(db: Database) -> None:
    seed_tenants(db)
    ours = scanner_alerts(db, 2)
    officer = who(db, "org_officer-mof")
    for missing in (
        BulkTriage(ids=ours, action="close", resolution=Resolution.FALSE_POSITIVE),
        BulkTriage(ids=ours, action="close", resolution=Resolution.FALSE_POSITIVE, comment="   "),
        BulkTriage(ids=ours, action="close", comment="why"),
    ):
        with pytest.raises(ValidationFailed), db.session() as s:
            alerts.bulk_triage(s, principal=officer, request=missing)
    with db.session() as s:
        assert {a.status for a in s.scalars(select(Alert))} == {"new"}


def test_bulk_acknowledge_and_assign_and_never_to_another_ministrys_officer(db: Database) -> None:
    seed_tenants(db)
    ours = scanner_alerts(db, 3)
    officer = who(db, "org_officer-mof")
    with db.session() as s:
        acked = alerts.bulk_triage(s, principal=officer, request=BulkTriage(ids=ours, action="acknowledge"))
    assert acked.done == 3
    outsider = user_id(db, "org_officer-mofa")
    with db.session() as s:
        refused = alerts.bulk_triage(
            s, principal=officer, request=BulkTriage(ids=ours, action="assign", assignee_id=outsider)
        )
    assert refused.done == 0 and {r.error for r in refused.results} == {"ValidationFailed"}
    analyst = user_id(db, "national_analyst-ncc")
    with db.session() as s:
        given = alerts.bulk_triage(
            s, principal=officer, request=BulkTriage(ids=ours, action="assign", assignee_id=analyst)
        )
    assert given.done == 3
    with db.session() as s:
        assert {(a.status, a.assignee_id) for a in s.scalars(select(Alert))} == {("acknowledged", analyst)}
