"""Setting up a real installation from the command line: ``init``, ``org``, ``user`` and ``token``.

These run before anyone can log in, so they act without a principal, with full rights on the local database;
the audit log names the operating-system account that ran them (``cli:<account>``), as the console names its
administrator. Every input is validated before the database is opened, so a refused command writes nothing.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from mamori.accounts.enums import OrgKind, Role
from mamori.i18n import _
from mamori.settings import Settings, load_settings

DEFAULT_CENTRE = "ncc"
DEFAULT_CENTRE_NAME = "National Cyber-defence Centre"

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory (default: $MAMORI_DATA_DIR or ./var).",
)
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


def settings_for(data_dir: Path | None) -> Settings:
    return load_settings(**({"data_dir": data_dir} if data_dir else {}))


def cli_actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user without a passwd entry
        return "cli"


def read_password(username: str, *, from_stdin: bool) -> str:
    """From stdin's first line, or asked twice at a prompt that does not echo."""
    from mamori.core.errors import ValidationFailed

    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise ValidationFailed(_("no password on standard input"), where="--password-stdin")
        return secret
    try:
        return str(click.prompt(_("password for %(user)s", user=username), hide_input=True, confirmation_prompt=True))
    except click.Abort:  # end of input: a script without a terminal
        raise ValidationFailed(
            _("no password given (type it at the prompt, or pipe it with --password-stdin)")
        ) from None


# --- init ------------------------------------------------------------------------------------------------


@click.command("init")
@click.option("--admin", "username", default="admin", show_default=True, help="The first administrator's username.")
@click.option("--display-name", default="", help="The administrator's name as shown in the console.")
@click.option("--centre", "centre_id", default=DEFAULT_CENTRE, show_default=True, help="Slug of the national centre.")
@click.option("--centre-name", default=DEFAULT_CENTRE_NAME, show_default=True, help="Name of the national centre.")
@password_stdin_option
@data_dir_option
def init(
    username: str, display_name: str, centre_id: str, centre_name: str, password_stdin: bool, data_dir: Path | None
) -> None:
    """Create the national centre and its first administrator in a migrated, empty database (once)."""
    from mamori.accounts import service as accounts
    from mamori.accounts.schemas import MembershipIn, OrgIn, UserIn
    from mamori.cli.database import open_database

    settings = settings_for(data_dir)
    centre = OrgIn(id=centre_id, name=centre_name, kind=OrgKind.NATIONAL)
    database = open_database(settings)
    try:  # refuse a missing database or a second init before asking for a password
        with database.session() as session:
            accounts.refuse_if_initialised(session)
    finally:
        database.dispose()
    secret = read_password(username, from_stdin=password_stdin)
    admin = UserIn(
        username=username,
        password=secret,
        display_name=display_name,
        memberships=[MembershipIn(org_id=centre.id, role=Role.ADMIN)],
    )
    database = open_database(settings)
    try:
        with database.session() as session:
            accounts.initialise(session, centre=centre, admin=admin, system_actor=cli_actor())
    finally:
        database.dispose()
    click.echo(_("initialised: national centre %(org)s, administrator %(user)s", org=centre.id, user=username))
    click.echo(_("next: mamori org create SLUG NAME (each ministry), mamori up"))


# --- organisations ---------------------------------------------------------------------------------------


@click.group("org")
def org() -> None:
    """Organisations: the national centre, ministries and agencies."""


@org.command("create")
@click.argument("slug")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in OrgKind]),
    default=OrgKind.MINISTRY.value,
    show_default=True,
)
@data_dir_option
def org_create(slug: str, name: str, kind: str, data_dir: Path | None) -> None:
    """Create an organisation: SLUG is its short immutable id (e.g. mof; case does not matter), NAME its name."""
    from mamori.accounts import service as accounts
    from mamori.accounts.schemas import OrgIn
    from mamori.cli.database import open_database

    data = OrgIn(id=slug, name=name, kind=OrgKind(kind))
    database = open_database(settings_for(data_dir))
    try:
        with database.session() as session:
            accounts.create_org(session, principal=None, data=data, system_actor=cli_actor())
    finally:
        database.dispose()
    click.echo(_("organisation %(org)s created (%(kind)s)", org=data.id, kind=kind))


@org.command("list")
@data_dir_option
def org_list(data_dir: Path | None) -> None:
    """Every organisation: slug, kind and name."""
    from sqlalchemy import select

    from mamori.accounts.models import Organisation
    from mamori.cli.database import open_database

    database = open_database(settings_for(data_dir))
    try:
        with database.session() as session:
            rows = [(o.id, o.kind, o.name) for o in session.scalars(select(Organisation).order_by(Organisation.id))]
    finally:
        database.dispose()
    if not rows:
        click.echo(_("no organisations yet: run `mamori init`"), err=True)
        return
    width = max(len(slug) for slug, _kind, _name in rows)
    for slug, kind, name in rows:
        click.echo(f"{slug.ljust(width)}  {kind:<8}  {name}")


# --- users -----------------------------------------------------------------------------------------------


@click.group("user")
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
@click.option("--password", default=None, help="Asked at a prompt when absent (safer: not kept in shell history).")
@password_stdin_option
@click.option("--display-name", default="")
@data_dir_option
def user_create(
    username: str,
    roles: tuple[str, ...],
    password: str | None,
    password_stdin: bool,
    display_name: str,
    data_dir: Path | None,
) -> None:
    """Create a console user (bootstrap: runs with full rights on the local database)."""
    from mamori.accounts import service as accounts
    from mamori.accounts.schemas import MembershipIn, UserIn
    from mamori.cli.database import open_database

    memberships = []
    for spec in roles:
        role, _at, org_id = spec.partition("@")
        if role not in Role.__members__.values() or not org_id:
            raise click.BadParameter(
                _("%(spec)r: expected ROLE@ORG with ROLE one of %(roles)s", spec=spec, roles=", ".join(Role)),
                param_hint="--role",
            )
        memberships.append(MembershipIn(org_id=org_id, role=Role(role)))
    settings = settings_for(data_dir)
    database = open_database(settings)  # refuse a missing database or organisation before asking for a password
    try:
        with database.session() as session:
            for membership in memberships:
                accounts.org_id_of(session, membership.org_id, where="--role")
    finally:
        database.dispose()
    secret = password or read_password(username, from_stdin=password_stdin)
    data = UserIn(username=username, password=secret, display_name=display_name, memberships=memberships)
    database = open_database(settings)
    try:
        with database.session() as session:
            accounts.create_user(session, principal=None, data=data, system_actor=cli_actor())
    finally:
        database.dispose()
    click.echo(_("user %(user)s created", user=username))


# --- tokens ----------------------------------------------------------------------------------------------


@click.group("token")
def token() -> None:
    """API tokens for sensors and integrations."""


@token.command("create")
@click.argument("name")
@click.option("--org", "org_id", required=True, help="Organisation the token's records belong to.")
@click.option("--sensor", default="", help="Sensor name stamped on its records (default: NAME).")
@click.option("--scope", "scopes", multiple=True, default=("ingest",), show_default=True, help="Repeatable.")
@data_dir_option
def token_create(name: str, org_id: str, sensor: str, scopes: tuple[str, ...], data_dir: Path | None) -> None:
    """Create an API token; the secret is printed once, on stdout (only its hash is kept)."""
    from mamori.accounts import service as accounts
    from mamori.accounts.schemas import TokenIn
    from mamori.cli.database import open_database

    data = TokenIn(name=name, org_id=org_id, sensor=sensor, scopes=list(scopes))
    database = open_database(settings_for(data_dir))
    try:
        with database.session() as session:
            secret, created = accounts.create_token(session, principal=None, data=data, system_actor=cli_actor())
            label = f"{created.org_id}/{created.sensor}"
    finally:
        database.dispose()
    click.echo(_("token %(name)s for %(label)s (shown once):", name=name, label=label), err=True)
    click.echo(secret)
    sys.stdout.flush()
