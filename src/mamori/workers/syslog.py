"""The syslog receiver of a platform process: messages go through the same ingest service as HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from mamori.core.errors import ConfigurationError
from mamori.core.messages import Event
from mamori.ingest import service as ingest
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.syslog_listener import SyslogListener
from mamori.platform import Platform


def _record(platform: Platform, items: list[Event | ParseFailure], peer: Any) -> None:
    org = platform.settings.syslog_org
    assert org is not None
    events = [i for i in items if not isinstance(i, ParseFailure)]
    failures = [i for i in items if isinstance(i, ParseFailure)]
    batch_id = str(uuid.uuid4())
    sensor = f"syslog:{peer[0] if isinstance(peer, tuple) else peer}"[:100]
    with platform.db.session() as session:
        accepted = ingest.record(
            session,
            archive=platform.archive,
            org_id=org,
            sensor=sensor,
            fmt="syslog",
            events=events,
            failures=failures,
            batch_id=batch_id,
            received=datetime.now(UTC),
        )
    platform.note_accepted(org, batch_id, accepted.events, len(failures))


async def start_syslog(platform: Platform) -> SyslogListener | None:
    settings = platform.settings
    if settings.syslog_udp_port is None and settings.syslog_tcp_port is None:
        return None
    if not settings.syslog_org:
        raise ConfigurationError("MAMORI_SYSLOG_ORG must name the organisation that syslog senders belong to")

    async def on_batch(items: list[Event | ParseFailure], peer: Any) -> None:
        await asyncio.to_thread(_record, platform, items, peer)

    listener = SyslogListener(
        on_batch, host=settings.syslog_host, udp_port=settings.syslog_udp_port, tcp_port=settings.syslog_tcp_port
    )
    await listener.start()
    return listener
