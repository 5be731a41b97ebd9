from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.core.errors import NotFound, PermissionDenied, ValidationFailed
from mamori.core.severity import Severity
from mamori.incidents import grouping, observables, tasks, timeline
from mamori.incidents import service as incidents
from mamori.incidents.enums import Category, Phase, Resolution
from mamori.incidents.errors import TransitionRefused
from mamori.incidents.models import Incident, TimelineEntry
from mamori.incidents.schemas import (
    EntryIn,
    IncidentFilter,
    IncidentIn,
    IncidentUpdate,
    TaskAction,
    TaskIn,
    TransitionIn,
)
from mamori.storage.db import Database
from tests.incidents.conftest import make_alert, user_id, who


def test_an_incident_from_alerts_gets_playbook_tasks_observables_and_a_timeline(tenants: Database) -> None:
    with tenants.session() as s:
        alert = make_alert(s, "mof")
        officer = who(s, "org_officer-mof")
        inc = incidents.create(
            s,
            principal=officer,
            data=IncidentIn(org_id="mof", title="Defaced", category=Category.DEFACEMENT, alert_ids=[alert.id]),
        )
        assert alert.status == "closed" and alert.resolution == "escalated"
        assert inc.severity == "high" and inc.detected_at == alert.first_seen
        titles = [t.title for t in tasks.list_(s, principal=officer, incident_id=inc.id)]
        assert len(titles) == 9 and titles[0].startswith("Confirm the defacement")
        kinds = {(o.kind, o.value) for o in observables.list_(s, principal=officer, incident_id=inc.id)}
        assert ("ip", "203.0.113.7") in kinds and ("url", "https://www.mof.example/") in kinds
        texts = [e.text for e in timeline.list_(s, principal=officer, incident_id=inc.id)]
        assert any("Alert" in t for t in texts) and any("Playbook" in t for t in texts)
        assert s.scalar(select(func.count()).where(AuditEntry.action == "incident.create")) == 1


def test_alerts_of_another_organisation_cannot_be_attached(tenants: Database) -> None:
    with tenants.session() as s:
        foreign = make_alert(s, "mofa")
        with pytest.raises(ValidationFailed, match="not an alert of mof"):
            incidents.create(
                s,
                principal=who(s, "national_analyst-ncc"),
                data=IncidentIn(org_id="mof", title="x", alert_ids=[foreign.id]),
            )


def test_transitions_are_audited_and_on_the_timeline(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(
            s, principal=officer, data=IncidentIn(org_id="mof", title="Phish", category=Category.PHISHING)
        )
        incidents.transition(
            s, principal=officer, incident_id=inc.id, data=TransitionIn(phase=Phase.CONTAINMENT, note="blocking")
        )
        with pytest.raises(TransitionRefused):
            incidents.transition(s, principal=officer, incident_id=inc.id, data=TransitionIn(phase=Phase.POST_INCIDENT))
        incidents.transition(
            s,
            principal=officer,
            incident_id=inc.id,
            data=TransitionIn(phase=Phase.CLOSED, resolution=Resolution.RESOLVED, reason="blocked at the gateway"),
        )
        assert inc.phase == "closed" and inc.closed_at is not None and inc.acknowledged_at is not None
        actions = s.scalars(select(AuditEntry.details).where(AuditEntry.action == "incident.transition")).all()
        assert [a["to"] for a in actions] == ["containment", "closed"]
        texts = [e.text for e in timeline.list_(s, principal=officer, incident_id=inc.id)]
        assert "Phase triage → containment: blocking" in texts
        assert "Phase containment → closed as resolved, reason: blocked at the gateway" in texts
        assert actions[-1]["reason"] == "blocked at the gateway"


def test_recategorising_applies_the_new_playbook(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="?", category=Category.OTHER))
        before = len(tasks.list_(s, principal=officer, incident_id=inc.id))
        incidents.update(
            s,
            principal=officer,
            incident_id=inc.id,
            data=IncidentUpdate(category=Category.DDOS, severity=Severity.CRITICAL),
        )
        after = tasks.list_(s, principal=officer, incident_id=inc.id)
        assert len(after) == before + 6 and {t.source for t in after} == {"playbook:other", "playbook:ddos"}
        assert [t.position for t in after] == list(range(len(after)))
        assert s.scalar(select(AuditEntry.details).where(AuditEntry.action == "incident.update")) == {
            "incident_id": inc.id,
            "category": ["other", "ddos"],
            "severity": ["medium", "critical"],
        }


def test_tasks_are_added_assigned_and_completed_with_notes(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="t", category=Category.OTHER))
        task = tasks.add(
            s, principal=officer, incident_id=inc.id, data=TaskIn(title="Call the hoster", phase=Phase.CONTAINMENT)
        )
        tasks.act(
            s,
            principal=officer,
            task_id=task.id,
            action=TaskAction(action="assign", assignee_id=user_id(s, "org_officer-mof")),
        )
        assert [t.title for t, _ in tasks.mine(s, principal=officer)] == ["Call the hoster"]
        with pytest.raises(ValidationFailed):  # someone of another ministry cannot work on it
            tasks.act(
                s,
                principal=officer,
                task_id=task.id,
                action=TaskAction(action="assign", assignee_id=user_id(s, "org_officer-mofa")),
            )
        tasks.act(
            s,
            principal=officer,
            task_id=task.id,
            action=TaskAction(action="complete", notes="hoster took the site down"),
        )
        assert task.status == "done" and "hoster took the site down" in task.notes and task.done_by == "org_officer-mof"
        assert tasks.mine(s, principal=officer) == []


def test_manual_timeline_entries_keep_event_time_and_record_time(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="t"))
        earlier = datetime.now(UTC) - timedelta(days=2)
        entry = timeline.add_manual(
            s, principal=officer, incident_id=inc.id, data=EntryIn(text="Staff saw a pop-up", event_at=earlier)
        )
        assert entry.event_at == earlier and entry.recorded_at > earlier
        with pytest.raises(ValidationFailed, match="future"):
            timeline.add_manual(
                s,
                principal=officer,
                incident_id=inc.id,
                data=EntryIn(text="x", event_at=datetime.now(UTC) + timedelta(days=1)),
            )
        story = timeline.narrative(s, principal=officer, incident_id=inc.id)
        lines = story.splitlines()
        assert "Staff saw a pop-up" in lines[2] and "(recorded " in lines[2]  # oldest event first
    with tenants.session() as s, pytest.raises(Exception, match="append-only"):
        s.query(TimelineEntry).delete()


def test_list_is_keyset_paginated_and_filtered(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        ids = [
            incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title=f"i{n}")).id for n in range(7)
        ]
        seen, cursor = [], None
        while True:
            page, cursor = incidents.list_(s, principal=officer, filters=IncidentFilter(limit=3, before_id=cursor))
            seen += [i.id for i in page]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)
        board = incidents.board(s, principal=officer)
        assert board[Phase.TRIAGE][1] == 7 and board[Phase.CONTAINMENT] == ([], 0)


def test_officers_never_see_or_change_other_ministries_incidents(tenants: Database) -> None:
    with tenants.session() as s:
        theirs = incidents.create(
            s, principal=who(s, "org_officer-mofa"), data=IncidentIn(org_id="mofa", title="secret")
        )
        for role in ("org_officer", "national_analyst", "admin", "auditor", "responder", "trainer"):
            me = who(s, f"{role}-mof")
            page, _ = incidents.list_(s, principal=me, filters=IncidentFilter())
            assert theirs.id not in [i.id for i in page]
            with pytest.raises(NotFound):
                incidents.get(s, principal=me, incident_id=theirs.id)
            with pytest.raises((NotFound, PermissionDenied)):
                incidents.create(s, principal=me, data=IncidentIn(org_id="mofa", title="planted"))
        # the national centre sees every organisation; its auditor reads but may not change
        assert incidents.get(s, principal=who(s, "national_analyst-ncc"), incident_id=theirs.id) is theirs
        with pytest.raises(PermissionDenied):
            incidents.transition(
                s, principal=who(s, "auditor-ncc"), incident_id=theirs.id, data=TransitionIn(phase=Phase.CONTAINMENT)
            )


def test_grouping_rules_open_one_incident_per_entity_and_window(tenants: Database) -> None:
    with tenants.session() as s:
        first = make_alert(s, "mof", entities={"url": "https://www.mof.example/"})
        inc = grouping.group_alert(s, alert=first)
        assert inc is not None and inc.category == "defacement" and inc.created_by == "system"
        again = make_alert(s, "mof", entities={"url": "https://www.mof.example/", "src_ip": "198.51.100.1"})
        assert grouping.group_alert(s, alert=again) is inc
        assert grouping.group_alert(s, alert=again) is None  # redelivery
        other_site = make_alert(s, "mof", entities={"url": "https://intranet.mof.example/"})
        assert grouping.group_alert(s, alert=other_site) is not inc
        watched = make_alert(s, "mofa", rule_id="website.defaced", severity=Severity.HIGH)  # the website watch
        assert (grouped := grouping.group_alert(s, alert=watched)) is not None and grouped.category == "defacement"
        low = make_alert(s, "mof", producer="sigma", rule_id="noise", severity=Severity.HIGH, entities={"host": "a"})
        assert grouping.group_alert(s, alert=low) is None
        assert s.scalar(select(func.count()).select_from(Incident)) == 3
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.resolution == "escalated")) == 4
