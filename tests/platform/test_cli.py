from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.cli.main import main
from mamori.settings import Settings
from mamori.storage.db import Database


def test_db_upgrade_then_user_create(settings: Settings) -> None:
    runner = CliRunner()
    data_dir = str(settings.data_dir)
    assert runner.invoke(main, ["db", "upgrade", "--data-dir", data_dir]).exit_code == 0
    refused = runner.invoke(
        main,
        [
            "user",
            "create",
            "ana",
            "--role",
            "national_analyst@ncc",
            "--password",
            "long enough password",
            "--data-dir",
            data_dir,
        ],
    )
    assert refused.exit_code != 0 and "no organisation 'ncc'" in refused.output
    from mamori.accounts import service as accounts
    from mamori.accounts.enums import OrgKind
    from mamori.accounts.schemas import OrgIn

    db = Database(settings.resolved_database_url())
    with db.session() as s:
        accounts.create_org(s, principal=None, data=OrgIn(id="ncc", name="Centre", kind=OrgKind.NATIONAL))
    bad_role = runner.invoke(main, ["user", "create", "ana", "--role", "wizard@ncc", "--data-dir", data_dir])
    assert bad_role.exit_code != 0 and "expected ROLE@ORG" in bad_role.output
    ok = runner.invoke(
        main,
        [
            "user",
            "create",
            "ana",
            "--role",
            "national_analyst@ncc",
            "--password",
            "long enough password",
            "--data-dir",
            data_dir,
        ],
    )
    assert ok.exit_code == 0, ok.output
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "ana"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
    db.dispose()
