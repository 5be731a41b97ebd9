"""`mamori …`: the platform's command line. Each sub-command is a thin wrapper over the services."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

import click

from mamori.accounts import service as accounts
from mamori.accounts.enums import Role
from mamori.accounts.schemas import MembershipIn, UserIn
from mamori.core.errors import MamoriError
from mamori.settings import Settings, load_settings


def _settings(data_dir: Path | None) -> Settings:
    return load_settings(**({"data_dir": data_dir} if data_dir else {}))


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory (default: $MAMORI_DATA_DIR or ./var).",
)


@click.group()
@click.version_option("0.1.0", prog_name="mamori")
def main() -> None:
    """mamori: a defence platform for a national cyber-defence centre."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Apply every migration (SQLite or PostgreSQL, from MAMORI_DATABASE_URL)."""
    from mamori.migrations import upgrade

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    click.echo(f"database at head: {_redact(settings.resolved_database_url())}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@main.group()
def user() -> None:
    """Console accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE@ORG",
    help=f"A role in an organisation, e.g. national_analyst@ncc. Roles: {', '.join(Role)}.",
)
@click.option("--password", default=None, help="Read from the terminal when absent.")
@click.option("--display-name", default="")
@data_dir_option
def user_create(
    username: str, roles: tuple[str, ...], password: str | None, display_name: str, data_dir: Path | None
) -> None:
    """Create a console user (bootstrap: runs with full rights on the local database)."""
    from mamori.storage.db import Database

    memberships = []
    for spec in roles:
        role, _, org = spec.partition("@")
        if role not in Role.__members__.values() or not org:
            raise click.BadParameter(f"{spec!r}: expected ROLE@ORG with ROLE one of {', '.join(Role)}")
        memberships.append(MembershipIn(org_id=org, role=Role(role)))
    secret = password or getpass.getpass(f"password for {username}: ")
    database = Database(_settings(data_dir).resolved_database_url())
    try:
        with database.session() as session:
            accounts.create_user(
                session,
                principal=None,
                data=UserIn(username=username, password=secret, display_name=display_name, memberships=memberships),
            )
    except MamoriError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(f"user {username} created")


@main.command()
@click.option("--demo", is_flag=True, help="Seed organisations, users and a day of traffic.")
@click.option("--host", default=None, help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@data_dir_option
def up(demo: bool, host: str | None, port: int | None, data_dir: Path | None) -> None:
    """Start the embedded platform in one process: API, console, pipeline and scheduler."""
    from mamori.cli.up import run

    overrides: dict[str, object] = {}
    if data_dir:
        overrides["data_dir"] = data_dir
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    run(load_settings(**overrides), demo=demo)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--org", required=True, help="Organisation the records belong to.")
@click.option("--sensor", default="file-import")
@click.option("--format", "fmt", default=None, help="Parser name; guessed from the content when absent.")
@data_dir_option
def ingest_files(paths: tuple[Path, ...], org: str, sensor: str, fmt: str | None, data_dir: Path | None) -> None:
    """Import log files (EVTX, JSON lines, syslog, access logs, Suricata EVE) through the ingest path."""
    from mamori.cli.files import import_files

    totals = import_files(_settings(data_dir), list(paths), org=org, sensor=sensor, fmt=fmt)
    click.echo(f"accepted {totals[0]} events, dead-lettered {totals[1]} records")
    if totals[0] == 0 and totals[1] > 0:
        sys.exit(1)


def _register() -> None:
    """Sub-commands that live in their own modules (imported lazily by click only when run)."""
    from mamori.cli.hunt import hunt
    from mamori.cli.rules import rules
    from mamori.cli.websites import websites

    main.add_command(hunt)
    main.add_command(rules)
    main.add_command(websites)


_register()
