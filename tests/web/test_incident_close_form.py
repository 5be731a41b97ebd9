"""Closing an incident in the console over HTTP: Move → closed only asks (a confirmation page saying the
resolution, naming the responders who will be released and counting the requests withdrawn); nothing changes
until the confirmed form brings a reason, which then goes into the audit entry and the timeline."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.accounts.models import User
from mamori.audit.models import AuditEntry
from mamori.cases import service as response
from mamori.cases.models import AssistanceRequest, Deployment
from mamori.cases.schemas import RequestIn
from mamori.incidents import service as incidents
from mamori.incidents import timeline
from mamori.incidents.models import Incident
from mamori.incidents.schemas import IncidentIn
from mamori.platform import Platform
from tests.conftest import login
from tests.incidents.conftest import who
from tests.incidents.test_closing_and_reopening import deployed_incident


def state(platform: Platform, incident_id: int) -> tuple[str, int, int, int]:
    """(phase, deployed responders, waiting requests, transition audit entries) of the incident."""
    with platform.db.session() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        deployed = s.scalar(
            select(func.count()).where(Deployment.incident_id == incident_id, Deployment.released_at.is_(None))
        )
        waiting = s.scalar(
            select(func.count()).where(
                AssistanceRequest.incident_id == incident_id, AssistanceRequest.status == "requested"
            )
        )
        audited = s.scalar(select(func.count()).where(AuditEntry.action == "incident.transition"))
        return incident.phase, int(deployed or 0), int(waiting or 0), int(audited or 0)


def prepared(platform: Platform) -> int:
    """A mof incident with responder-mof (shown as "Aiko <Tanaka>") deployed and one more request waiting."""
    with platform.db.session() as s:
        incident_id, _, responder = deployed_incident(s, org="mof")
        user = s.get(User, responder)
        assert user is not None
        user.display_name = "Aiko <Tanaka>"
        response.request(s, principal=who(s, "org_officer-mof"), incident_id=incident_id, data=RequestIn(reason="more"))
    return incident_id


def test_move_to_closed_asks_first_naming_what_will_happen(client: TestClient, platform: Platform) -> None:
    incident_id = prepared(platform)
    url = f"/incidents/{incident_id}/transition"
    login(client, "org_officer-mof")
    asked = client.post(url, data={"phase": "closed", "resolution": "resolved", "note": "restored"})
    assert asked.status_code == 200 and f"Close incident #{incident_id}?" in asked.text
    assert "The incident is closed with resolution resolved." in asked.text
    assert "1 deployed responder(s) will be released and lose access to it: Aiko &lt;Tanaka&gt;." in asked.text
    assert "1 waiting assistance request(s) will be withdrawn." in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and 'value="resolved" selected' in asked.text
    assert 'value="restored"' in asked.text  # the note typed in Move is kept
    assert state(platform, incident_id) == ("triage", 1, 1, 0)  # Move → closed alone changes nothing

    for reason in ("", "   "):
        no_reason = client.post(url, data={"phase": "closed", "resolution": "resolved", "confirmed": "yes",
                                           "reason": reason})  # fmt: skip
        assert no_reason.status_code == 422 and "closing an incident needs a reason" in no_reason.text
    unknown = client.post(url, data={"phase": "closed", "resolution": "gone", "confirmed": "yes", "reason": "x"})
    assert unknown.status_code == 422 and "btn-close-confirm" not in unknown.text
    assert state(platform, incident_id) == ("triage", 1, 1, 0)

    done = client.post(
        url,
        data={"phase": "closed", "resolution": "resolved", "confirmed": "yes", "reason": "Restored from backup"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{incident_id}"
    assert state(platform, incident_id) == ("closed", 0, 0, 1)
    with platform.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "incident.transition"))
        assert entry is not None and entry.details["reason"] == "Restored from backup"
        texts = [e.text for e in timeline.list_(s, principal=who(s, "org_officer-mof"), incident_id=incident_id)]
        assert "Phase triage → closed as resolved, reason: Restored from backup" in texts
    again = client.post(url, data={"phase": "closed", "resolution": "resolved"})  # a stale tab
    assert again.status_code == 409 and "closed already" in again.text and "btn-close-confirm" not in again.text


def test_the_confirmation_page_without_responders_escapes_and_asks_for_the_resolution(
    client: TestClient, platform: Platform
) -> None:
    with platform.db.session() as s:
        officer = who(s, "org_officer-mof")
        incident_id = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="<b>x</b>")).id
    login(client, "org_officer-mof")
    asked = client.post(f"/incidents/{incident_id}/transition", data={"phase": "closed"})
    assert asked.status_code == 200 and "<b>x</b>" not in asked.text and "&lt;b&gt;x&lt;/b&gt;" in asked.text
    assert "The incident is closed with the resolution chosen below." in asked.text
    assert "No responder is deployed on it." in asked.text and "No assistance request is waiting." in asked.text
    assert state(platform, incident_id) == ("triage", 0, 0, 0)


def test_the_confirmation_page_is_only_for_those_who_may_close(client: TestClient, platform: Platform) -> None:
    incident_id = prepared(platform)
    url = f"/incidents/{incident_id}/transition"
    login(client, "org_officer-mofa")  # another ministry: the incident does not exist for them
    asked = client.post(url, data={"phase": "closed", "resolution": "resolved"})
    assert asked.status_code == 404 and "Aiko" not in asked.text
    client.cookies.clear()
    login(client, "auditor-mof")  # sees the incident, may not manage it: no page offering to close it
    asked = client.post(url, data={"phase": "closed", "resolution": "resolved"})
    assert asked.status_code == 403 and "btn-close-confirm" not in asked.text and "Aiko" not in asked.text
    assert state(platform, incident_id) == ("triage", 1, 1, 0)
