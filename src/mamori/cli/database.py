"""The database a command works on, refused in one clear line when it is missing or not migrated.

Why a check of its own: SQLite creates an empty file on first connect, so a command run in the wrong folder
would otherwise fail deep inside SQLAlchemy ("no such table") or leave a stray ``var/mamori.db`` behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from mamori.core.errors import ConfigurationError
from mamori.i18n import _
from mamori.settings import Settings
from mamori.storage.db import Database

HINT = "run `mamori db upgrade` (or set MAMORI_DATA_DIR / --data-dir)"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def open_database(settings: Settings) -> Database:
    """The migrated database of ``settings``; the caller disposes of it."""
    url = settings.resolved_database_url()
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise ConfigurationError(_("no database at %(path)s — %(hint)s", path=path, hint=_(HINT)))
    database = Database(url)
    try:
        with _quiet_alembic(), database.engine.connect() as connection:
            from mamori.migrations import current_revision, head_revision  # alembic logs as it loads

            current = current_revision(connection)
            head = head_revision()
        if current is None:
            raise ConfigurationError(
                _("the database at %(where)s is empty — %(hint)s", where=_shown(url), hint=_(HINT))
            )
        if current != head:
            raise ConfigurationError(
                _("the database at %(where)s is not at the current schema — run `mamori db upgrade`", where=_shown(url))
            )
    except BaseException:
        database.dispose()
        raise
    return database


def require_database(settings: Settings) -> None:
    """Refuse a command before it writes anything when its database is missing or not migrated."""
    open_database(settings).dispose()


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """A check is not a migration: alembic's INFO lines ("setup plugin …") would bury the command's output."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _shown(url: str) -> str:
    path = sqlite_file(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)
