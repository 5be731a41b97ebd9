"""The scaled adapters end to end: PostgreSQL for state, NATS JetStream for the bus."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import nats
import pytest
from fastapi.testclient import TestClient

from mamori.asgi import build_platform, create_app
from mamori.detect.engine import Engine
from mamori.migrations import upgrade
from mamori.settings import load_settings
from tests.conftest import make_token, seed_tenants
from tests.platform.test_pipeline import BENIGN, RULE, SCAN, alert_count, wait_for

pytestmark = pytest.mark.integration


def test_ingest_to_alert_on_postgresql_and_jetstream(tmp_path: Path, pg_url: str, nats_url: str) -> None:
    stream = f"MAMORI_T_{uuid.uuid4().hex[:10].upper()}"
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=pg_url,
        bus="nats",
        nats_url=nats_url,
        nats_stream=stream,
        nats_prefix=f"t{uuid.uuid4().hex[:8]}.",
        websites_enabled=False,
    )
    upgrade(pg_url)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "scanner.yml").write_text(RULE)
    platform = build_platform(settings, matcher=Engine([rules]))
    try:
        seed_tenants(platform.db)
        token = make_token(platform.db, "mofa", sensor="web9")
        with TestClient(create_app(platform)) as client:
            body = "\n".join([SCAN.format(n=n) for n in range(4)] + [BENIGN]).encode()
            response = client.post(
                "/api/v1/ingest?format=webaccess", content=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 202 and response.json()["accepted"] == 5
            wait_for(lambda: alert_count(platform) == 4, timeout=30)
    finally:
        platform.db.dispose()
        asyncio.run(_delete_stream(nats_url, stream))


async def _delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()
