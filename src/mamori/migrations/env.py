"""Alembic environment: one code path for SQLite (batch mode for ALTERs) and PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from mamori.migrations.models import metadata
from mamori.storage.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run() -> None:
    # NullPool for servers: a migration run must not leave pooled connections behind.
    engine = make_engine(url) if url.startswith("sqlite") else create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
