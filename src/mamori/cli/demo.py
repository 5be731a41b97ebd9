"""`mamori up --demo`: a national centre, ministries, users, a year of (marked) history and live traffic.

The traffic goes through the real ingest path: HTTP POST /api/v1/ingest with each ministry sensor's token.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind, Role
from mamori.accounts.models import ApiToken, Organisation, User
from mamori.accounts.schemas import MembershipIn, OrgIn, TokenIn, UserIn
from mamori.alerts.models import DailyCount
from mamori.asgi import Startup
from mamori.cases import roster
from mamori.cases.schemas import ProfileIn
from mamori.cli.demo_traffic import Generator, day_of_traffic
from mamori.ingest.models import IngestBatch
from mamori.platform import Platform
from mamori.storage import progress
from mamori.storage.db import utcnow

log = logging.getLogger(__name__)

HISTORY = "demo.history"  # progress names: the year of history was written / how far the day's replay got
REPLAY = "demo.replay"
DEMO_PASSWORD = "mamori-demo"  # noqa: S105 - printed on start; demo deployments only
NATIONAL = ("ncc", "National Cyber Defence Centre")
MINISTRIES = (
    ("mof", "Ministry of Finance", 1.4),
    ("mofa", "Ministry of Foreign Affairs", 1.8),
    ("mhlw", "Ministry of Health, Labour and Welfare", 1.2),
    ("meti", "Ministry of Economy, Trade and Industry", 1.0),
    ("mext", "Ministry of Education, Culture, Sports, Science and Technology", 0.8),
    ("mlit", "Ministry of Land, Infrastructure, Transport and Tourism", 0.7),
    ("digital", "Digital Agency", 0.9),
)
# The national roster: responders employed by several ministries, (username, display name, home, skills, max load).
RESPONDERS = (
    ("responder", "Haruto Sato", "ncc", ("web", "forensics", "malware"), 3),
    ("responder-mof", "Yui Takahashi", "mof", ("web", "forensics"), 2),
    ("responder-mofa", "Ren Suzuki", "mofa", ("windows", "active-directory", "forensics"), 2),
    ("responder-mhlw", "Aoi Tanaka", "mhlw", ("network", "ids", "ddos"), 2),
    ("responder-digital", "Sota Watanabe", "digital", ("cloud", "web", "identity"), 1),
)
CATEGORIES = (
    ("initial-access", 0.45),
    ("reconnaissance", 0.3),
    ("credential-access", 0.1),
    ("lateral-movement", 0.05),
    ("suricata", 0.1),
)


@dataclass
class DemoLogins:
    users: dict[str, str] = field(default_factory=dict)  # username -> password
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (org, sensor kind) -> bearer token


def seed(platform: Platform) -> DemoLogins:
    logins = DemoLogins()
    with platform.db.session() as session:
        fresh = session.get(Organisation, NATIONAL[0]) is None
        if fresh:
            accounts.create_org(
                session, principal=None, data=OrgIn(id=NATIONAL[0], name=NATIONAL[1], kind=OrgKind.NATIONAL)
            )
            for org_id, name, _ in MINISTRIES:
                kind: OrgKind = OrgKind.AGENCY if "Agency" in name else OrgKind.MINISTRY
                accounts.create_org(session, principal=None, data=OrgIn(id=org_id, name=name, kind=kind))
            names = {username: display for username, display, _, _, _ in RESPONDERS}
            for username, role, org in _demo_users():
                accounts.create_user(
                    session,
                    principal=None,
                    data=UserIn(
                        username=username,
                        password=DEMO_PASSWORD,
                        display_name=names.get(username, username.replace("-", " ").title()),
                        memberships=[MembershipIn(org_id=org, role=role)],
                    ),
                )
            _roster(session)
        for username, _, _ in _demo_users():
            logins.users[username] = DEMO_PASSWORD
        # Fresh tokens every start (only hashes are stored); the previous start's are revoked.
        for old in session.scalars(select(ApiToken).where(ApiToken.name.like("demo-%"), ApiToken.revoked_at.is_(None))):
            old.revoked_at = utcnow()
        for org_id, _, _ in MINISTRIES:
            for sensor_kind in ("web", "windows", "ids"):
                secret, _ = accounts.create_token(
                    session,
                    principal=None,
                    data=TokenIn(
                        name=f"demo-{org_id}-{sensor_kind}",
                        org_id=org_id,
                        sensor=f"{org_id}-{sensor_kind}-sensor",
                    ),
                )
                logins.tokens[(org_id, sensor_kind)] = secret
        if progress.read(session, name=HISTORY) is None:  # once per data dir: a restart keeps the year it has
            today = datetime.now(UTC).date()
            _history(session, today=today)
            progress.write(session, name=HISTORY, state={"until": today.isoformat()})
    return logins


def _demo_users() -> list[tuple[str, Role, str]]:
    users = [
        ("admin", Role.ADMIN, "ncc"),
        ("analyst", Role.NATIONAL_ANALYST, "ncc"),
        ("responder", Role.RESPONDER, "ncc"),
        ("trainer", Role.TRAINER, "ncc"),
        ("auditor", Role.AUDITOR, "ncc"),
    ]
    officers = [(f"officer-{org}", Role.ORG_OFFICER, org) for org, _, _ in MINISTRIES]
    responders = [(name, Role.RESPONDER, org) for name, _, org, _, _ in RESPONDERS if org != "ncc"]
    return users + officers + responders


def _roster(session: Session) -> None:
    """Put the demo responders on the roster as the national administrator would (audited as them)."""
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None  # created just before
    lead = accounts.principal_for(session, admin)
    for username, _, home, skills, max_load in RESPONDERS:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        data = ProfileIn(user_id=user_id, home_org_id=home, skills=list(skills), max_load=max_load)
        roster.upsert(session, principal=lead, data=data)


def _history(session: Session, *, today: date, days: int = 400) -> None:
    """Plausible daily counts (doubling year on year, weekly rhythm, campaign spikes), marked `demo`."""
    session.execute(delete(DailyCount).where(DailyCount.demo.is_(True)))
    rnd = random.Random(2026)
    spikes = {today - timedelta(days=d) for d in rnd.sample(range(2, days), 12)}
    for back in range(1, days):
        day = today - timedelta(days=back)
        growth = 2 ** (-back / 365)  # "doubling year on year"
        weekly = 0.6 if day.weekday() >= 5 else 1.0
        for org, _, weight in MINISTRIES:
            base = 420 * weight * growth * weekly * (3.5 if day in spikes and rnd.random() < 0.5 else 1.0)
            for category, share in CATEGORIES:
                count = max(0, int(rnd.gauss(base * share, math.sqrt(base * share + 1))))
                if count:
                    session.add(DailyCount(day=day, org_id=org, category=category, count=count, demo=True))


def replay_starter(logins: DemoLogins) -> Startup:
    async def start(platform: Platform) -> None:
        platform_tasks.append(asyncio.create_task(_replay(platform, logins)))

    return start


platform_tasks: list[asyncio.Task[None]] = []


Post = Callable[[str, str, bytes], Awaitable[bool]]  # (token, format, body) → settled (False: not delivered)


async def _replay(platform: Platform, logins: DemoLogins) -> None:
    """Send the seeded day of traffic (the part not sent by an earlier start), then a trickle of live traffic."""
    base = f"http://{_local(platform.settings.host)}:{platform.settings.port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def post(token: str, fmt: str, body: bytes) -> bool:
            return await _post(client, token, fmt, body)

        await _wait_until_up(client)
        while platform.matcher is None:  # replay once detection is ready, so the day shows its alerts
            await asyncio.sleep(0.5)
        await replay_day(platform, logins, post=post)
        gen = Generator(seed=99)
        orgs = [org for org, _, _ in MINISTRIES]
        while True:
            await asyncio.sleep(5)
            now = datetime.now(UTC)
            org = gen.rnd.choice(orgs)
            lines = gen.web_lines(now - timedelta(seconds=5), now, benign=60, attacks=gen.rnd.choice((0, 0, 1)))
            await post(logins.tokens[(org, "web")], "webaccess", "\n".join(lines).encode())


async def replay_day(platform: Platform, logins: DemoLogins, *, post: Post) -> int:
    """Send the demo's day of traffic once per data dir; returns the number of batches sent now.

    The day (its end time) is fixed by the first start and each sent batch is recorded, so a restart sends only
    what an earlier start did not (the traffic is generated again, identically, from the same end time) and
    never replays the day a second time, which would double "today".
    """
    state = await asyncio.to_thread(_replay_position, platform)
    if state.get("done"):
        return 0
    orgs = [org for org, _, _ in MINISTRIES]
    sent = 0
    for number, batch in enumerate(day_of_traffic(orgs, datetime.fromisoformat(str(state["end"])))):
        if number < int(state["sent"]):
            continue
        if not await post(logins.tokens[(batch.org, batch.sensor_kind)], batch.format, batch.body):
            log.warning("demo: the day's replay stopped at batch %d; the next start continues there", number)
            return sent
        await asyncio.to_thread(_record, platform, {"sent": number + 1})
        sent += 1
    await asyncio.to_thread(_record, platform, {"done": True})
    log.info("demo: the day of traffic is replayed (%d batches by this start); live traffic continues", sent)
    return sent


def _replay_position(platform: Platform) -> dict[str, Any]:
    """The replayed day's end, how many of its batches were sent, whether it is done (a first start fixes the
    end at now). A data dir whose demo ran before progress was kept holds demo batches: its day was replayed."""
    with platform.db.session() as session:
        state = progress.read(session, name=REPLAY)
        if state is None:
            earlier = session.scalar(select(IngestBatch.id).where(IngestBatch.sensor.like("%-web-sensor")).limit(1))
            state = {"end": datetime.now(UTC).isoformat(), "sent": 0, "done": earlier is not None}
            progress.write(session, name=REPLAY, state=state)
    return state


def _record(platform: Platform, change: dict[str, Any]) -> None:
    with platform.db.session() as session:
        state = progress.read(session, name=REPLAY) or {}
        progress.write(session, name=REPLAY, state={**state, **change})


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - mapping, not binding


async def _wait_until_up(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/api/v1/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)


async def _post(client: httpx.AsyncClient, token: str, fmt: str, body: bytes) -> bool:
    """POST one batch; True once the server answered (a refusal is logged: sending it again would not help)."""
    try:
        response = await client.post(
            "/api/v1/ingest",
            params={"format": fmt},
            content=body,
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TransportError as exc:
        log.warning("demo ingest failed: %s", exc)
        return False
    if response.status_code != 202:
        log.warning("demo ingest refused (%s): %s", response.status_code, response.text[:200])
    return True


__all__ = ["DemoLogins", "replay_day", "replay_starter", "seed"]
