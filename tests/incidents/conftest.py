"""Fixtures for the response domain: a real SQLite database migrated by Alembic, the standard tenants, and
helpers to act as a seeded user. Nothing here imports the ASGI app, so these tests run on their own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind, Role
from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.accounts.schemas import MembershipIn, OrgIn, UserIn
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.migrations import upgrade
from mamori.settings import Settings, load_settings
from mamori.storage.db import Database

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", secret_key="test-secret-key-0123456789")


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Migrate and seed once per session; each test gets a copy of the file (argon2 and Alembic are slow)."""
    base = tmp_path_factory.mktemp("template")
    empty, seeded = base / "empty.db", base / "seeded.db"
    upgrade(f"sqlite:///{empty}")
    shutil.copyfile(empty, seeded)
    database = Database(f"sqlite:///{seeded}")
    seed(database)
    database.dispose()
    return empty, seeded


def _copy(template: Path, settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, settings.sqlite_path)
    return Database(settings.resolved_database_url())


@pytest.fixture
def db(settings: Settings, _template: tuple[Path, Path]) -> Iterator[Database]:
    database = _copy(_template[0], settings)
    yield database
    database.dispose()


def seed(database: Database) -> None:
    """The national centre, two ministries, one user per role in each (same names as tests/conftest.py)."""
    with database.session() as s:
        accounts.create_org(s, principal=None, data=OrgIn(id="ncc", name="National Centre", kind=OrgKind.NATIONAL))
        accounts.create_org(s, principal=None, data=OrgIn(id="mof", name="Ministry of Finance"))
        accounts.create_org(s, principal=None, data=OrgIn(id="mofa", name="Ministry of Foreign Affairs"))
        for org in ("ncc", "mof", "mofa"):
            for role in Role:
                accounts.create_user(
                    s,
                    principal=None,
                    data=UserIn(
                        username=f"{role.value}-{org}",
                        password=PASSWORD,
                        email=f"{role.value}-{org}@example.test",
                        memberships=[MembershipIn(org_id=org, role=role)],
                    ),
                )


@pytest.fixture
def tenants(settings: Settings, _template: tuple[Path, Path]) -> Iterator[Database]:
    """A database with the standard tenants already seeded."""
    database = _copy(_template[1], settings)
    yield database
    database.dispose()


def who(session: Session, username: str) -> Principal:
    """The principal of a seeded user, read fresh (grants change with deployments)."""
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return accounts.principal_for(session, user)


def user_id(session: Session, username: str) -> int:
    uid = session.scalar(select(User.id).where(User.username == username))
    assert uid is not None
    return uid


def make_alert(
    session: Session,
    org: str,
    *,
    rule_id: str = "web-defacement",
    producer: str = "website",
    severity: Severity = Severity.HIGH,
    entities: dict[str, str] | None = None,
    at: datetime | None = None,
    title: str = "Home page defaced",
) -> Alert:
    (folded,) = alerts.fold(
        session,
        [
            Detection(
                producer=producer,
                rule_id=rule_id,
                rule_title=title,
                severity=severity,
                org=org,
                timestamp=at or datetime.now(UTC),
                entities=entities or {"url": f"https://www.{org}.example/", "src_ip": "203.0.113.7"},
            )
        ],
    )
    return folded.alert
