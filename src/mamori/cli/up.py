"""`mamori up`: the embedded platform in one process (API, console, pipeline, demo replay)."""

from __future__ import annotations

import logging
import threading

import uvicorn
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.asgi import Startup, build_platform, create_app, load_matcher
from mamori.migrations import upgrade
from mamori.platform import Platform
from mamori.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, *, demo: bool) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    platform = build_platform(settings)
    # The server answers at once; rules compile in the background (SigmaHQ's first compile takes a while,
    # later starts read the cache). Batches accepted meanwhile are detected by the sweeper once it is ready.
    threading.Thread(target=_load_rules, args=(platform,), name="rules", daemon=True).start()
    extra: list[Startup] = []
    if demo:
        from mamori.cli import demo as demo_mode
        from mamori.cli import demo_sites

        logins = demo_mode.seed(platform)
        extra.append(demo_mode.replay_starter(logins))
        extra.append(demo_sites.farm_starter({org: name for org, name, _ in demo_mode.MINISTRIES}))
        _print_banner(settings, logins.users)
    elif not _has_users(platform):
        log.warning("no user can log in yet: run `mamori init` to create the national centre and its administrator")
    app = create_app(platform, extra=extra)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)


def _has_users(platform: Platform) -> bool:
    with platform.db.session() as session:
        return session.scalar(select(User.id).limit(1)) is not None


def _load_rules(platform: Platform) -> None:
    try:
        platform.matcher = load_matcher(platform.settings)
    except Exception:
        log.exception("the detection engine could not be loaded; events are archived but not detected")


def _print_banner(settings: Settings, users: dict[str, str]) -> None:
    url = f"http://{settings.host}:{settings.port}/"
    lines = [f"mamori demo is starting at {url}", "demo logins (username / password):"]
    lines += [f"  {u:<22} {p}" for u, p in users.items()]
    print("\n".join(lines), flush=True)
