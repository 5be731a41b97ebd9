"""How far a one-off job got, kept in the database so that a restart continues instead of starting again.

One row per job name holding a small JSON state (the demo keeps the day it replayed and how many of its batches
were sent). Written in the caller's transaction, like the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from mamori.storage.db import Base, UTCDateTime, utcnow


class Progress(Base):
    __tablename__ = "progress"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def read(session: Session, *, name: str) -> dict[str, Any] | None:
    row = session.get(Progress, name)
    return dict(row.state) if row is not None else None


def write(session: Session, *, name: str, state: dict[str, Any]) -> None:
    row = session.get(Progress, name)
    if row is None:
        session.add(Progress(name=name, state=dict(state), updated_at=utcnow()))
    else:
        row.state, row.updated_at = dict(state), utcnow()
