"""Tasks inside an incident: from the category's playbook, or added by hand; assigned, completed with notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.accounts.service import principal_for
from mamori.core.errors import NotFound, ValidationFailed
from mamori.incidents import access, notifications, playbooks, timeline
from mamori.incidents.enums import Category, EntryKind, TaskStatus
from mamori.incidents.models import Incident, Task
from mamori.incidents.schemas import TaskAction, TaskIn
from mamori.storage.db import utcnow


def apply_playbook(session: Session, *, incident: Incident, actor: str) -> list[Task]:
    """Add the playbook's tasks for the incident's category (skipping titles already present)."""
    book = playbooks.for_category(Category(incident.category))
    if book is None:
        return []
    present = set(session.scalars(select(Task.title).where(Task.incident_id == incident.id)))
    position = _next_position(session, incident.id)
    now = utcnow()
    added = []
    for item in book.tasks:
        if item.title in present:
            continue
        added.append(
            Task(
                incident_id=incident.id,
                title=item.title,
                phase=item.phase.value,
                owner_role=item.owner_role.value,
                due_at=now + timedelta(hours=item.due_hours),
                source=f"playbook:{book.name}",
                position=position,
            )
        )
        position += 1
    session.add_all(added)
    if added:
        timeline.record(
            session,
            incident=incident,
            kind=EntryKind.TASK,
            actor=actor,
            text=f"Playbook {book.title!r} applied: {len(added)} tasks",
            details={"playbook": book.name},
        )
    return added


def _next_position(session: Session, incident_id: int) -> int:
    last = session.scalar(select(func.max(Task.position)).where(Task.incident_id == incident_id))
    return 0 if last is None else int(last) + 1


def list_(session: Session, *, principal: Principal, incident_id: int) -> Sequence[Task]:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    return session.scalars(select(Task).where(Task.incident_id == incident.id).order_by(Task.position, Task.id)).all()


def add(session: Session, *, principal: Principal, incident_id: int, data: TaskIn) -> Task:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.work")
    task = Task(
        incident_id=incident.id,
        title=data.title,
        phase=data.phase.value,
        owner_role=data.owner_role,
        due_at=data.due_at,
        position=_next_position(session, incident.id),
    )
    session.add(task)
    session.flush()
    timeline.record(
        session, incident=incident, kind=EntryKind.TASK, actor=principal.name, text=f"Task added: {task.title}"
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.task.add",
        object_type="task",
        object_id=task.id,
    )
    if data.assignee_id is not None:
        _assign(session, principal, incident, task, data.assignee_id)
    return task


def get(
    session: Session, *, principal: Principal, task_id: int, action: str = "incidents.view"
) -> tuple[Incident, Task]:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    try:
        incident = access.get(session, principal=principal, incident_id=task.incident_id, action=action)
    except NotFound:
        raise NotFound(f"task {task_id} not found") from None
    return incident, task


def act(session: Session, *, principal: Principal, task_id: int, action: TaskAction) -> Task:
    incident, task = get(session, principal=principal, task_id=task_id, action="incidents.work")
    if action.action == "assign":
        _assign(session, principal, incident, task, action.assignee_id)
    elif action.action in ("complete", "skip"):
        task.status = TaskStatus.DONE.value if action.action == "complete" else TaskStatus.SKIPPED.value
        task.done_by, task.done_at = principal.name, utcnow()
    elif action.action == "reopen":
        task.status, task.done_by, task.done_at = TaskStatus.OPEN.value, None, None
    if action.notes:
        task.notes = (task.notes + "\n\n" if task.notes else "") + f"[{principal.name}] {action.notes}"
    elif action.action == "note":
        raise ValidationFailed("a note needs text", where="notes")
    if action.action == "assign":
        return task  # _assign wrote the timeline entry and the audit record
    text = f"Task {action.action}: {task.title}" + (f" — {action.notes}" if action.notes else "")
    timeline.record(session, incident=incident, kind=EntryKind.TASK, actor=principal.name, text=text)
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action=f"incident.task.{action.action}",
        object_type="task",
        object_id=task.id,
        details={"notes": action.notes[:500]} if action.notes else {},
    )
    return task


def _assign(session: Session, principal: Principal, incident: Incident, task: Task, user_id: int | None) -> None:
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise ValidationFailed(f"user {user_id} cannot work on this incident", where="assignee_id")
        if not principal_for(session, user).can_incident("incidents.work", incident.org_id, incident.id):
            raise ValidationFailed(f"user {user_id} cannot work on this incident", where="assignee_id")
        notifications.notify(
            session,
            event="task.assigned",
            subject=f"[mamori] Task assigned: {task.title}",
            body=f"{principal.name} assigned you a task in incident {incident.id} ({incident.title}): {task.title}",
            org_id=incident.org_id,
            incident_id=incident.id,
            user_ids=[user.id],
        )
    task.assignee_id = user_id
    who = "nobody" if user_id is None else f"user {user_id}"
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.TASK,
        actor=principal.name,
        text=f"Task {task.title!r} assigned to {who}",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.task.assign",
        object_type="task",
        object_id=task.id,
        details={"assignee_id": user_id},
    )


def mine(session: Session, *, principal: Principal, include_done: bool = False) -> Sequence[tuple[Task, Incident]]:
    """The caller's tasks on incidents they can still see (a released responder's tasks drop out)."""
    if principal.user_id is None:
        return []
    visible = access.visible_query(principal).subquery()
    query = (
        select(Task, Incident)
        .join(Incident, Incident.id == Task.incident_id)
        .where(Task.assignee_id == principal.user_id, Incident.id.in_(select(visible.c.id)))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .limit(500)
    )
    if not include_done:
        query = query.where(Task.status == TaskStatus.OPEN.value)
    return [(task, incident) for task, incident in session.execute(query).tuples()]
