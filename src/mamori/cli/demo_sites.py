"""The demo's web farm: each ministry's websites served on loopback, one of them defaced after a minute.

Nothing outside the machine is reachable in a demo, so ``mamori up --demo`` serves the ministries' pages
itself (a tiny asyncio HTTP server on 127.0.0.1) and registers them as watched websites that allow private
addresses. After a minute the Ministry of Foreign Affairs' homepage is defaced, so the wall turns and a
defacement alert appears; a little later one e-services portal answers 503 for a few minutes, then recovers,
so an outage alert opens and closes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from datetime import UTC, datetime

from sqlalchemy import select

from mamori.asgi import Startup
from mamori.audit import service as audit
from mamori.bus import subjects
from mamori.platform import Platform
from mamori.storage.outbox import enqueue
from mamori.websites import service
from mamori.websites.models import Website
from mamori.websites.schemas import WebsiteIn

log = logging.getLogger(__name__)

DEMO_CREATOR = "system"
DEFACE_AFTER = 60.0
OUTAGE_AFTER, OUTAGE_FOR = 90.0, 180.0
DEFACED_ORG, OUTAGE_ORG = "mofa", "mhlw"
DEFACED_PAGE = (
    "<html><head><title>HACKED BY CYBER GHOST TEAM</title><style>body{background:black;color:lime}</style></head>"
    "<body><marquee>Hacked by Cyber Ghost Team</marquee><h1>Your security is weak</h1>"
    "<p>We are everywhere. Greetz to all brothers.</p></body></html>"
)


def page_for(org: str, name: str, kind: str) -> str:
    """A plausible ministry page; the clock line changes on every request, as real pages do."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    title = html.escape(f"{name} - {'Official website' if kind == 'www' else 'Online services'}")
    items = "".join(
        f"<li><a href='/{org}/{kind}/news/{i}'>{html.escape(t)}</a></li>"
        for i, t in enumerate(("Press conference schedule", "Public consultation opens", "Annual report published"))
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><h1>{html.escape(name)}</h1><nav><a href='/{org}/www/'>Home</a> <a href='/{org}/services/'>"
        f"Services</a></nav></header><main><p>Welcome to the {kind} pages of the {html.escape(name)}.</p>"
        f"<h2>Latest news</h2><ul>{items}</ul><p>Apply for permits, certificates and subsidies online.</p></main>"
        f"<footer><p>Page generated {now}.</p><p>&copy; {html.escape(name)}</p></footer></body></html>"
    )


class DemoFarm:
    """``/<org>/<kind>/`` → that ministry's page, or whatever an override says (defaced page, 503)."""

    def __init__(self, ministries: dict[str, str]) -> None:
        self.ministries = ministries
        self.overrides: dict[str, tuple[int, str]] = {}  # path -> (status, body)
        self.server: asyncio.Server | None = None
        self.base_url = ""

    async def start(self, port: int) -> None:
        try:
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        except OSError:  # the preferred port is taken: any free one will do
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def respond(self, path: str) -> tuple[int, str]:
        if path in self.overrides:
            return self.overrides[path]
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] in self.ministries and parts[1] in ("www", "services"):
            return 200, page_for(parts[0], self.ministries[parts[0]], parts[1])
        return 404, "<h1>Not found</h1>"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            path = head.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
            status, body = self.respond(path)
            data = body.encode()
            writer.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: text/html; charset=utf-8"
                f"\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, IndexError, ConnectionError):
            pass  # a broken request gets no answer; the demo farm is not a web server for anyone else
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def ensure_sites(platform: Platform, base_url: str, ministries: dict[str, str]) -> None:
    """Two watched sites per ministry; a demo site whose farm moved to another port follows it (audited)."""
    with platform.db.session() as session:
        existing = {s.name: s for s in session.scalars(select(Website).where(Website.created_by == DEMO_CREATOR))}
        for org, name in ministries.items():
            for kind, label in (("www", "homepage"), ("services", "e-services")):
                title, url = f"{name} {label}", f"{base_url}/{org}/{kind}/"
                site = existing.get(title)
                if site is None:
                    data = WebsiteIn(
                        org_id=org,
                        name=title,
                        url=url,
                        allow_private=True,
                        interval_seconds=30,
                        failures_before_alert=2,
                    )
                    service.create(session, principal=None, data=data)
                elif site.url != url:
                    audit.record(
                        session,
                        actor=DEMO_CREATOR,
                        action="website.update",
                        object_type="website",
                        object_id=site.id,
                        org_id=site.org_id,
                        details={"changed": {"url": url}, "before": {"url": site.url}},
                    )
                    site.url = url
                    enqueue(
                        session, subject=subjects.WEBSITES_CHANGED, payload={"site_id": site.id, "change": "updated"}
                    )


async def _incidents(farm: DemoFarm) -> None:
    """Deface one homepage after a minute; take one portal down for a while and bring it back."""
    await asyncio.sleep(DEFACE_AFTER)
    farm.overrides[f"/{DEFACED_ORG}/www/"] = (200, DEFACED_PAGE)
    log.info("demo: the %s homepage is now defaced", DEFACED_ORG)
    await asyncio.sleep(OUTAGE_AFTER - DEFACE_AFTER)
    farm.overrides[f"/{OUTAGE_ORG}/services/"] = (503, "<h1>Service Unavailable</h1>")
    await asyncio.sleep(OUTAGE_FOR)
    farm.overrides.pop(f"/{OUTAGE_ORG}/services/", None)


_tasks: list[asyncio.Task[None]] = []


def farm_starter(ministries: dict[str, str]) -> Startup:
    async def start(platform: Platform) -> None:
        farm = DemoFarm(ministries)
        await farm.start(platform.settings.port + 1)
        await asyncio.to_thread(ensure_sites, platform, farm.base_url, ministries)
        _tasks.append(asyncio.create_task(_incidents(farm)))
        log.info("demo: %d ministry websites served at %s", 2 * len(ministries), farm.base_url)

    return start
