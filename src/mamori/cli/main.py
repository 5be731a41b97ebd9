"""`mamori …`: the platform's command line. Each sub-command is a thin wrapper over the services."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from mamori.cli.admin import data_dir_option
from mamori.cli.admin import settings_for as _settings
from mamori.cli.errors import DEBUG_KEY, ReportingGroup
from mamori.settings import load_settings


@click.group(cls=ReportingGroup)
@click.version_option("0.1.0", prog_name="mamori")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (also: MAMORI_LOG_LEVEL=debug).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """mamori: a defence platform for a national cyber-defence centre."""
    ctx.meta[DEBUG_KEY] = debug
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
    from mamori.cli.files import import_files, require_org

    settings = _settings(data_dir)
    org_id = require_org(settings, org)  # before the rules are loaded: they write rule-cache/
    totals = import_files(settings, list(paths), org=org_id, sensor=sensor, fmt=fmt)
    click.echo(f"accepted {totals[0]} events, dead-lettered {totals[1]} records")
    if totals[0] == 0 and totals[1] > 0:
        sys.exit(1)


def _register() -> None:
    """Sub-commands that live in their own modules (imported lazily by click only when run)."""
    from mamori.cli.admin import init, org, token, user
    from mamori.cli.hunt import hunt
    from mamori.cli.rules import rules
    from mamori.cli.websites import websites

    for command in (init, org, user, token, hunt):
        main.add_command(command)
    main.add_command(rules)
    main.add_command(websites)


_register()
