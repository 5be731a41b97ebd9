"""`mamori up`: the embedded platform in one process (API, console, pipeline, demo replay)."""

from __future__ import annotations

import logging

import uvicorn

from mamori.asgi import Startup, build_platform, create_app, load_matcher
from mamori.migrations import upgrade
from mamori.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, *, demo: bool) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    matcher = load_matcher(settings)
    platform = build_platform(settings, matcher=matcher)
    extra: list[Startup] = []
    if demo:
        from mamori.cli import demo as demo_mode
        from mamori.cli import demo_sites

        logins = demo_mode.seed(platform)
        extra.append(demo_mode.replay_starter(logins))
        extra.append(demo_sites.farm_starter({org: name for org, name, _ in demo_mode.MINISTRIES}))
        _print_banner(settings, logins.users)
    app = create_app(platform, extra=extra)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)


def _print_banner(settings: Settings, users: dict[str, str]) -> None:
    url = f"http://{settings.host}:{settings.port}/"
    lines = [f"mamori demo is starting at {url}", "demo logins (username / password):"]
    lines += [f"  {u:<22} {p}" for u, p in users.items()]
    print("\n".join(lines), flush=True)
