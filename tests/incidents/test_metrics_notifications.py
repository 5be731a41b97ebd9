from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from mamori.core.severity import Severity
from mamori.incidents import metrics, notifications, ssrf
from mamori.incidents import service as incidents
from mamori.incidents.enums import Category, Phase
from mamori.incidents.errors import UnsafeTarget
from mamori.incidents.models import Notification, SlaBreach
from mamori.incidents.schemas import IncidentIn, IncidentUpdate, TransitionIn
from mamori.storage.db import Database, utcnow
from tests.incidents.conftest import user_id, who


def test_clocks_stop_at_milestones_and_open_clocks_breach(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(
            s, principal=officer, data=IncidentIn(org_id="mof", title="x", severity=Severity.CRITICAL)
        )
        start = inc.detected_at
        incidents.transition(
            s,
            principal=officer,
            incident_id=inc.id,
            data=TransitionIn(phase=Phase.CONTAINMENT),
            now=start + timedelta(minutes=10),
        )
        incidents.transition(
            s,
            principal=officer,
            incident_id=inc.id,
            data=TransitionIn(phase=Phase.ERADICATION),
            now=start + timedelta(hours=5),
        )
        m = metrics.for_incident(inc, now=start + timedelta(hours=30))
        assert m.clock("acknowledge").elapsed == timedelta(minutes=10) and not m.clock("acknowledge").breached
        assert m.clock("contain").elapsed == timedelta(hours=5) and m.clock("contain").breached  # target 4 h
        assert m.clock("recover").elapsed == timedelta(hours=30) and not m.clock("recover").stopped
        assert m.breaches == ["contain", "recover"]


def test_aggregates_per_org_category_and_month(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        for category in (Category.DDOS, Category.DDOS, Category.PHISHING):
            inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="x", category=category))
            incidents.transition(
                s,
                principal=officer,
                incident_id=inc.id,
                data=TransitionIn(phase=Phase.CONTAINMENT),
                now=inc.detected_at + timedelta(hours=1),
            )
        now = utcnow()
        rows = metrics.aggregate(s, principal=officer, since=now - timedelta(days=31), now=now)
        by_cat = {r.category: r for r in rows}
        assert by_cat["ddos"].incidents == 2 and by_cat["ddos"].median_hours("acknowledge") == 1.0
        assert by_cat["phishing"].median_hours("contain") is None
        assert metrics.aggregate(s, principal=who(s, "org_officer-mofa"), since=now - timedelta(days=31), now=now) == []


def test_breaches_are_recorded_and_announced_once(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="x", severity=Severity.HIGH))
        incidents.update(
            s, principal=officer, incident_id=inc.id, data=IncidentUpdate(lead_id=user_id(s, "org_officer-mof"))
        )
        later = inc.detected_at + timedelta(hours=1)
        assert metrics.scan_breaches(s, now=later).breaches == [(inc.id, "acknowledge")]
        assert metrics.scan_breaches(s, now=later).breaches == []
        assert metrics.scan_breaches(s, now=later, after_id=inc.id).breaches == []
        assert s.scalar(select(func.count()).select_from(SlaBreach)) == 1
        note = s.scalar(select(Notification).where(Notification.event == "sla.breach"))
        assert note is not None and note.recipient_email == "org_officer-mof@example.test"


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Sink, int]]:
    sink = _Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_notifications_go_out_by_smtp_and_webhook(
    tenants: Database, smtp: tuple[_Sink, int], webhook: tuple[list[dict[str, Any]], str]
) -> None:
    sink, port = smtp
    received, url = webhook
    with tenants.session() as s:
        notifications.notify(
            s,
            event="task.assigned",
            subject="[mamori] Task",
            body="do it",
            org_id="mof",
            incident_id=1,
            user_ids=[user_id(s, "org_officer-mof")],
        )
    channels = notifications.Channels(
        smtp_host="127.0.0.1", smtp_port=port, webhook_url=url, webhook_allow=("127.0.0.1/32",)
    )
    with tenants.session() as s:
        assert notifications.deliver_pending(s, channels) == 1
    with tenants.session() as s:
        assert notifications.deliver_pending(s, channels) == 0
    assert sink.messages[0].rcpt_tos == ["org_officer-mof@example.test"]
    assert b"Subject: [mamori] Task" in sink.messages[0].content
    assert received == [
        {
            "event": "task.assigned",
            "org": "mof",
            "incident_id": 1,
            "subject": "[mamori] Task",
            "body": "do it",
            "recipient": "org_officer-mof@example.test",
        }
    ]


def test_the_ssrf_guard_refuses_private_targets_unless_allowed(
    tenants: Database, webhook: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = webhook
    for target in (
        url,
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "file:///etc/passwd",
    ):
        with pytest.raises(UnsafeTarget):
            ssrf.resolve(target, allow=())
    with tenants.session() as s:
        notifications.notify(s, event="x", subject="s", body="b", org_id=None, incident_id=None)
    with tenants.session() as s:
        assert notifications.deliver_pending(s, notifications.Channels(webhook_url=url)) == 0
        row = s.scalar(select(Notification))
        assert row is not None and "UnsafeTarget" in row.last_error and row.sent_at is None
    assert received == []
    asyncio.run(asyncio.sleep(0))  # nothing async left behind


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "169.254.169.254", "100.64.0.1", "::"],
)
def test_webhook_targets_are_judged_by_the_platform_rule(address: str) -> None:
    """The webhook guard shares the website watch's address rule: IPv6 forms hiding a loopback are refused too."""
    with pytest.raises(UnsafeTarget):
        ssrf.check_address(ipaddress.ip_address(address), allow=())


def test_an_allowed_network_admits_an_internal_webhook() -> None:
    ssrf.check_address(ipaddress.ip_address("10.1.2.3"), allow=("10.1.0.0/16",))
    with pytest.raises(UnsafeTarget):
        ssrf.check_address(ipaddress.ip_address("198.51.100.7"), allow=())  # not global, refused
    ssrf.check_address(ipaddress.ip_address("8.8.8.8"), allow=())
