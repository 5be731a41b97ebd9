"""Shared fixtures: real SQLite databases migrated by Alembic, a real app, real users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from fastapi.testclient import TestClient

from mamori.accounts import passwords
from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind, Role
from mamori.accounts.schemas import MembershipIn, OrgIn, TokenIn, UserIn
from mamori.asgi import build_platform, create_app
from mamori.migrations import upgrade
from mamori.platform import Platform
from mamori.settings import Settings, load_settings
from mamori.storage.db import Database

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PASSWORD = "correct horse battery"

# Still argon2id, at its cheapest cost: 18 users per test would otherwise cost ~7 s of hashing.
passwords.use_parameters(argon2.profiles.CHEAPEST)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or a clean skip where that folder is absent (a user's fresh clone)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party test data not present: {path}")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The website watch stays off in the shared fixture (it would try to fetch every planted site's URL);
    # tests of the watch start it themselves.
    return load_settings(data_dir=tmp_path / "data", secret_key="test-secret-key-0123456789", websites_enabled=False)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    database = Database(settings.resolved_database_url())
    yield database
    database.dispose()


def seed_tenants(database: Database) -> None:
    """A national centre and two ministries, one user per role in each, and a sensor token per ministry."""
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
                        memberships=[MembershipIn(org_id=org, role=role)],
                    ),
                )


def make_token(database: Database, org: str, sensor: str = "s1") -> str:
    with database.session() as s:
        secret, _ = accounts.create_token(
            s, principal=None, data=TokenIn(name=f"{org}-{sensor}", org_id=org, sensor=sensor)
        )
    return secret


@pytest.fixture
def platform(settings: Settings, db: Database) -> Iterator[Platform]:
    seed_tenants(db)
    p = build_platform(settings)
    p.db.dispose()
    p.db = db
    yield p


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token and leaves the session cookie in the client."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token
