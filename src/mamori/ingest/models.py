from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamori.storage.db import Base, UTCDateTime, utcnow


class IngestBatch(Base):
    """One accepted batch: archived before it is acknowledged; `detected_at` set once detection ran.

    A batch archived but not yet detected (a crash in between) is picked up again at start-up.
    """

    __tablename__ = "ingest_batches"
    __table_args__ = (Index("ix_ingest_batches_pending", "detected_at", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    sensor: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    files: Mapped[list[Any]] = mapped_column(default=list)
    exercise_id: Mapped[str | None] = mapped_column(String(64))
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeadLetter(Base):
    """A record that could not be read: kept with its reason and bytes so nothing accepted is lost."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_org_at", "org_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    sensor: Mapped[str] = mapped_column(String(100))
    batch_id: Mapped[str | None] = mapped_column(String(36))
    format: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(500))
    where: Mapped[str] = mapped_column(String(200))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
