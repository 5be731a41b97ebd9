from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from mamori.alerts import service as alerts
from mamori.alerts.schemas import AlertFilter
from mamori.audit import service as audit
from mamori.migrations import downgrade, upgrade
from mamori.storage.db import Database
from tests.conftest import seed_tenants
from tests.platform.test_alerts import det, who
from tests.platform.test_migrations import schema_drift

pytestmark = pytest.mark.integration


def test_the_same_migrations_build_the_models_on_postgresql(pg_url: str) -> None:
    upgrade(pg_url)
    assert schema_drift(pg_url) == []
    downgrade(pg_url, "base")
    upgrade(pg_url)
    assert schema_drift(pg_url) == []


def test_services_work_on_postgresql_with_tenancy_and_append_only_audit(pg_url: str) -> None:
    upgrade(pg_url)
    db = Database(pg_url)
    try:
        seed_tenants(db)
        with db.session() as s:
            alerts.fold(s, [det(1), det(2), det(3, org="mofa")])
        with db.session() as s:
            rows, total = alerts.list_(s, principal=who(db, "org_officer-mof"), filters=AlertFilter())
            assert total == 1 and rows[0].count == 2 and rows[0].first_seen.tzinfo is not None
            assert alerts.list_(s, principal=who(db, "national_analyst-ncc"), filters=AlertFilter(q="203.0"))[1] == 2
            audit.record(s, actor="t", action="x", object_type="x", object_id=1)
        with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
            s.execute(text("DELETE FROM audit_log"))
        assert datetime.now(UTC).year >= 2026
    finally:
        db.dispose()
