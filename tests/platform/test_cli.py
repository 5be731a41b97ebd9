from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from mamori.accounts import service as accounts
from mamori.accounts.models import Organisation, User
from mamori.audit.models import AuditEntry
from mamori.cli.main import main
from mamori.core.errors import ConfigurationError
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


# --- a real (non-demo) installation, set up from the command line ------------------------------------------

PW = "long enough password"


def run(*args: str, input: str | None = None) -> Result:
    """The real `mamori` command group (its error reporting included), as a person would type it."""
    return CliRunner().invoke(main, list(args), input=input, prog_name="mamori")


def assert_one_error_line(result: Result, status: int, *fragments: str) -> None:
    assert result.exit_code == status, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback: an explained error
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def migrated(settings: Settings) -> str:
    data_dir = str(settings.data_dir)
    assert run("db", "upgrade", "--data-dir", data_dir).exit_code == 0
    return data_dir


def test_init_org_user_and_token_set_up_a_real_install_and_are_audited(settings: Settings, migrated: str) -> None:
    first = run("init", "--admin", "root", "--password-stdin", "--data-dir", migrated, input=PW + "\n")
    assert first.exit_code == 0, first.output
    again = run("init", "--admin", "other", "--password-stdin", "--data-dir", migrated, input=PW + "\n")
    assert_one_error_line(again, 1, "already initialised", "'ncc'")
    assert run("org", "create", "MOF", "Ministry of Finance", "--data-dir", migrated).exit_code == 0
    duplicate = run("org", "create", "mof", "Finance again", "--data-dir", migrated)
    assert_one_error_line(duplicate, 1, "'mof' exists already")
    listed = run("org", "list", "--data-dir", migrated)
    assert listed.exit_code == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [["mof", "ministry"], ["ncc", "national"]]
    officer = run("user", "create", "ana", "--role", "org_officer@MoF", "--password-stdin", "--data-dir", migrated,
                  input=PW + "\n")  # fmt: skip
    assert officer.exit_code == 0, officer.output
    token = run("token", "create", "sensor-1", "--org", "MOF", "--data-dir", migrated)
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip()
    assert secret.startswith("mmr_")

    db = Database(settings.resolved_database_url())
    with db.session() as s:
        root = s.scalar(select(User).where(User.username == "root"))
        assert root is not None and [(m.org_id, m.role) for m in root.memberships] == [("ncc", "admin")]
        assert s.scalar(select(User).where(User.username == "other")) is None
        assert s.get(Organisation, "ncc").kind == "national"  # type: ignore[union-attr]
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        principal = accounts.authenticate_token(s, secret=secret)
    db.dispose()
    assert principal.token_org == "mof" and principal.sensor == "sensor-1"
    actions = [(e.action, e.object_type) for e in entries]
    assert actions == [
        ("org.create", "organisation"),
        ("user.create", "user"),
        ("platform.init", "organisation"),
        ("org.create", "organisation"),
        ("user.create", "user"),
        ("token.create", "token"),
    ]
    assert all(e.actor.startswith("cli") for e in entries)  # the account that ran the command, as the console does


def test_init_asks_the_password_twice(migrated: str) -> None:
    mismatch = run("init", "--data-dir", migrated, input=f"{PW}\n{PW}x\n{PW}\n{PW}\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output


def test_a_short_password_is_one_line_and_creates_nothing(settings: Settings, migrated: str) -> None:
    short = run("init", "--password-stdin", "--data-dir", migrated, input="short\n")
    assert_one_error_line(short, 2, "password", "at least 10 characters")
    db = Database(settings.resolved_database_url())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 0  # the centre was not made either
    db.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["user", "create", "root", "--role", "admin@ncc", "--password", PW],
        ["ingest", "x.log", "--org", "ncc"],
        ["org", "list"],
        ["org", "create", "mof", "Ministry of Finance"],
        ["token", "create", "s1", "--org", "mof"],
        ["init", "--password-stdin"],
    ],
)
def test_a_missing_database_is_one_line_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAMORI_DATA_DIR", raising=False)
    monkeypatch.delenv("MAMORI_DATABASE_URL", raising=False)
    (tmp_path / "x.log").write_text("Nov 23 08:00:00 host app: hello\n")
    result = run(*command, input=PW + "\n")
    assert_one_error_line(result, 1, "no database at var/mamori.db", "mamori db upgrade")
    assert not (tmp_path / "var").exists()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "mamori.db").touch()  # a file that was never migrated
    empty = run(*command, input=PW + "\n")
    assert_one_error_line(empty, 1, "is empty", "mamori db upgrade")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "org", "list", "--data-dir", str(tmp_path / "nowhere"))
    assert isinstance(result.exception, ConfigurationError)


def test_ingest_into_an_unknown_organisation_writes_nothing(settings: Settings, migrated: str, tmp_path: Path) -> None:
    assert run("init", "--password-stdin", "--data-dir", migrated, input=PW + "\n").exit_code == 0
    log = tmp_path / "x.log"
    log.write_text("Nov 23 08:00:00 host app: hello\n")
    refused = run("ingest", str(log), "--org", "nope", "--data-dir", migrated)
    assert_one_error_line(refused, 2, "no organisation 'nope'")
    assert not any(settings.archive_dir.rglob("*.parquet"))  # no orphan archive file
    accepted = run("ingest", str(log), "--org", "NCC", "--data-dir", migrated)  # slugs are case-insensitive
    assert accepted.exit_code == 0, accepted.output
    assert len(list(settings.archive_dir.rglob("*.parquet"))) == 1


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """The console script itself, in a fresh folder: one line on stderr and status 1."""
    mamori = Path(sys.executable).with_name("mamori")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    done = subprocess.run(
        [str(mamori), "user", "create", "root", "--role", "admin@ncc", "--password", PW],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: no database at var/mamori.db — run `mamori db upgrade` (or set MAMORI_DATA_DIR / --data-dir)"
    ]


def test_the_command_line_starts_without_the_database_layer() -> None:
    """`mamori hunt` and `mamori --help` must not pay for SQLAlchemy (it is imported by the commands that use it)."""
    code = "import sys, mamori.cli.main; print(sorted(m for m in ('sqlalchemy', 'fastapi') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_a_usage_error_is_one_line_too(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nothere.log"), "--org", "mof")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: Invalid value for 'PATHS...': Path '{tmp_path / 'nothere.log'}' does not exist."
        " (see: mamori ingest --help)"
    ]


def test_a_second_init_is_refused_before_the_password_is_asked(migrated: str) -> None:
    assert run("init", "--password-stdin", "--data-dir", migrated, input=PW + "\n").exit_code == 0
    again = run("init", "--data-dir", migrated)  # no input at all: a prompt would abort
    assert_one_error_line(again, 1, "already initialised")
    assert "password" not in again.output


def test_no_password_at_the_end_of_input_is_one_line(migrated: str) -> None:
    result = run("init", "--data-dir", migrated, input="")
    assert_one_error_line(result, 2, "no password given", "--password-stdin")


def test_the_command_alone_shows_its_help() -> None:
    result = run()
    assert result.exit_code == 2 and "Commands:" in result.output and "error:" not in result.output


def test_ingest_into_an_unknown_organisation_loads_no_rules(settings: Settings, migrated: str, tmp_path: Path) -> None:
    """The organisation is checked before the rules are compiled: a refused import leaves no rule-cache."""
    assert run("init", "--password-stdin", "--data-dir", migrated, input=PW + "\n").exit_code == 0
    log = tmp_path / "x.log"
    log.write_text("Nov 23 08:00:00 host app: hello\n")
    refused = run("ingest", str(log), "--org", "nosuch", "--data-dir", migrated)
    assert_one_error_line(refused, 2, "no organisation 'nosuch'")
    assert not (settings.data_dir / "rule-cache").exists() or not any((settings.data_dir / "rule-cache").iterdir())


def test_ingest_reads_a_rotated_gzip_log_and_names_a_file_it_cannot_read(
    settings: Settings, migrated: str, tmp_path: Path
) -> None:
    import gzip

    assert run("init", "--password-stdin", "--data-dir", migrated, input=PW + "\n").exit_code == 0
    rotated = tmp_path / "access.log.1.gz"
    line = b'203.0.113.9 - - [23/Nov/2026:08:00:00 +0900] "GET /wp-login.php HTTP/1.1" 404 12 "-" "curl"\n'
    rotated.write_bytes(gzip.compress(line * 2))
    accepted = run("ingest", str(rotated), "--org", "ncc", "--data-dir", migrated)
    assert accepted.exit_code == 0, accepted.output
    assert "accepted 2 events" in accepted.output
    odd = tmp_path / "notes.bin"
    odd.write_bytes(b"nothing a parser knows\n")
    refused = run("ingest", str(odd), "--org", "ncc", "--data-dir", migrated)
    assert_one_error_line(refused, 2, str(odd), "unknown format")


def test_a_role_in_an_unknown_organisation_is_refused_before_the_password_is_asked(migrated: str) -> None:
    assert run("init", "--password-stdin", "--data-dir", migrated, input=PW + "\n").exit_code == 0
    result = run("user", "create", "bob", "--role", "admin@nowhere", "--data-dir", migrated)  # no input at all
    assert_one_error_line(result, 2, "no organisation 'nowhere'", "--role")
    assert "password" not in result.output
