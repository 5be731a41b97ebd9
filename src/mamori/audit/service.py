"""Record and read audit entries. Recording happens in the caller's transaction, so a change and its
audit entry commit (or roll back) together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.core.errors import ValidationFailed
from mamori.i18n import _

REASON_MAX = 2000  # what an audit entry keeps of a reason


def require_reason(text: str | None, *, doing: str, where: str = "reason") -> str:
    """The reason for a destructive action (closing, deleting, revoking, deactivating), stripped; refused when
    blank, so nothing is changed without one. ``doing`` names the action for the person reading the error."""
    reason = (text or "").strip()
    if not reason:
        raise ValidationFailed(_("%(doing)s needs a reason", doing=doing), where=where)
    return reason[:REASON_MAX]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    org_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor[:200],
        org_id=org_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:100],
        details=details or {},
    )
    session.add(entry)
    return entry


def list_(
    session: Session,
    *,
    orgs: frozenset[str] | None,
    action: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[AuditEntry]:
    """Newest first; `orgs=None` means every organisation (and entries without one)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(min(limit, 1000))
    if orgs is not None:
        query = query.where(AuditEntry.org_id.in_(orgs))
    if action:
        query = query.where(AuditEntry.action == action)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return session.scalars(query).all()
