from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mamori.core.errors import ConfigurationError
from mamori.incidents import playbooks, workflow
from mamori.incidents.enums import Category, Phase, Resolution
from mamori.incidents.errors import ReasonRequired, TransitionRefused
from mamori.incidents.models import Incident

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def incident(phase: Phase) -> Incident:
    return Incident(phase=phase.value, detected_at=NOW, severity="high")


def test_phases_move_one_step_either_way_or_close() -> None:
    assert workflow.allowed_next(Phase.TRIAGE) == {Phase.CONTAINMENT, Phase.CLOSED}
    assert workflow.allowed_next(Phase.RECOVERY) == {Phase.ERADICATION, Phase.POST_INCIDENT, Phase.CLOSED}
    assert workflow.allowed_next(Phase.CLOSED) == {Phase.TRIAGE}
    with pytest.raises(TransitionRefused, match="not allowed"):
        workflow.check(incident(Phase.TRIAGE), Phase.RECOVERY, None)


def test_closing_needs_a_resolution_and_only_closing_takes_one() -> None:
    with pytest.raises(TransitionRefused, match="needs a resolution"):
        workflow.check(incident(Phase.POST_INCIDENT), Phase.CLOSED, None)
    with pytest.raises(TransitionRefused, match="only closing"):
        workflow.check(incident(Phase.TRIAGE), Phase.CONTAINMENT, Resolution.RESOLVED)


def test_milestones_are_set_once_when_first_reached() -> None:
    i = incident(Phase.TRIAGE)
    for step, target in enumerate([Phase.CONTAINMENT, Phase.ERADICATION, Phase.RECOVERY, Phase.POST_INCIDENT]):
        workflow.apply(i, workflow.check(i, target, None), NOW.replace(hour=13 + step))
    assert (i.acknowledged_at.hour, i.contained_at.hour, i.recovered_at.hour) == (13, 14, 16)  # type: ignore[union-attr]
    workflow.apply(i, workflow.check(i, Phase.RECOVERY, None), NOW.replace(hour=20))  # back one step
    assert i.recovered_at.hour == 16  # type: ignore[union-attr]


def test_a_false_positive_closed_from_triage_reaches_no_milestone() -> None:
    i = incident(Phase.TRIAGE)
    workflow.apply(i, workflow.check(i, Phase.CLOSED, Resolution.FALSE_POSITIVE, "a scanner we run"), NOW)
    assert i.contained_at is None and i.recovered_at is None and i.resolution == "false_positive"
    workflow.apply(i, workflow.check(i, Phase.TRIAGE, None, "the same defacement came back"), NOW)
    assert i.resolution is None and i.closed_at is None


def test_closing_needs_a_reason_too() -> None:
    for source in workflow.ACTIVE:
        for reason in ("", "   "):
            with pytest.raises(ReasonRequired, match="closing an incident needs a reason") as refused:
                workflow.check(incident(source), Phase.CLOSED, Resolution.RESOLVED, reason)
            assert refused.value.where == "reason"
    assert workflow.check(incident(Phase.RECOVERY), Phase.CLOSED, Resolution.RESOLVED, " done ").reason == "done"


def test_reopening_needs_a_reason_and_the_usual_move_is_forward() -> None:
    closed = incident(Phase.CLOSED)
    for reason in ("", "   "):
        with pytest.raises(ReasonRequired, match="needs a reason"):
            workflow.check(closed, Phase.TRIAGE, None, reason)
    assert workflow.check(closed, Phase.TRIAGE, None, " re-defaced ").reason == "re-defaced"
    assert [workflow.forward(p) for p in Phase] == [
        Phase.CONTAINMENT,
        Phase.ERADICATION,
        Phase.RECOVERY,
        Phase.POST_INCIDENT,
        Phase.CLOSED,
        Phase.TRIAGE,
    ]


def test_every_category_has_a_playbook_that_passes_its_own_expectations() -> None:
    books = playbooks.builtin()
    assert set(books) == set(Category)
    for book in books.values():
        counted = {p.value: len(book.tasks_in(p)) for p in workflow.ACTIVE}
        assert counted == book.expect, book.name
        assert all(t.due_hours > 0 for t in book.tasks)


def test_the_loader_collects_every_error_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("category: nonsense\ntasks: []\n")
    (tmp_path / "b.yml").write_text(
        "category: ddos\ntasks:\n"
        "  - {title: x, phase: nowhere, owner_role: org_officer}\n"
        "  - {title: y, phase: closed, owner_role: org_officer}\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        playbooks.load_dir(tmp_path)
    message = str(caught.value)
    assert "a.yml: unknown or missing category" in message
    assert "b.yml: tasks[0]" in message and "closed phase" in message
