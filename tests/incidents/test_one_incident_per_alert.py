"""One alert belongs to at most one incident: the service refuses (naming the incident), the schema backs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mamori.accounts import service as accounts
from mamori.accounts.schemas import OrgIn
from mamori.incidents import service as incidents
from mamori.incidents.errors import AlertInAnotherIncident
from mamori.incidents.models import IncidentAlert
from mamori.incidents.schemas import IncidentIn
from mamori.migrations import alembic_config, upgrade
from mamori.platform import Platform
from mamori.storage.db import Database
from tests.conftest import login
from tests.incidents.conftest import make_alert, who


def test_an_escalated_alert_does_not_go_into_a_second_incident(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mofa")
        alert = make_alert(s, "mofa")
        first = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="a", alert_ids=[alert.id]))
        other = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="b"))
        with pytest.raises(AlertInAnotherIncident, match=f"incident #{first.id}") as refused:
            incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="c", alert_ids=[alert.id]))
        assert refused.value.incident_id == first.id and refused.value.where == "alert_ids"
        with pytest.raises(AlertInAnotherIncident, match=f"incident #{first.id}"):
            incidents.attach_alerts(s, principal=officer, incident_id=other.id, alert_ids=[alert.id])
        # attaching it again to its own incident changes nothing and is no error
        incidents.attach_alerts(s, principal=officer, incident_id=first.id, alert_ids=[alert.id])
        assert [a.id for a in incidents.alerts_of(s, principal=officer, incident_id=first.id)] == [alert.id]
        assert incidents.alerts_of(s, principal=officer, incident_id=other.id) == []
        links = incidents.incident_of_alerts(s, principal=officer, alert_ids=[alert.id])
        assert links == {alert.id: first.id}
        # someone who sees the alert but not the incident learns it is escalated, not which incident
        assert incidents.incident_of_alerts(s, principal=who(s, "responder-mofa"), alert_ids=[alert.id]) == {
            alert.id: None
        }


def test_the_schema_refuses_a_second_link(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mofa")
        alert = make_alert(s, "mofa")
        incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="a", alert_ids=[alert.id]))
        other = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="b"))
        alert_id, other_id = alert.id, other.id
    with pytest.raises(IntegrityError), tenants.session() as s:
        s.add(IncidentAlert(incident_id=other_id, alert_id=alert_id))
        s.flush()


def test_a_lost_race_is_the_same_clear_refusal(tenants: Database) -> None:
    """Two people escalate one alert at once: both pass the check, the constraint stops the second link."""
    with tenants.session() as s:
        officer = who(s, "org_officer-mofa")
        alert = make_alert(s, "mofa")
        first = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="a", alert_ids=[alert.id]))
        late = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="b"))
        with pytest.raises(AlertInAnotherIncident, match=f"incident #{first.id}") as refused:
            incidents._link(s, late, [alert], "org_officer-mofa")  # past the check, as the race's loser is
        assert refused.value.incident_id == first.id


def test_the_api_answers_409_naming_the_incident_and_links_both_ways(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        # not a defacement: the grouping worker running in the app would open an incident of its own
        alert_id = make_alert(s, "mof", producer="sigma", rule_id="brute-force", title="Brute force").id
    login(client, "org_officer-mof")
    created = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "x", "alert_ids": [alert_id]})
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]
    again = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "again", "alert_ids": [alert_id]})
    assert again.status_code == 409
    body = again.json()
    assert body["error"] == "AlertInAnotherIncident" and body["where"] == "alert_ids"
    assert f"#{incident_id}" in body["message"]
    other = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "other"}).json()["id"]
    attach = client.post(f"/api/v1/incidents/{other}/alerts", json={"alert_ids": [alert_id]})
    assert attach.status_code == 409 and f"#{incident_id}" in attach.json()["message"]
    assert client.get("/api/v1/incidents").json()["items"][0]["id"] == other  # no third incident was made
    assert len(client.get("/api/v1/incidents").json()["items"]) == 2
    assert client.get(f"/api/v1/incidents/{incident_id}").json()["alert_ids"] == [alert_id]
    alert = client.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["incident_id"] == incident_id and alert["escalated"] is True
    (row,) = client.get("/api/v1/alerts").json()["items"]
    assert row["incident_id"] == incident_id


def test_the_migration_keeps_the_first_incident_of_an_alert_escalated_twice(tmp_path: Path) -> None:
    """Databases from before the constraint may hold an alert in two incidents: the earliest link is kept."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0004_incidents").down_revision
    assert isinstance(before, str)
    upgrade(url, before)  # whatever precedes the constraint once revisions are re-chained
    database = Database(url)
    with database.session() as s:
        accounts.create_org(s, principal=None, data=OrgIn(id="mof", name="Ministry of Finance"))
        alert = make_alert(s, "mof")
        first = incidents.create(s, principal=None, data=IncidentIn(org_id="mof", title="a", alert_ids=[alert.id]))
        second = incidents.create(s, principal=None, data=IncidentIn(org_id="mof", title="b"))
        s.add(IncidentAlert(incident_id=second.id, alert_id=alert.id))  # what the old console let happen
    database.dispose()
    upgrade(url)
    database = Database(url)
    with database.session() as s:
        assert s.execute(select(IncidentAlert.incident_id, IncidentAlert.alert_id)).all() == [(first.id, alert.id)]
    database.dispose()
