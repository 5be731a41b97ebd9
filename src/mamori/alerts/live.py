"""What the live alert feed (SSE) sends: one summary per alert change, numbered by its outbox row.

The outbox row id is the feed's event id: monotonic, and kept in the database for a day after publication
(``mamori.workers.relay``), so a client reconnecting with ``Last-Event-ID`` is sent what it missed from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.alerts.models import Alert
from mamori.alerts.service import source_address
from mamori.bus import subjects
from mamori.storage.outbox import OutboxMessage

REPLAY_LIMIT = 500  # changes sent on one reconnect; a client further behind reloads the alert list
REPLAY_SCAN = 5000  # outbox rows read to find them (other ministries' changes are skipped)


def summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "org": alert.org_id,
        "title": alert.rule_title,
        "severity": alert.severity,
        "status": alert.status,
        "count": alert.count,
        "last_seen": alert.last_seen.isoformat(),
        "src_ip": source_address(alert.entities),
        "host": alert.entities.get("host"),
    }


@dataclass(frozen=True)
class Replay:
    """What a reconnect is sent first: the newest missed changes (oldest first), and how many more it missed.

    `missed` counts the visible changes left out beyond the bound; `gap` says the outbox no longer keeps rows
    after the client's id (pruned), so an unknown number were lost too. Either means: reload the alert list."""

    changes: list[tuple[int, dict[str, Any]]]
    missed: int = 0
    gap: bool = False

    @property
    def incomplete(self) -> bool:
        return self.missed > 0 or self.gap


def changes_since(session: Session, *, principal: Principal, after_id: int, limit: int = REPLAY_LIMIT) -> Replay:
    """The published alert changes after `after_id` the caller may see: the newest `limit`, oldest first.

    Only published rows: an unpublished one reaches the listener live, once the relay sends it.
    """
    orgs = principal.require_any("alerts.view")
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.payload)
        .where(
            OutboxMessage.subject == subjects.ALERTS_CHANGED,
            OutboxMessage.id > after_id,
            OutboxMessage.published_at.is_not(None),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(REPLAY_SCAN)
    ).all()
    visible = [(i, p) for i, p in rows if orgs is None or p.get("org") in orgs]
    wanted = visible[:limit][::-1]
    oldest_kept = session.scalar(select(func.min(OutboxMessage.id)))
    gap = len(rows) == REPLAY_SCAN or (oldest_kept is not None and oldest_kept > after_id + 1)
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_({p["alert_id"] for _, p in wanted})))}
    changes = [
        (i, {**summary(alerts[p["alert_id"]]), "change": p.get("change", "")})
        for i, p in wanted
        if p["alert_id"] in alerts and (orgs is None or alerts[p["alert_id"]].org_id in orgs)
    ]
    return Replay(changes=changes, missed=max(0, len(visible) - limit), gap=gap)
