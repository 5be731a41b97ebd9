"""Accept a batch of records: parse, stamp, archive, dead-letter what fails, announce after commit.

Order matters for "never lose an accepted event": the archive files are written (atomically) before the
database transaction that records the batch commits, and the caller acknowledges only after that commit.
A crash after the files but before the commit leaves orphan files that are not counted as accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.models import Organisation
from mamori.accounts.principal import Principal
from mamori.accounts.service import org_slug
from mamori.bus import subjects
from mamori.core.errors import ValidationFailed
from mamori.core.messages import EVENT_ID, ORG, RAW, SENSOR, TIMESTAMP, Event
from mamori.ingest.archive import EventArchive
from mamori.ingest.models import DeadLetter, IngestBatch
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.registry import PARSERS, sniff
from mamori.ingest.schemas import IngestResult
from mamori.storage.outbox import enqueue


@dataclass
class Accepted:
    result: IngestResult
    events: list[Event]


def parse(data: bytes, *, fmt: str | None, origin: str) -> tuple[str, list[Event], list[ParseFailure]]:
    name = fmt or sniff(data)
    parser = PARSERS.get(name)
    if parser is None:
        raise ValidationFailed(f"unknown format {name!r}; known: {', '.join(sorted(PARSERS))}", where="format")
    events: list[Event] = []
    failures: list[ParseFailure] = []
    for item in parser.parse(data, origin=origin):
        if isinstance(item, ParseFailure):
            failures.append(item)
        else:
            events.append(item)
    return name, events, failures


def accept(
    session: Session,
    *,
    archive: EventArchive,
    org_id: str,
    sensor: str,
    data: bytes,
    fmt: str | None = None,
    exercise_id: str | None = None,
) -> Accepted:
    received = datetime.now(UTC)
    batch_id = str(uuid.uuid4())
    name, events, failures = parse(data, fmt=fmt, origin=f"{org_id}/{sensor}")
    return record(
        session,
        archive=archive,
        org_id=org_id,
        sensor=sensor,
        fmt=name,
        events=events,
        failures=failures,
        batch_id=batch_id,
        received=received,
        exercise_id=exercise_id,
    )


def record(
    session: Session,
    *,
    archive: EventArchive,
    org_id: str,
    sensor: str,
    fmt: str,
    events: list[Event],
    failures: Sequence[ParseFailure],
    batch_id: str,
    received: datetime,
    exercise_id: str | None = None,
) -> Accepted:
    """Stamp, archive and record already-parsed events (the syslog listener and file import come here)."""
    # Before any file is written: the batch row would be refused at commit and leave orphan archive files.
    if session.get(Organisation, org_id) is None:
        raise ValidationFailed(f"no organisation {org_id!r} (see: mamori org list)", where="org")
    stamp = received.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for n, event in enumerate(events):
        event[ORG] = org_id
        event[SENSOR] = sensor
        event[EVENT_ID] = f"{batch_id}:{n}"
        event.setdefault(TIMESTAMP, stamp)
        if exercise_id:
            event["exercise"] = exercise_id
    files = [str(p) for p in archive.write(events)] if events else []
    _dead_letter(session, failures, org_id=org_id, sensor=sensor, fmt=fmt, batch_id=batch_id, received=received)
    session.add(
        IngestBatch(
            id=batch_id,
            org_id=org_id,
            sensor=sensor,
            format=fmt,
            received_at=received,
            accepted=len(events),
            rejected=len(failures),
            files=files,
            exercise_id=exercise_id,
        )
    )
    if events:
        enqueue(
            session,
            subject=subjects.EVENTS_ACCEPTED,
            payload={"batch_id": batch_id, "org": org_id, "count": len(events)},
        )
    result = IngestResult(batch_id=batch_id, accepted=len(events), rejected=len(failures), format=fmt)
    return Accepted(result=result, events=events)


def _dead_letter(
    session: Session,
    failures: Iterable[ParseFailure],
    *,
    org_id: str,
    sensor: str,
    fmt: str,
    batch_id: str,
    received: datetime,
) -> None:
    session.add_all(
        DeadLetter(
            org_id=org_id,
            sensor=sensor,
            batch_id=batch_id,
            format=fmt,
            reason=f.reason,
            where=f.where,
            raw=f.raw,
            received_at=received,
        )
        for f in failures
    )


def load_batch_events(batch: IngestBatch) -> list[Event]:
    """Read a batch's events back from the archive (recovery path after a restart).

    The batch's own part files may have been merged by compaction since; then the merged files of the same
    partition hold its rows, found by the batch id that prefixes every event id.
    """
    prefix = f"{batch.id}:"
    events: dict[str, Event] = {}
    for path in _files_holding(batch):
        table = pq.read_table(path, columns=["id", "fields", "raw"])
        columns = (table.column(name).to_pylist() for name in ("id", "fields", "raw"))
        for event_id, fields, raw in zip(*columns, strict=True):
            if isinstance(event_id, str) and event_id.startswith(prefix) and event_id not in events:
                event = orjson.loads(fields)
                if raw is not None:
                    event[RAW] = raw
                events[event_id] = event
    return sorted(events.values(), key=lambda e: int(str(e[EVENT_ID]).rsplit(":", 1)[1]))


def _files_holding(batch: IngestBatch) -> list[Path]:
    files: list[Path] = []
    for name in batch.files:
        path = Path(name)
        if path.exists():
            files.append(path)
        elif path.parent.is_dir():
            files.extend(p for p in sorted(path.parent.glob("*.parquet")) if p not in files)
    return files


def search_events(
    archive: EventArchive,
    *,
    principal: Principal,
    org: str | None,
    since: datetime,
    until: datetime,
    filters: dict[str, str],
    text: str | None,
    limit: int,
    offset: int,
) -> list[Event]:
    """Archived events the caller may see; `org` narrows to one organisation (none if it is not visible)."""
    visible = principal.require_any("events.view")
    if org:
        org = org_slug(org)
        visible = frozenset({org}) if visible is None or org in visible else frozenset()
    return archive.query(
        orgs=None if visible is None else set(visible),
        since=since,
        until=until,
        filters=filters,
        text=text,
        limit=limit,
        offset=offset,
    )


def pending_batches(session: Session, *, older_than: datetime, limit: int = 100) -> Sequence[IngestBatch]:
    """Batches archived before `older_than` whose detection never completed."""
    return session.scalars(
        select(IngestBatch)
        .where(IngestBatch.detected_at.is_(None), IngestBatch.accepted > 0, IngestBatch.received_at < older_than)
        .order_by(IngestBatch.received_at)
        .limit(limit)
    ).all()


def count_pending(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(IngestBatch)
            .where(IngestBatch.detected_at.is_(None), IngestBatch.accepted > 0)
        )
        or 0
    )


def list_dead_letters(
    session: Session,
    *,
    principal: Principal,
    org: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[DeadLetter]:
    orgs = principal.require_any("deadletters.view")
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(min(limit, 1000))
    if orgs is not None:
        query = query.where(DeadLetter.org_id.in_(orgs))
    if org:
        query = query.where(DeadLetter.org_id == org_slug(org))
    if before_id:
        query = query.where(DeadLetter.id < before_id)
    return session.scalars(query).all()


def count_dead_letters(session: Session, *, principal: Principal) -> int:
    orgs = principal.require_any("deadletters.view")
    query = select(func.count()).select_from(DeadLetter)
    if orgs is not None:
        query = query.where(DeadLetter.org_id.in_(orgs))
    return session.scalar(query) or 0
