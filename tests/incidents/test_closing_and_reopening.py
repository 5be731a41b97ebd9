"""Closing an incident ends the response on it; closed incidents are found again; reopening needs a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.models import AccessGrant
from mamori.audit.models import AuditEntry
from mamori.cases import roster
from mamori.cases import service as response
from mamori.cases.models import AssistanceRequest, Deployment
from mamori.cases.schemas import DecisionIn, ProfileIn, RequestIn
from mamori.core.errors import NotFound, ValidationFailed
from mamori.core.severity import Severity
from mamori.incidents import service as incidents
from mamori.incidents import timeline
from mamori.incidents.enums import Category, Phase, Resolution
from mamori.incidents.errors import ReasonRequired
from mamori.incidents.models import Incident
from mamori.incidents.schemas import IncidentFilter, IncidentIn, TransitionIn
from mamori.platform import Platform
from mamori.storage.db import Database
from tests.conftest import login
from tests.incidents.conftest import user_id, who

CLOSE = TransitionIn(phase=Phase.CLOSED, resolution=Resolution.RESOLVED, note="site restored", reason="restored")


def deployed_incident(s: Session, org: str = "mofa") -> tuple[int, int, int]:
    """An incident of `org` with responder-mof deployed on it; returns (incident, deployment, responder)."""
    officer, lead = who(s, f"org_officer-{org}"), who(s, "national_analyst-ncc")
    responder = user_id(s, "responder-mof")
    roster.upsert(s, principal=who(s, "admin-ncc"), data=ProfileIn(user_id=responder, home_org_id="mof", max_load=2))
    inc = incidents.create(s, principal=officer, data=IncidentIn(org_id=org, title="Portal defaced"))
    req = response.request(s, principal=officer, incident_id=inc.id, data=RequestIn(reason="help"))
    response.decide(s, principal=lead, request_id=req.id, data=DecisionIn(approve=True))
    deployment = response.deploy(s, principal=lead, request_id=req.id, user_id=responder)
    return inc.id, deployment.id, responder


def test_closing_releases_deployed_responders_and_ends_their_access(tenants: Database) -> None:
    with tenants.session() as s:
        incident_id, deployment_id, responder = deployed_incident(s)
        waiting = incidents.create(s, principal=who(s, "org_officer-mofa"), data=IncidentIn(org_id="mofa", title="w"))
        pending = response.request(s, principal=who(s, "org_officer-mofa"), incident_id=waiting.id,
                                   data=RequestIn(reason="later"))  # fmt: skip
        load = {e.user_id: e.load for e in roster.entries(s, principal=who(s, "admin-ncc"))}
        assert load[responder] == 1
    with tenants.session() as s:
        assert incidents.get(s, principal=who(s, "responder-mof"), incident_id=incident_id).id == incident_id
        response.transition(s, principal=who(s, "org_officer-mofa"), incident_id=incident_id, data=CLOSE)
        response.transition(
            s,
            principal=who(s, "org_officer-mofa"),
            incident_id=waiting.id,
            data=TransitionIn(phase=Phase.CLOSED, resolution=Resolution.DUPLICATE, reason="same as the portal one"),
        )
    with tenants.session() as s:
        me = who(s, "responder-mof")
        assert me.incident_grants == frozenset()
        with pytest.raises(NotFound):
            incidents.get(s, principal=me, incident_id=incident_id)
        deployment = s.get(Deployment, deployment_id)
        assert deployment is not None and deployment.released_at is not None
        assert deployment.released_by == "org_officer-mofa"
        load = {e.user_id: e.load for e in roster.entries(s, principal=who(s, "admin-ncc"))}
        active = s.scalar(select(func.count()).where(Deployment.user_id == responder, Deployment.released_at.is_(None)))
        assert load[responder] == active == 0  # the roster's counter equals a direct count
        statuses = {i: st for i, st in s.execute(select(AssistanceRequest.incident_id, AssistanceRequest.status))}
        assert statuses == {incident_id: "closed", waiting.id: "closed"}  # the waiting one is withdrawn
        assert s.get(AssistanceRequest, pending.id).decision_note.startswith("withdrawn")  # type: ignore[union-attr]
        audit = s.execute(
            select(AuditEntry.action, AuditEntry.details)
            .where(AuditEntry.action.in_(["assistance.release", "grant.revoke", "assistance.withdraw"]))
            .order_by(AuditEntry.id)
        ).all()
        assert [a for a, _ in audit] == ["grant.revoke", "assistance.release", "assistance.withdraw"]
        assert audit[1][1]["reason"] == f"incident {incident_id} closed"
        assert s.scalar(select(func.count()).where(AccessGrant.revoked_at.is_(None))) == 0
        officer = who(s, "org_officer-mofa")
        texts = [e.text for e in timeline.list_(s, principal=officer, incident_id=incident_id)]
        assert f"Responder responder-mof released (incident {incident_id} closed)" in texts


def test_reopening_needs_a_reason_recorded_in_timeline_and_audit(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mofa")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="x"))
        response.transition(s, principal=officer, incident_id=inc.id, data=CLOSE)
        for reason in ("", "  "):
            with pytest.raises(ReasonRequired, match="needs a reason"):
                response.transition(
                    s, principal=officer, incident_id=inc.id, data=TransitionIn(phase=Phase.TRIAGE, reason=reason)
                )
        assert s.get(Incident, inc.id).phase == "closed"  # type: ignore[union-attr]
        response.transition(
            s,
            principal=officer,
            incident_id=inc.id,
            data=TransitionIn(phase=Phase.TRIAGE, reason="re-defaced at 04:00"),
        )
        assert s.get(Incident, inc.id).phase == "triage"  # type: ignore[union-attr]
        texts = [e.text for e in timeline.list_(s, principal=officer, incident_id=inc.id)]
        assert "Reopened (closed → triage), reason: re-defaced at 04:00" in texts
        details = s.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "incident.transition").order_by(AuditEntry.id)
        ).all()
        assert details[-1]["reason"] == "re-defaced at 04:00" and details[-1]["reopened"] is True


def close_at(s: Session, incident_id: int, when: datetime) -> None:
    officer = who(s, "org_officer-mof")
    response.transition(s, principal=officer, incident_id=incident_id, data=CLOSE)
    row = s.get(Incident, incident_id)
    assert row is not None
    row.closed_at = when


def test_closed_incidents_are_searched_and_filtered(tenants: Database) -> None:
    day = datetime(2026, 10, 5, 23, 30, tzinfo=UTC)
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        made = {}
        for title, category, severity, closed in [
            ("Tax portal defaced", Category.DEFACEMENT, Severity.HIGH, day),
            ("DDoS on 100%_ready page", Category.DDOS, Severity.MEDIUM, day + timedelta(days=1)),
            ("Phishing wave", Category.PHISHING, Severity.HIGH, day + timedelta(days=10)),
        ]:
            inc = incidents.create(
                s, principal=officer, data=IncidentIn(org_id="mof", title=title, category=category, severity=severity)
            )
            close_at(s, inc.id, closed)
            made[title] = inc.id
        still_open = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="Tax portal slow"))
        incidents.create(s, principal=who(s, "org_officer-mofa"), data=IncidentIn(org_id="mofa", title="Tax x"))

        def ids(**kw: object) -> list[int]:
            rows, _ = incidents.list_(s, principal=officer, filters=IncidentFilter(phase=Phase.CLOSED, **kw))
            return [r.id for r in rows]

        assert ids(q="tax") == [made["Tax portal defaced"]]  # not the open one, not mofa's
        assert ids(q="100%_") == [made["DDoS on 100%_ready page"]]  # % and _ are literal
        assert ids(q="0%") == [made["DDoS on 100%_ready page"]]
        assert ids(q=f"#{made['Phishing wave']}") == [made["Phishing wave"]]  # the reference
        assert ids(category=Category.DDOS) == [made["DDoS on 100%_ready page"]]
        assert ids(severity=Severity.HIGH) == [made["Phishing wave"], made["Tax portal defaced"]]
        assert ids(closed_from=date(2026, 10, 5), closed_to=date(2026, 10, 6)) == [
            made["DDoS on 100%_ready page"],
            made["Tax portal defaced"],
        ]
        assert ids(closed_to=date(2026, 10, 5)) == [made["Tax portal defaced"]]  # the whole last day
        assert ids(closed_from=date(2026, 10, 7)) == [made["Phishing wave"]]
        with pytest.raises(ValidationFailed, match="first day comes after"):
            ids(closed_from=date(2026, 10, 7), closed_to=date(2026, 10, 6))
        first, cursor = incidents.list_(s, principal=officer, filters=IncidentFilter(phase=Phase.CLOSED, limit=2))
        rest, end = incidents.list_(
            s, principal=officer, filters=IncidentFilter(phase=Phase.CLOSED, limit=2, before_id=cursor)
        )
        assert [r.id for r in [*first, *rest]] == sorted(made.values(), reverse=True) and end is None
        assert incidents.count(s, principal=officer, filters=IncidentFilter(phase=Phase.CLOSED)) == 3
        assert still_open.id not in ids()


def test_the_api_closes_lists_closed_and_refuses_a_reopen_without_reason(
    client: TestClient, platform: Platform
) -> None:
    with platform.db.session() as s:
        incident_id, _, _ = deployed_incident(s, org="mof")
    login(client, "responder-mof")
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 200
    client.cookies.clear()
    login(client, "org_officer-mof")
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/transition",
        json={"phase": "closed", "resolution": "resolved", "reason": "restored"},
    )
    assert closed.status_code == 200, closed.text
    listed = client.get("/api/v1/incidents", params={"phase": "closed", "q": "portal", "closed_from": "2000-01-01"})
    assert [i["id"] for i in listed.json()["items"]] == [incident_id]
    assert client.get("/api/v1/incidents", params={"phase": "closed", "q": "nothing"}).json()["items"] == []
    bad = client.get("/api/v1/incidents", params={"closed_from": "2026-10-07", "closed_to": "2026-10-06"})
    assert bad.status_code == 422 and bad.json()["where"] == "closed_from"
    refused = client.post(f"/api/v1/incidents/{incident_id}/transition", json={"phase": "triage"})
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "ReasonRequired",
        "message": "reopening a closed incident needs a reason",
        "where": "reason",
        "fields": [{"loc": "reason", "message": "reopening a closed incident needs a reason"}],
    }
    # the console form answers the same refusal as a page, not a server error
    page = client.post(f"/incidents/{incident_id}/transition", data={"phase": "triage", "reason": ""})
    assert page.status_code == 422 and "needs a reason" in page.text
    client.cookies.clear()
    login(client, "responder-mof")
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 404


def test_the_closed_list_page_refuses_bad_filters_clearly(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    for params in ({"closed_from": "yesterday"}, {"category": "<b>x</b>"}, {"severity": "huge"}):
        got = client.get("/incidents/closed", params=params)
        assert got.status_code == 422 and "<b>x</b>" not in got.text, (params, got.status_code)
    assert client.get("/incidents/closed", params={"q": "<script>x</script>"}).status_code == 200


def test_the_api_refuses_to_close_without_a_reason_and_changes_nothing(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        incident_id, deployment_id, _ = deployed_incident(s, org="mof")
        officer = who(s, "org_officer-mof")
        waiting = response.request(s, principal=officer, incident_id=incident_id, data=RequestIn(reason="more help"))
    login(client, "org_officer-mof")
    url = f"/api/v1/incidents/{incident_id}/transition"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        refused = client.post(url, json={"phase": "closed", "resolution": "resolved", **body})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "ReasonRequired" and refused.json()["where"] == "reason"
        assert refused.json()["message"] == "closing an incident needs a reason"
    with platform.db.session() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None and incident.phase == "triage" and incident.closed_at is None
        deployment = s.get(Deployment, deployment_id)
        assert deployment is not None and deployment.released_at is None  # the responder is still deployed
        assert s.scalar(select(func.count()).where(AccessGrant.revoked_at.is_(None))) == 1
        assert s.get(AssistanceRequest, waiting.id).status == "requested"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).where(AuditEntry.action == "incident.transition")) == 0
    client.cookies.clear()
    login(client, "responder-mof")
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 200  # access not ended


def test_the_api_closes_with_a_reason_kept_in_audit_and_timeline(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        incident_id, deployment_id, _ = deployed_incident(s, org="mof")
    login(client, "org_officer-mof")
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/transition",
        json={"phase": "closed", "resolution": "resolved", "reason": " Site restored, admin behind VPN ", "note": "ok"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == "closed" and closed.json()["resolution"] == "resolved"
    with platform.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "incident.transition"))
        assert entry is not None and entry.actor == "org_officer-mof"
        assert entry.details["to"] == "closed" and entry.details["reason"] == "Site restored, admin behind VPN"
        officer = who(s, "org_officer-mof")
        texts = [e.text for e in timeline.list_(s, principal=officer, incident_id=incident_id)]
        assert "Phase triage → closed as resolved, reason: Site restored, admin behind VPN: ok" in texts
        deployment = s.get(Deployment, deployment_id)
        assert deployment is not None and deployment.released_at is not None
