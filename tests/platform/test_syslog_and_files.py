"""Syslog and file import go through the same ingest service as HTTP: archived, dead-lettered, detected."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.asgi import create_app
from mamori.cli.main import main
from mamori.ingest.models import DeadLetter, IngestBatch
from mamori.platform import Platform
from mamori.settings import Settings
from tests.platform.test_pipeline import wait_for

LINE_5424 = (
    b"<34>1 2026-11-23T08:15:02.003Z fw01.mof.example sshd 4242 ID47 - Failed password for root from 198.51.100.9"
)
LINE_3164 = b"<13>Nov 23 08:15:03 web01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh"


def accepted(platform: Platform) -> int:
    with platform.db.session() as s:
        return s.scalar(select(func.coalesce(func.sum(IngestBatch.accepted), 0))) or 0


def test_syslog_over_udp_and_tcp_is_archived_for_the_configured_organisation(platform: Platform) -> None:
    platform.settings.syslog_udp_port = 0
    platform.settings.syslog_tcp_port = 0
    platform.settings.syslog_org = "mof"
    with TestClient(create_app(platform)):
        udp, tcp = platform.syslog.udp_address, platform.syslog.tcp_address
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(LINE_5424, udp)
        with socket.create_connection(tcp) as s:
            s.sendall(LINE_3164 + b"\n" + LINE_5424 + b"\n")
        wait_for(lambda: accepted(platform) == 3)
    events = platform.archive.query(orgs={"mof"}, since=_day("2026-11-22"), until=_day("2026-11-24"), limit=10)
    assert len(events) == 3 and all(e["sensor"].startswith("syslog:127.0.0.1") for e in events)


def _day(text: str):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_mamori_ingest_imports_files_and_dead_letters_bad_lines(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "logs"
    log.mkdir()
    (log / "access.log").write_text(
        '203.0.113.5 - - [23/Nov/2026:08:15:09 +0000] "GET / HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n'
        "this is not an access log line\n"
    )
    (log / "eve.json").write_text(
        '{"timestamp":"2026-11-23T08:00:00.000000+0000","event_type":"alert",'
        '"src_ip":"198.51.100.2","dest_ip":"10.0.0.5","alert":{"signature":"ET SCAN x"}}\n'
    )
    result = CliRunner().invoke(main, ["ingest", str(log), "--org", "mof", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    assert "accepted 2 events, dead-lettered 1 records" in result.output
    with platform.db.session() as s:
        (dead,) = s.scalars(select(DeadLetter)).all()
        assert dead.raw == b"this is not an access log line" and dead.org_id == "mof"
