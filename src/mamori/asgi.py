"""Assemble the platform (settings → database, bus, archive, engine) and the ASGI application."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from mamori.api import errors, openapi
from mamori.api.router import api, public
from mamori.bus.base import Bus
from mamori.bus.memory import MemoryBus
from mamori.ingest.archive import EventArchive
from mamori.platform import Matcher, Platform
from mamori.settings import Settings
from mamori.storage.db import Database
from mamori.web import api_docs, console, error_pages, events_page, incident_pages, response_pages
from mamori.workers import compactor, detect, live, relay, response, syslog, websites

log = logging.getLogger(__name__)

Startup = Callable[[Platform], Awaitable[None]]

API_DESCRIPTION = (
    "mamori's REST API. Authenticate with an API token (`Authorization: Bearer mmr_…`) or the console's "
    "session cookie; with the cookie, every POST, PUT, PATCH and DELETE also needs the `X-CSRF-Token` header. "
    "Every error answers one JSON shape, `ErrorBody`. The interactive page is `/api/docs` (after login)."
)


def make_bus(settings: Settings) -> Bus:
    if settings.bus == "nats":
        from mamori.bus.nats import NatsBus

        return NatsBus(settings.nats_url, stream=settings.nats_stream, prefix=settings.nats_prefix)
    return MemoryBus()


def build_platform(settings: Settings, *, matcher: Matcher | None = None) -> Platform:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Platform(
        settings=settings,
        db=Database(settings.resolved_database_url()),
        bus=make_bus(settings),
        archive=EventArchive(settings.archive_dir),
        matcher=matcher,
    )


@asynccontextmanager
async def running_workers(platform: Platform, extra: list[Startup] | None = None) -> AsyncIterator[None]:
    """Bus consumers, the outbox relay, the sweeper and the syslog listener, for the life of the app."""
    await platform.bus.start()
    await detect.subscribe_detect(platform)
    await live.subscribe_live(platform)
    await response.subscribe_grouping(platform)
    tasks = [
        asyncio.create_task(relay.run_relay(platform)),
        asyncio.create_task(detect.run_sweeper(platform)),
        asyncio.create_task(compactor.run_compactor(platform)),
        asyncio.create_task(response.run_sweeper(platform)),
    ]
    platform.syslog = await syslog.start_syslog(platform)
    watch = await websites.start_websites(platform)
    for start in extra or []:
        await start(platform)
    try:
        yield
    finally:
        if watch is not None:
            await _stop_watch(*watch)
        if platform.syslog is not None:
            await platform.syslog.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:  # a broker that stopped answering must not keep the process from exiting
            await asyncio.wait_for(platform.bus.close(), timeout=10)
        except TimeoutError:
            log.warning("the message bus did not close within 10 s; exiting anyway")


async def _stop_watch(watch: websites.Watch, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    """Let checks in flight finish for a moment, then cancel them: shutdown must not wait on a slow site."""
    stop.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=5)
    except TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    except Exception:
        log.exception("the website watch failed")


def create_app(platform: Platform, *, run_workers: bool = True, extra: list[Startup] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not run_workers:
            yield
            return
        async with running_workers(platform, extra):
            yield

    app = FastAPI(
        title="mamori",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        separate_input_output_schemas=False,
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.platform = platform
    errors.install(app, page=error_pages.render)  # every error, API and console, mapped once
    openapi.install(app, ingest_max_bytes=platform.settings.ingest_max_bytes)
    app.include_router(api)
    app.include_router(public)
    app.include_router(events_page.router)
    app.include_router(incident_pages.router)
    app.include_router(response_pages.router)
    console.install(app, static_dir=Path(__file__).parent / "web" / "static")
    api_docs.install(app)
    return app


def app_from_env() -> FastAPI:
    """ASGI factory for `uvicorn --factory mamori.asgi:app_from_env` (scaled `mamori api`, browser tests)."""
    from mamori.settings import load_settings

    settings = load_settings()
    return create_app(build_platform(settings, matcher=load_matcher(settings)))


def rule_dirs(settings: Settings) -> list[Path]:
    """mamori's own content, SigmaHQ's rules when a checkout is configured, then any extra folders."""
    from mamori.detect.engine import CONTENT_RULES

    dirs = [CONTENT_RULES]
    if settings.sigmahq_dir is not None:
        dirs += [settings.sigmahq_dir / "rules", settings.sigmahq_dir / "rules-emerging-threats"]
    return dirs + [d for d in settings.rules_dirs if d not in dirs]


def load_matcher(settings: Settings) -> Matcher:
    from mamori.detect.engine import Engine

    started = time.perf_counter()
    engine = Engine(rule_dirs(settings), cache_dir=settings.data_dir / "rule-cache")
    log.info(
        "detection engine: %d rules from %d folders in %.1f s (%d refused, see `mamori rules check`)",
        engine.rule_count,
        len(rule_dirs(settings)),
        time.perf_counter() - started,
        len(engine.refused),
    )
    return engine
