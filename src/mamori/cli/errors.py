"""The one place where the command line turns an error into ``error: …`` on stderr and an exit status.

2 means the input was refused (a usage error: fix the command line or the input), 1 that the command failed
(a missing database, an organisation that exists already …). A traceback is for bugs only: an error that is
anticipated here never shows one, unless ``--debug`` or ``MAMORI_LOG_LEVEL=debug`` asks for it.

Why library errors are recognised by name: the hunt path must not import SQLAlchemy just to know its errors,
and an OperationalError can only come from a module that was imported already.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from mamori.core.errors import MamoriError, ValidationFailed
from mamori.i18n import _

USAGE = 2
FAILURE = 1
DEBUG_KEY = "mamori.debug"


def explain(exc: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit status for an anticipated error; None for a bug (shown in full)."""
    if isinstance(exc, MamoriError):
        return str(exc), USAGE if isinstance(exc, ValidationFailed) else FAILURE
    pydantic_core = sys.modules.get("pydantic_core")
    if pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError):
        return _validation_text(exc.errors()), USAGE
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        return _("the database cannot be used: %(reason)s", reason=reason), FAILURE
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}", FAILURE
    return None


def _validation_text(errors: list[Any]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error["msg"]).removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, click.UsageError) or ctx is None:
        return ""
    return _(" (see: %(command)s --help)", command=ctx.command_path)


def debugging(ctx: click.Context) -> bool:
    return bool(ctx.meta.get(DEBUG_KEY)) or os.environ.get("MAMORI_LOG_LEVEL", "").lower() == "debug"


class ReportingGroup(click.Group):
    """A click group whose sub-commands' anticipated errors end as one line and a status, never a traceback.

    Click's own usage errors (an unknown option, a missing argument) are shortened to one line as well: the
    usage text they would print is one ``--help`` away.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # `mamori` or `mamori org` alone: the help, as click shows it
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(_("error: %(text)s", text=exc.format_message()) + _usage_hint(exc), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo(_("error: aborted"), err=True)
            sys.exit(FAILURE)
        # non-standalone click returns the status of ctx.exit(n); commands themselves return nothing
        sys.exit(status if isinstance(status, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            explained = explain(exc)
            if explained is None or debugging(ctx):
                raise
            message, status = explained
            click.echo(_("error: %(text)s", text=message), err=True)
            ctx.exit(status)
