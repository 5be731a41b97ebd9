"""The transactional outbox: a message row written in the same transaction as the change it announces.

A relay (``mamori.workers.relay``) publishes rows after commit and marks them published, so a message is
never sent for a change that rolled back, and never lost when the process dies between commit and publish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from mamori.storage.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def enqueue(session: Session, *, subject: str, payload: dict[str, Any]) -> OutboxMessage:
    message = OutboxMessage(subject=subject, payload=payload)
    session.add(message)
    return message


def enqueue_many(session: Session, *, subject: str, payloads: list[dict[str, Any]]) -> None:
    """Many messages of one subject in one bulk INSERT (in the session's transaction, like :func:`enqueue`)."""
    if payloads:
        now = utcnow()
        session.execute(
            insert(OutboxMessage), [{"subject": subject, "payload": p, "created_at": now} for p in payloads]
        )
