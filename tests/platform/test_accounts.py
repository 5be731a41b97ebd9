from __future__ import annotations

import pytest
from sqlalchemy import select

from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind, Role
from mamori.accounts.models import User
from mamori.accounts.schemas import MembershipIn, OrgIn, TokenIn, UserIn
from mamori.audit.models import AuditEntry
from mamori.core.errors import AuthenticationRequired, Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.storage.db import Database
from tests.conftest import PASSWORD, seed_tenants


def principal(db: Database, username: str):  # type: ignore[no-untyped-def]
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.principal_for(s, user)


def test_passwords_are_argon2id_hashes(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "admin-ncc"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_login_checks_password_and_audits_failures(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        cookie, stored = accounts.login(s, username="admin-ncc", password=PASSWORD, hours=1)
    with db.session() as s:
        who, _ = accounts.resolve_session(s, cookie=cookie)
        assert who.name == "admin-ncc" and stored.csrf_token
    for username, password in (("admin-ncc", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationRequired), db.session() as s:
            accounts.login(s, username=username, password=password, hours=1)
    with db.session() as s:
        accounts.logout(s, cookie=cookie)
    with pytest.raises(AuthenticationRequired), db.session() as s:
        accounts.resolve_session(s, cookie=cookie)


def test_visibility_national_sees_all_ministry_sees_own(db: Database) -> None:
    seed_tenants(db)
    national = principal(db, "national_analyst-ncc")
    officer = principal(db, "org_officer-mof")
    assert national.visible_orgs("alerts.view") is None
    assert officer.visible_orgs("alerts.view") == frozenset({"mof"})
    assert officer.can("alerts.triage", "mof") and not officer.can("alerts.triage", "mofa")
    assert principal(db, "trainer-mof").visible_orgs("alerts.view") == frozenset()
    with db.session() as s:
        assert [o.id for o in accounts.list_orgs(s, principal=officer)] == ["mof"]
        with pytest.raises(NotFound):
            accounts.get_org(s, principal=officer, org_id="mofa")


def test_only_admins_manage_users_and_only_their_organisations(db: Database) -> None:
    seed_tenants(db)
    data = UserIn(username="newbie", password=PASSWORD, memberships=[MembershipIn(org_id="mofa", role=Role.RESPONDER)])
    with pytest.raises(PermissionDenied), db.session() as s:
        accounts.create_user(s, principal=principal(db, "admin-mof"), data=data)
    with pytest.raises(PermissionDenied), db.session() as s:
        accounts.create_user(s, principal=principal(db, "org_officer-mofa"), data=data)
    with db.session() as s:
        accounts.create_user(s, principal=principal(db, "admin-mofa"), data=data)
    with pytest.raises(Conflict), db.session() as s:
        accounts.create_user(s, principal=principal(db, "admin-ncc"), data=data)
    with pytest.raises(PermissionDenied), db.session() as s:
        accounts.create_org(s, principal=principal(db, "admin-mof"), data=OrgIn(id="moj", name="Justice"))
    with db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action)))
    assert actions.count("user.create") == 3 * 6 + 1


def test_tokens_authenticate_until_revoked_and_store_only_a_hash(db: Database) -> None:
    seed_tenants(db)
    admin = principal(db, "admin-ncc")
    with db.session() as s:
        secret, token = accounts.create_token(s, principal=admin, data=TokenIn(name="fw", org_id="mof", sensor="fw1"))
        assert secret not in token.token_hash
    with db.session() as s:
        caller = accounts.authenticate_token(s, secret=secret)
        assert caller.token_org == "mof" and caller.sensor == "fw1" and "ingest" in caller.scopes
        assert caller.visible_orgs("alerts.view") == frozenset()
    with db.session() as s:
        accounts.revoke_token(s, principal=admin, token_id=token.id, reason="firewall replaced")
    with pytest.raises(AuthenticationRequired), db.session() as s:
        accounts.authenticate_token(s, secret=secret)
    with pytest.raises(NotFound), db.session() as s:
        accounts.revoke_token(s, principal=principal(db, "org_officer-mofa"), token_id=token.id, reason="x")


def test_organisation_slugs_ignore_letter_case(db: Database) -> None:
    seed_tenants(db)
    admin = principal(db, "admin-ncc")
    with db.session() as s:
        assert {accounts.get_org(s, principal=admin, org_id=slug).id for slug in ("MOF", "mof", "Mof")} == {"mof"}
        with pytest.raises(Conflict, match="exists already"):
            accounts.create_org(s, principal=admin, data=OrgIn(id="MOF", name="Finance again"))
        user = accounts.create_user(
            s,
            principal=admin,
            data=UserIn(
                username="new-officer",
                password=PASSWORD,
                memberships=[MembershipIn(org_id="MoFa", role=Role.ORG_OFFICER)],
            ),
        )
        assert [m.org_id for m in user.memberships] == ["mofa"]
        _, token = accounts.create_token(s, principal=admin, data=TokenIn(name="t", org_id="MOFA"))
        assert token.org_id == "mofa"
    officer = principal(db, "new-officer")
    assert officer.can("alerts.triage", "mofa")


def _names(users) -> list[str]:  # type: ignore[no-untyped-def]
    return [u.username for u in users]


def test_people_search_by_name_any_case_limited_and_scoped(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        hit = s.scalar(select(User).where(User.username == "responder-mofa"))
        assert hit is not None
        hit.display_name = "Ren Suzuki"
    with db.session() as s:
        admin = principal(db, "admin-ncc")
        assert _names(accounts.search_users(s, principal=admin, text="SUZUKI")) == ["responder-mofa"]
        assert _names(accounts.search_users(s, principal=admin, text="officer-MO")) == [
            "org_officer-mof",
            "org_officer-mofa",
        ]
        assert len(accounts.search_users(s, principal=admin, text="", limit=3)) == 3
        assert len(accounts.search_users(s, principal=admin, limit=0)) == 1  # clamped, never "no limit"
        assert _names(accounts.search_users(s, principal=admin, text="%")) == []  # a wildcard is a character
        # The national analyst manages the roster: every responder, of any ministry, and nobody else.
        lead = principal(db, "national_analyst-ncc")
        assert _names(accounts.search_users(s, principal=lead)) == ["responder-mof", "responder-mofa", "responder-ncc"]
        assert accounts.find_person(s, principal=lead, name="ren suzuki", where="person").username == "responder-mofa"
        with pytest.raises(ValidationFailed):
            accounts.find_person(s, principal=lead, name="org_officer-mofa", where="person")
        # A ministry officer searches their own ministry's users only.
        officer = principal(db, "org_officer-mof")
        found = _names(accounts.search_users(s, principal=officer))
        assert found and all(n.endswith("-mof") for n in found)
        assert accounts.search_users(s, principal=officer, text="suzuki") == []
        with pytest.raises(PermissionDenied):
            accounts.search_users(s, principal=principal(db, "responder-ncc"))


def test_a_second_national_centre_is_refused_naming_the_first(db: Database) -> None:
    seed_tenants(db)
    admin = principal(db, "admin-ncc")
    with db.session() as s, pytest.raises(Conflict, match="'ncc'"):
        accounts.create_org(s, principal=admin, data=OrgIn(id="ncc2", name="Second", kind=OrgKind.NATIONAL))
    with db.session() as s, pytest.raises(Conflict, match="national centre"):
        accounts.create_org(s, principal=None, data=OrgIn(id="ncc3", name="Third", kind=OrgKind.NATIONAL))
    with db.session() as s:
        assert accounts.find_org(s, "ncc2") is None and accounts.find_org(s, "ncc3") is None
