"""`mamori up --demo` restarted on the same data dir continues: the seeded day is sent once, whatever the
number of starts (each replay used to send the whole day again: "today" went from 7,781 to 13,352)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from mamori.alerts.models import DailyCount
from mamori.asgi import build_platform, create_app
from mamori.cli import demo
from mamori.detect.engine import CONTENT_RULES, Engine
from mamori.ingest.models import IngestBatch
from mamori.migrations import upgrade
from mamori.platform import Platform
from mamori.settings import Settings, load_settings
from mamori.storage import progress
from mamori.storage.db import Database
from mamori.storage.progress import Progress


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", secret_key="test-secret-key-0123456789", websites_enabled=False)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine([CONTENT_RULES], cache_dir=tmp_path_factory.mktemp("cache"))


@contextmanager
def start(settings: Settings, engine: Engine) -> Iterator[tuple[Platform, TestClient, demo.DemoLogins]]:
    """One `mamori up --demo` start, as the CLI does it: migrate, build, seed, serve (detection ready)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    platform = build_platform(settings)
    engine.reload()  # a new process: no correlation state
    platform.matcher = engine
    logins = demo.seed(platform)
    try:
        with TestClient(create_app(platform)) as client:
            yield platform, client, logins
            _wait_detected(platform)
    finally:
        platform.db.dispose()


def replay(client: TestClient, platform: Platform, logins: demo.DemoLogins, *, fail_after: int | None = None) -> int:
    posted = 0

    async def post(token: str, fmt: str, body: bytes) -> bool:
        nonlocal posted
        if fail_after is not None and posted >= fail_after:
            return False  # the server went away mid-replay
        response = client.post(
            "/api/v1/ingest", params={"format": fmt}, content=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 202, response.text
        posted += 1
        return True

    return asyncio.run(demo.replay_day(platform, logins, post=post))


def _wait_detected(platform: Platform) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with platform.db.session() as s:
            if not s.scalar(select(func.count()).where(IngestBatch.detected_at.is_(None))):
                return
        time.sleep(0.1)
    pytest.fail("batches not detected in time")


def counts(settings: Settings) -> dict[str, int]:
    """Today's count as the dashboard sums it, every detection counted, the batches, the demo history."""
    database = Database(settings.resolved_database_url())
    today = datetime.now(UTC).date()
    with database.session() as s:
        real = select(func.coalesce(func.sum(DailyCount.count), 0)).where(DailyCount.demo.is_(False))
        history = select(func.coalesce(func.sum(DailyCount.count), 0)).where(DailyCount.demo.is_(True))
        out = {
            "today": s.scalar(real.where(DailyCount.day == today)) or 0,
            "counted": s.scalar(real) or 0,
            "batches": s.scalar(select(func.count()).select_from(IngestBatch)) or 0,
            "accepted": s.scalar(select(func.coalesce(func.sum(IngestBatch.accepted), 0))) or 0,
            "history": s.scalar(history) or 0,
            "history_rows": s.scalar(select(func.count()).where(DailyCount.demo.is_(True))) or 0,
        }
    database.dispose()
    return out


def test_a_restarted_demo_continues_the_day_and_never_replays_it(settings: Settings, engine: Engine) -> None:
    with start(settings, engine) as (platform, client, logins):
        assert replay(client, platform, logins, fail_after=3) == 3  # stopped after 3 batches
    with start(settings, engine) as (platform, client, logins):
        rest = replay(client, platform, logins)  # the next start sends the rest of the same day
        with platform.db.session() as s:
            end = datetime.fromisoformat(str((progress.read(s, name=demo.REPLAY) or {})["end"]))
    day = list(demo.day_of_traffic([org for org, _, _ in demo.MINISTRIES], end))
    once = counts(settings)
    assert rest == len(day) - 3 and once["batches"] == len(day)
    assert once["accepted"] == sum(len(b.body.splitlines()) for b in day)  # every record of the day, once
    assert once["today"] > 0 and once["history"] > 0

    with start(settings, engine) as (platform, client, logins):
        assert replay(client, platform, logins) == 0
    again = counts(settings)
    assert again == once  # today not doubled, the history not written a second time


def test_a_data_dir_whose_demo_ran_before_progress_was_kept_does_not_replay_its_day(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    platform = build_platform(settings)
    logins = demo.seed(platform)
    with platform.db.session() as s:  # what an earlier start left: a demo sensor's batch, no progress row
        s.add(IngestBatch(id="earlier", org_id="mof", sensor="mof-web-sensor", format="webaccess", accepted=1))
        s.execute(delete(Progress).where(Progress.name == demo.REPLAY))

    async def post(token: str, fmt: str, body: bytes) -> bool:
        pytest.fail("the day was sent again")

    try:
        assert asyncio.run(demo.replay_day(platform, logins, post=post)) == 0
    finally:
        platform.db.dispose()
