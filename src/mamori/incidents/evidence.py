"""Evidence files: stored content-addressed by SHA-256 under `files_dir/sha256/ab/cd/<hash>`, with a chain of
custody recording every upload, access and transfer. A download re-hashes the file before handing it out.

The client's file name is kept as metadata only (never used as a path); the content type is recorded but files
are always served as opaque attachments.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from mamori.incidents import access, timeline
from mamori.incidents.enums import EntryKind
from mamori.incidents.models import CustodyEntry, Evidence, Incident
from mamori.incidents.schemas import TransferIn

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    path: Path


def path_for(files_dir: Path, sha256: str) -> Path:
    return files_dir / "sha256" / sha256[:2] / sha256[2:4] / sha256


def store(files_dir: Path, chunks: Iterable[bytes], *, max_bytes: int) -> Stored:
    """Write to a temporary file while hashing, then move into place (the same content is stored once)."""
    tmp_dir = files_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"evidence is larger than {max_bytes} bytes", where="file")
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        final = path_for(files_dir, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)
        final.chmod(0o440)
        return Stored(sha, size, final)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def clean_name(filename: str) -> str:
    """A display name: no directories, no control characters (it is escaped again wherever it is shown)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:300] or "unnamed"


def upload(
    session: Session,
    *,
    principal: Principal,
    incident_id: int,
    chunks: Iterable[bytes],
    filename: str,
    content_type: str,
    description: str,
    files_dir: Path,
    max_bytes: int,
) -> Evidence:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.work")
    stored = store(files_dir, chunks, max_bytes=max_bytes)
    if stored.size == 0:
        raise ValidationFailed("the file is empty", where="file")
    row = Evidence(
        incident_id=incident.id,
        sha256=stored.sha256,
        size=stored.size,
        filename=clean_name(filename),
        content_type=content_type[:100] or "application/octet-stream",
        description=description[:10_000],
        holder=principal.name,
        uploaded_by=principal.name,
    )
    session.add(row)
    session.flush()
    _custody(session, row, principal.name, "upload", {"sha256": stored.sha256, "size": stored.size})
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.EVIDENCE,
        actor=principal.name,
        text=f"Evidence uploaded: {row.filename} ({stored.size} bytes, sha256 {stored.sha256})",
        details={"evidence_id": row.id},
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.evidence.upload",
        object_type="evidence",
        object_id=row.id,
        details={"sha256": stored.sha256},
    )
    return row


def _custody(session: Session, evidence: Evidence, actor: str, action: str, details: dict[str, object]) -> None:
    session.add(CustodyEntry(evidence_id=evidence.id, actor=actor[:100], action=action, details=details))


def get(
    session: Session, *, principal: Principal, evidence_id: int, action: str = "incidents.view"
) -> tuple[Incident, Evidence]:
    row = session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(f"evidence {evidence_id} not found")
    try:
        incident = access.get(session, principal=principal, incident_id=row.incident_id, action=action)
    except NotFound:
        raise NotFound(f"evidence {evidence_id} not found") from None
    return incident, row


def list_(session: Session, *, principal: Principal, incident_id: int) -> Sequence[Evidence]:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    return session.scalars(select(Evidence).where(Evidence.incident_id == incident.id).order_by(Evidence.id)).all()


@dataclass(frozen=True)
class Download:
    evidence: Evidence
    path: Path
    intact: bool


def download(session: Session, *, principal: Principal, evidence_id: int, files_dir: Path) -> Download:
    """Re-hash before handing out. The custody log records the access either way; the caller commits it and
    refuses the download when `intact` is false."""
    incident, row = get(session, principal=principal, evidence_id=evidence_id, action="incidents.work")
    path = path_for(files_dir, row.sha256)
    actual = hash_file(path) if path.exists() else "missing"
    intact = actual == row.sha256
    _custody(session, row, principal.name, "download" if intact else "integrity_failure", {"sha256": actual})
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.evidence.download" if intact else "incident.evidence.integrity_failure",
        object_type="evidence",
        object_id=row.id,
    )
    return Download(row, path, intact)


def transfer(session: Session, *, principal: Principal, evidence_id: int, data: TransferIn) -> Evidence:
    incident, row = get(session, principal=principal, evidence_id=evidence_id, action="incidents.work")
    previous, row.holder = row.holder, data.to
    _custody(session, row, principal.name, "transfer", {"from": previous, "to": data.to, "note": data.note})
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.EVIDENCE,
        actor=principal.name,
        text=f"Custody of {row.filename} transferred from {previous} to {data.to}",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.evidence.transfer",
        object_type="evidence",
        object_id=row.id,
        details={"to": data.to},
    )
    return row


def custody(session: Session, *, principal: Principal, evidence_id: int) -> Sequence[CustodyEntry]:
    _, row = get(session, principal=principal, evidence_id=evidence_id)
    return session.scalars(
        select(CustodyEntry).where(CustodyEntry.evidence_id == row.id).order_by(CustodyEntry.id)
    ).all()
