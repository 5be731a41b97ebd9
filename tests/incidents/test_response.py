"""Assistance requests, the roster and deployments: a deployed responder reaches one incident, only until released."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.audit.models import AuditEntry
from mamori.cases import roster
from mamori.cases import service as response
from mamori.cases.schemas import DecisionIn, ProfileIn, RequestIn
from mamori.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.incidents import evidence, tasks, timeline
from mamori.incidents import service as incidents
from mamori.incidents.enums import Category, Phase
from mamori.incidents.models import Notification
from mamori.incidents.schemas import EntryIn, IncidentFilter, IncidentIn, IncidentUpdate, TaskAction
from mamori.storage.db import Database
from tests.incidents.conftest import user_id, who


def put_on_roster(s: Session, name: str, home: str, skills: list[str], max_load: int = 2) -> int:
    uid = user_id(s, name)
    roster.upsert(
        s,
        principal=who(s, "admin-ncc"),
        data=ProfileIn(user_id=uid, home_org_id=home, skills=skills, max_load=max_load),
    )
    return uid


def test_request_approve_deploy_release(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mofa")
        target = incidents.create(
            s, principal=officer, data=IncidentIn(org_id="mofa", title="Defaced", category=Category.DEFACEMENT)
        )
        neighbour = incidents.create(s, principal=officer, data=IncidentIn(org_id="mofa", title="Other"))
        responder = put_on_roster(s, "responder-mof", "mof", ["web", "forensics"])
        put_on_roster(s, "responder-ncc", "ncc", ["windows"])
        req = response.request(
            s, principal=officer, incident_id=target.id, data=RequestIn(reason="site down", skills=["web"])
        )
        with pytest.raises(Conflict):
            response.request(s, principal=officer, incident_id=target.id, data=RequestIn(reason="again"))
        with pytest.raises(PermissionDenied):  # a ministry cannot approve its own request
            response.decide(s, principal=officer, request_id=req.id, data=DecisionIn(approve=True))
        lead = who(s, "national_analyst-ncc")
        with pytest.raises(Conflict):
            response.deploy(s, principal=lead, request_id=req.id, user_id=responder)
        response.decide(s, principal=lead, request_id=req.id, data=DecisionIn(approve=True, note="go"))
        ranked = response.suggestions(s, principal=lead, request_id=req.id)
        assert [e.username for e in ranked] == ["responder-mof", "responder-ncc"]  # web skill first
        deployment = response.deploy(s, principal=lead, request_id=req.id, user_id=responder)

    with tenants.session() as s:
        me = who(s, "responder-mof")
        assert me.incident_grants == {target.id}
        page, _ = incidents.list_(s, principal=me, filters=IncidentFilter())
        assert [i.id for i in page] == [target.id]  # that incident, nothing else of mofa (and none of mof)
        with pytest.raises(NotFound):
            incidents.get(s, principal=me, incident_id=neighbour.id)
        timeline.add_manual(s, principal=me, incident_id=target.id, data=EntryIn(text="web shell found in /uploads"))
        (first, *_) = tasks.list_(s, principal=me, incident_id=target.id)
        tasks.act(s, principal=me, task_id=first.id, action=TaskAction(action="complete", notes="confirmed"))
        with pytest.raises(PermissionDenied):  # a grant is for work, not for managing the incident
            incidents.update(
                s,
                principal=me,
                incident_id=target.id,
                data=IncidentUpdate(title="x"),
            )
        # the responder can be assigned tasks of the incident now
        tasks.act(
            s,
            principal=who(s, "org_officer-mofa"),
            task_id=first.id,
            action=TaskAction(action="assign", assignee_id=user_id(s, "responder-mof")),
        )
        asked = s.scalars(select(Notification.recipient_email).where(Notification.event == "assistance.requested"))
        assert set(asked) == {"national_analyst-ncc@example.test", "admin-ncc@example.test"}
        events = set(s.scalars(select(Notification.event)))
        assert {"assistance.requested", "assistance.approved", "assistance.deployed", "task.assigned"} <= events

    with tenants.session() as s, pytest.raises(NotFound):  # another ministry does not even see the deployment
        response.release(s, principal=who(s, "org_officer-mof"), deployment_id=deployment.id)
    with tenants.session() as s:
        response.release(s, principal=who(s, "org_officer-mofa"), deployment_id=deployment.id)
        assert response.get(s, principal=who(s, "org_officer-mofa"), request_id=req.id).status == "closed"
    with tenants.session() as s:
        me = who(s, "responder-mof")
        assert me.incident_grants == frozenset()
        assert incidents.list_(s, principal=me, filters=IncidentFilter())[0] == []
        with pytest.raises(NotFound):
            incidents.get(s, principal=me, incident_id=target.id)
        assert tasks.mine(s, principal=me) == []
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("grant.%"))).all()
        assert actions == ["grant.create", "grant.revoke"]


def test_national_responders_see_no_incident_without_a_deployment(tenants: Database) -> None:
    with tenants.session() as s:
        inc = incidents.create(s, principal=who(s, "org_officer-mof"), data=IncidentIn(org_id="mof", title="x"))
        me = who(s, "responder-ncc")
        assert incidents.list_(s, principal=me, filters=IncidentFilter())[0] == []
        with pytest.raises(NotFound):
            incidents.get(s, principal=me, incident_id=inc.id)
        assert [e.username for e in roster.entries(s, principal=me)] == []  # but the roster is theirs to read


def test_roster_rules(tenants: Database) -> None:
    with tenants.session() as s:
        with pytest.raises(ValidationFailed, match="not a responder"):
            roster.upsert(
                s,
                principal=who(s, "admin-ncc"),
                data=ProfileIn(user_id=user_id(s, "org_officer-mof"), home_org_id="mof"),
            )
        with pytest.raises(PermissionDenied):
            roster.upsert(
                s, principal=who(s, "admin-mof"), data=ProfileIn(user_id=user_id(s, "responder-mof"), home_org_id="mof")
            )
        with pytest.raises(PermissionDenied):
            roster.entries(s, principal=who(s, "org_officer-mof"))
        full = put_on_roster(s, "responder-mofa", "mofa", ["web"], max_load=1)
        officer = who(s, "org_officer-mof")
        lead = who(s, "national_analyst-ncc")
        reqs = []
        for n in range(2):
            inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title=f"i{n}"))
            req = response.request(
                s, principal=officer, incident_id=inc.id, data=RequestIn(reason="help", skills=["web"])
            )
            response.decide(s, principal=lead, request_id=req.id, data=DecisionIn(approve=True))
            reqs.append(req)
        response.deploy(s, principal=lead, request_id=reqs[0].id, user_id=full)
        assert response.suggestions(s, principal=lead, request_id=reqs[1].id) == []  # at max load
        with pytest.raises(ValidationFailed, match="not an available responder"):
            response.deploy(s, principal=lead, request_id=reqs[1].id, user_id=full)
        with pytest.raises(NotFound):  # mofa's officer does not see mof's requests
            response.get(s, principal=who(s, "org_officer-mofa"), request_id=reqs[0].id)
        assert [r.id for r in response.list_(s, principal=who(s, "org_officer-mofa"))] == []


def test_evidence_is_out_of_reach_without_a_deployment(tenants: Database, tmp_path: Path) -> None:
    files = tmp_path / "files"
    with tenants.session() as s:
        inc = incidents.create(s, principal=who(s, "org_officer-mofa"), data=IncidentIn(org_id="mofa", title="x"))
        row = evidence.upload(
            s,
            principal=who(s, "org_officer-mofa"),
            incident_id=inc.id,
            chunks=[b"log"],
            filename="a.log",
            content_type="text/plain",
            description="",
            files_dir=files,
            max_bytes=100,
        )
        with pytest.raises(NotFound):
            evidence.download(s, principal=who(s, "responder-mof"), evidence_id=row.id, files_dir=files)


def test_roster_and_deployment_pick_people_by_name_and_orgs_in_any_case(tenants: Database) -> None:
    with tenants.session() as s:
        lead = who(s, "national_analyst-ncc")
        person = accounts.find_person(s, principal=lead, name="RESPONDER-MOFA", where="person")
        roster.upsert(s, principal=lead, data=ProfileIn(user_id=person.id, home_org_id="MoFa", skills=["Web"]))
        assert roster.home_of(person) == "mofa"
        (entry,) = roster.entries(s, principal=lead)
        assert (entry.username, entry.home_org_id, entry.skills) == ("responder-mofa", "mofa", ["web"])
        assert roster.find_entry(s, principal=lead, name="Responder-Mofa", where="responder").user_id == person.id
        with pytest.raises(ValidationFailed, match="on the roster"):
            roster.find_entry(s, principal=lead, name="responder-mof", where="responder")  # not on the roster
        officer = who(s, "org_officer-mof")
        incident = incidents.create(s, principal=officer, data=IncidentIn(org_id="MOF", title="typed in capitals"))
        assert incident.org_id == "mof"
        rows, _ = incidents.list_(s, principal=lead, filters=IncidentFilter(org="MOF"))
        assert [r.id for r in rows] == [incident.id]  # filters ignore letter case too
        assert incident in incidents.board(s, principal=lead, org="Mof")[Phase.TRIAGE][0]
        with pytest.raises(ValidationFailed, match="no organisation"):
            incidents.create(s, principal=officer, data=IncidentIn(org_id="nowhere", title="x"))
