"""The whole embedded pipeline: HTTP ingest → archive → bus → Sigma engine → alerts, and its recovery path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.alerts.models import Alert, DailyCount
from mamori.asgi import create_app
from mamori.detect.engine import Engine
from mamori.ingest import service as ingest
from mamori.ingest.models import IngestBatch
from mamori.platform import Platform
from mamori.storage.db import utcnow
from mamori.workers.detect import sweep_pending
from tests.conftest import login, make_token

RULE = """
title: Scanner user agent (test rule)
id: 6c1f2a57-3f0e-4a4e-9a53-1d2f0c7e0a11
status: test
level: high
logsource:
    category: webserver
detection:
    selection:
        cs-user-agent|contains: 'sqlmap'
    condition: selection
tags:
    - attack.reconnaissance
"""
SCAN = '198.51.100.77 - - [23/Nov/2026:08:15:0{n} +0000] "GET /item?id=1%27 HTTP/1.1" 500 12 "-" "sqlmap/1.8.11#stable"'
BENIGN = '203.0.113.5 - - [23/Nov/2026:08:15:09 +0000] "GET / HTTP/1.1" 200 5120 "-" "Mozilla/5.0"'


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "scanner.yml").write_text(RULE)
    return Engine([rules])


@pytest.fixture
def live(platform: Platform, engine: Engine) -> Iterator[TestClient]:
    platform.matcher = engine
    with TestClient(create_app(platform)) as c:
        yield c


def wait_for(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail("condition not reached in time")


def alert_count(platform: Platform) -> int:
    with platform.db.session() as s:
        return s.scalar(select(func.coalesce(func.sum(Alert.count), 0))) or 0


def test_http_ingest_reaches_an_alert_through_the_real_engine(live: TestClient, platform: Platform) -> None:
    token = make_token(platform.db, "mof", sensor="web1")
    body = "\n".join([SCAN.format(n=n) for n in range(3)] + [BENIGN]).encode()
    response = live.post("/api/v1/ingest?format=webaccess", content=body, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["accepted"] == 4
    wait_for(lambda: alert_count(platform) == 3)
    with platform.db.session() as s:
        (alert,) = s.scalars(select(Alert)).all()
        assert (alert.org_id, alert.severity, alert.rule_title) == ("mof", "high", "Scanner user agent (test rule)")
        assert s.scalar(select(func.sum(DailyCount.count))) == 3
        assert s.scalar(select(IngestBatch.detected_at)) is not None
    login(live, "org_officer-mof")
    detail = live.get(f"/api/v1/alerts/{alert.id}").json()
    assert len(detail["events"]) == 3 and "sqlmap" in detail["events"][0]["raw"]
    assert "mamori_detections_total" in live.get("/metrics").text


def test_a_batch_whose_message_was_lost_is_detected_by_the_sweeper(platform: Platform, engine: Engine) -> None:
    platform.matcher = engine
    with platform.db.session() as s:  # accepted and archived, but no bus ever delivered it
        accepted = ingest.accept(
            s, archive=platform.archive, org_id="mof", sensor="web1", data=SCAN.format(n=1).encode(), fmt="webaccess"
        )
        batch = s.get(IngestBatch, accepted.result.batch_id)
        assert batch is not None
        batch.received_at = utcnow() - timedelta(minutes=5)
    assert sweep_pending(platform) == 1
    assert alert_count(platform) == 1
    assert sweep_pending(platform) == 0  # idempotent: the batch is marked detected
    assert alert_count(platform) == 1


def test_events_read_back_from_the_archive_equal_what_was_accepted(platform: Platform) -> None:
    with platform.db.session() as s:
        accepted = ingest.accept(
            s,
            archive=platform.archive,
            org_id="mof",
            sensor="web1",
            data=(SCAN.format(n=1) + "\n" + BENIGN).encode(),
            fmt="webaccess",
        )
        batch = s.get(IngestBatch, accepted.result.batch_id)
        assert batch is not None
        reread = ingest.load_batch_events(batch)
    assert [e["@id"] for e in reread] == [e["@id"] for e in accepted.events]
    assert [e["raw"] for e in reread] == [e["raw"] for e in accepted.events]
    assert reread[0]["cs-user-agent"] == "sqlmap/1.8.11#stable"


def test_a_pending_batch_is_still_found_after_compaction(platform: Platform, engine: Engine) -> None:
    from mamori.workers.compactor import compact_recent

    platform.matcher = engine
    now = utcnow().strftime("%d/%b/%Y:%H:%M:%S +0000")
    lines = [
        SCAN.format(n=1).replace("23/Nov/2026:08:15:01 +0000", now),
        BENIGN.replace("23/Nov/2026:08:15:09 +0000", now),
    ]
    with platform.db.session() as s:
        first = ingest.accept(
            s, archive=platform.archive, org_id="mof", sensor="w", data=lines[0].encode(), fmt="webaccess"
        )
        ingest.accept(s, archive=platform.archive, org_id="mof", sensor="w", data=lines[1].encode(), fmt="webaccess")
        batch = s.get(IngestBatch, first.result.batch_id)
        assert batch is not None
        batch.received_at = utcnow() - timedelta(minutes=5)
    assert compact_recent(platform) == 1
    with platform.db.session() as s:
        batch = s.get(IngestBatch, first.result.batch_id)
        assert batch is not None and not Path(batch.files[0]).exists()
        assert [e["@id"] for e in ingest.load_batch_events(batch)] == [first.events[0]["@id"]]
    assert sweep_pending(platform) == 1 and alert_count(platform) == 1
