"""`mamori up --demo` seeds a living roster: responders of several organisations, on the roster with skills."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.accounts.service import principal_for
from mamori.asgi import build_platform
from mamori.cases import roster
from mamori.cli import demo
from mamori.platform import Platform
from mamori.settings import Settings
from mamori.storage.db import Database


@pytest.fixture
def empty_platform(settings: Settings, db: Database) -> Iterator[Platform]:
    p = build_platform(settings)
    p.db.dispose()
    p.db = db
    yield p


def test_demo_seeds_a_roster_from_several_organisations(empty_platform: Platform) -> None:
    logins = demo.seed(empty_platform)
    demo.seed(empty_platform)  # a second start keeps the roster as it is
    with empty_platform.db.session() as s:
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        assert analyst is not None
        rows = roster.entries(s, principal=principal_for(s, analyst))
    assert len(rows) == len(demo.RESPONDERS) >= 4
    assert len({e.home_org_id for e in rows}) >= 4
    assert all(e.skills and e.available and e.load == 0 for e in rows)
    assert all(e.username in logins.users for e in rows)  # each can log in to the demo
    assert {e.display_name for e in rows} >= {"Yui Takahashi", "Ren Suzuki"}  # people, not usernames
