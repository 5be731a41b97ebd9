from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from mamori.audit import service as audit
from mamori.migrations import downgrade, upgrade
from mamori.migrations.models import metadata
from mamori.settings import Settings
from mamori.storage.db import Database


def schema_drift(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    return list(diff)


def test_migrations_build_exactly_the_models_on_sqlite(db: Database) -> None:
    assert schema_drift(db.url) == []


def test_downgrade_to_base_and_back(settings: Settings, db: Database) -> None:
    downgrade(db.url, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(db.url)
    assert "alerts" in inspect(db.engine).get_table_names()


def test_audit_log_is_append_only_in_the_database(db: Database) -> None:
    with db.session() as s:
        audit.record(s, actor="tester", action="x.create", object_type="x", object_id=1)
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
            s.execute(text(statement))
    with db.session() as s:
        assert s.execute(text("SELECT actor FROM audit_log")).scalar_one() == "tester"
