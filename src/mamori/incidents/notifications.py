"""Notifications on assignment, approval and SLA breach.

A notification row is written in the transaction of the change it announces (so a rolled-back change sends
nothing); `deliver_pending` sends rows after commit by e-mail (SMTP) to the recipient and to the configured
webhook, and marks them sent. Failed rows are retried a few times, then left with their last error.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts.models import User
from mamori.incidents.errors import UnsafeTarget
from mamori.incidents.models import Notification
from mamori.incidents.ssrf import guarded_post
from mamori.storage.db import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Channels:
    """Where notifications go; built from settings by the caller (nothing here reads the environment)."""

    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "mamori@localhost"
    webhook_url: str | None = None
    webhook_allow: tuple[str, ...] = ()  # networks a webhook may reach although private (e.g. "127.0.0.1/32")
    timeout: float = 5.0


def notify(
    session: Session,
    *,
    event: str,
    subject: str,
    body: str,
    org_id: str | None,
    incident_id: int | None,
    user_ids: Sequence[int | None] = (),
) -> list[Notification]:
    """One row per recipient with an e-mail address; one row without a recipient feeds the webhook only."""
    emails = [u.email for u in _users(session, user_ids) if u.email]
    rows = [
        Notification(
            event=event,
            org_id=org_id,
            incident_id=incident_id,
            recipient_email=email,
            subject=subject[:300],
            body=body,
        )
        for email in (emails or [""])
    ]
    session.add_all(rows)
    return rows


def _users(session: Session, user_ids: Sequence[int | None]) -> Sequence[User]:
    ids = [i for i in user_ids if i is not None]
    return session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))).all() if ids else []


def deliver_pending(session: Session, channels: Channels, *, limit: int = 100) -> int:
    """Send what is pending; returns how many were sent. Call with a session you commit afterwards."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    sent = 0
    for row in rows:
        row.attempts += 1
        try:
            _send(row, channels)
        except (OSError, smtplib.SMTPException, httpx.HTTPError, ValueError, UnsafeTarget) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("notification %s not delivered: %s", row.id, row.last_error)
            continue
        row.sent_at = utcnow()
        sent += 1
    return sent


def _send(row: Notification, channels: Channels) -> None:
    if row.recipient_email and channels.smtp_host:
        message = EmailMessage()
        message["From"] = channels.mail_from
        message["To"] = row.recipient_email
        message["Subject"] = row.subject
        message.set_content(row.body)
        with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=channels.timeout) as smtp:
            smtp.send_message(message)
    if channels.webhook_url:
        payload = {
            "event": row.event,
            "org": row.org_id,
            "incident_id": row.incident_id,
            "subject": row.subject,
            "body": row.body,
            "recipient": row.recipient_email or None,
        }
        guarded_post(channels.webhook_url, payload, allow=channels.webhook_allow, timeout=channels.timeout)
