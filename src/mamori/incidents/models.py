"""Incident tables. Every row carries (or reaches through its incident) an `org_id` for tenancy.

Index design (100k incidents, 1M timeline entries): lists are keyset-paginated on `id` descending, so each
filter combination the board uses has an index ending in `id`; the timeline is read per incident in event
order, so (incident_id, event_at, id) serves it without a sort.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.storage.db import Base, UTCDateTime, utcnow


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_org_phase_id", "org_id", "phase", "id"),
        Index("ix_incidents_phase_id", "phase", "id"),
        Index("ix_incidents_org_id_id", "org_id", "id"),
        Index("ix_incidents_group_key", "group_key", "phase"),
        Index("ix_incidents_detected_at", "detected_at"),  # metrics over a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    tlp: Mapped[str] = mapped_column(String(20), default="amber")
    pap: Mapped[str] = mapped_column(String(20), default="amber")
    phase: Mapped[str] = mapped_column(String(20), default="triage")
    resolution: Mapped[str | None] = mapped_column(String(30))
    root_cause: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_key: Mapped[str | None] = mapped_column(String(64))  # set when created by a grouping rule
    created_by: Mapped[str] = mapped_column(String(100))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)  # first alert seen, or creation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentAlert(Base):
    """An alert escalated into an incident. One alert belongs to at most one incident (the unique constraint
    backs the service's check: two incidents for one alert would split one attack's work in two)."""

    __tablename__ = "incident_alerts"
    __table_args__ = (UniqueConstraint("alert_id"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEntry(Base):
    """`event_at` is when it happened (people may backdate); `recorded_at` is when it was written."""

    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline_incident_event", "incident_id", "event_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Task(Base):
    __tablename__ = "incident_tasks"
    __table_args__ = (
        Index("ix_incident_tasks_incident", "incident_id", "position"),
        Index("ix_incident_tasks_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    phase: Mapped[str] = mapped_column(String(20))
    owner_role: Mapped[str] = mapped_column(String(40), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100), default="manual")  # "playbook:<name>" or "manual"
    position: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    done_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Observable(Base):
    """`org_id` is copied from the incident so "seen elsewhere" is one indexed lookup on (kind, value)."""

    __tablename__ = "incident_observables"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "value"),
        Index("ix_incident_observables_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(50), default="manual")  # "alert:<id>" or "manual"
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evidence(Base):
    """A file kept content-addressed under files_dir; the client's file name is metadata only."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    description: Mapped[str] = mapped_column(Text, default="")
    holder: Mapped[str] = mapped_column(String(100))  # who holds custody now
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustodyEntry(Base):
    """Chain of custody: every access and transfer of one evidence item. Append-only in the database."""

    __tablename__ = "evidence_custody"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("incident_evidence.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))  # upload, download, transfer, verify, integrity_failure
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Notification(Base):
    """An outgoing notification, written in the transaction of the change it announces, delivered after."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(50))  # task.assigned, assistance.approved, sla.breach ...
    org_id: Mapped[str | None] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column()
    recipient_email: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class SlaBreach(Base):
    """One row per breached target per incident, so a breach is announced once."""

    __tablename__ = "incident_sla_breaches"
    __table_args__ = (UniqueConstraint("incident_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(30))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
