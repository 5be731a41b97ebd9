"""Incident list and detail latency with 100,000 incidents and 1,000,000 timeline entries in PostgreSQL.

Run: .venv/bin/python bench/bench_incidents.py [--incidents 100000] [--entries-per-incident 10] [--requests 300]

1. creates a fresh database `mamori_bench_<random>` on the local PostgreSQL (MAMORI_BENCH_PG_ADMIN, default
   postgresql+psycopg://postgres@127.0.0.1:5432/test), migrates it with Alembic and seeds 40 ministries;
2. bulk-loads incidents, timeline entries, playbook-sized task lists and observables with COPY, then ANALYZE;
3. starts `uvicorn --factory mamori.asgi:app_from_env` on 127.0.0.1 with MAMORI_DATABASE_URL pointing there;
4. logs in (a national analyst and a ministry officer) and runs a bounded load loop per page with httpx
   (a few concurrent clients, a fixed number of requests, loopback only) and prints p50/p95/max;
5. stops the server and drops the database (unless --keep).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text

from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind, Role
from mamori.accounts.schemas import MembershipIn, OrgIn, UserIn
from mamori.migrations import upgrade
from mamori.storage.db import Database

ADMIN_URL = os.environ.get("MAMORI_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 123"
ORGS = [f"m{i:03d}" for i in range(40)]
PHASES = ["triage", "containment", "eradication", "recovery", "post_incident", "closed"]
PHASE_WEIGHTS = [3, 2, 1, 1, 1, 30]
CATEGORIES = ["defacement", "ddos", "malware", "data_leak", "phishing", "other"]
SEVERITIES = ["low", "medium", "high", "critical"]
KINDS = ["triage", "status", "task", "alert", "manual", "evidence"]


def create_database() -> str:
    name = f"mamori_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed_accounts(url: str) -> None:
    db = Database(url)
    with db.session() as s:
        accounts.create_org(s, principal=None, data=OrgIn(id="ncc", name="National Centre", kind=OrgKind.NATIONAL))
        for org in ORGS:
            accounts.create_org(s, principal=None, data=OrgIn(id=org, name=f"Ministry {org}"))
        for username, org, role in (
            ("analyst", "ncc", Role.NATIONAL_ANALYST),
            ("officer", ORGS[7], Role.ORG_OFFICER),
        ):
            memberships = [MembershipIn(org_id=org, role=role)]
            data = UserIn(username=username, password=PASSWORD, memberships=memberships)
            accounts.create_user(s, principal=None, data=data)
    db.dispose()


def _copy(cursor: psycopg.Cursor[object], table: str, columns: str, rows: Iterator[str]) -> None:
    """COPY in text format from a generator, in ~8 MB chunks."""
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write(row)
            if buffer.tell() > 8_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _ts(t: datetime) -> str:
    return t.isoformat()


def incident_rows(n: int, start: datetime, rng: random.Random) -> Iterator[str]:
    for i in range(1, n + 1):
        detected = start + timedelta(minutes=5 * i)
        phase = rng.choices(PHASES, PHASE_WEIGHTS)[0]
        ack = _ts(detected + timedelta(minutes=rng.randint(1, 90)))
        closed = _ts(detected + timedelta(days=3)) if phase == "closed" else r"\N"
        resolution = "resolved" if phase == "closed" else r"\N"
        yield (
            f"{i}\t{rng.choice(ORGS)}\tIncident {i} on portal {i % 997}\tbulk-loaded\t{rng.choice(CATEGORIES)}\t"
            f"{rng.choice(SEVERITIES)}\tamber\tamber\t{phase}\t{resolution}\t\tbench\t{_ts(detected)}\t"
            f"{_ts(detected)}\t{_ts(detected)}\t{ack}\t{closed}\n"
        )


def timeline_rows(n: int, per: int, start: datetime, rng: random.Random) -> Iterator[str]:
    entry = 0
    for i in range(1, n + 1):
        base = start + timedelta(minutes=5 * i)
        for k in range(per):
            entry += 1
            at = _ts(base + timedelta(minutes=7 * k))
            yield f"{entry}\t{i}\t{rng.choice(KINDS)}\t{at}\t{at}\tbench\tStep {k} of incident {i}\t{{}}\n"


def task_rows(n: int, per: int) -> Iterator[str]:
    task = 0
    for i in range(1, n + 1):
        for k in range(per):
            task += 1
            status = "done" if k < per // 2 else "open"
            created = _ts(datetime(2026, 1, 1, tzinfo=UTC))
            yield f"{task}\t{i}\tTask {k}\t{PHASES[k % 5]}\torg_officer\t{status}\tplaybook:x\t{k}\t\t{created}\n"


def observable_rows(n: int, rng: random.Random, orgs_of: list[str]) -> Iterator[str]:
    for i in range(1, n + 1):
        ip = f"203.0.{rng.randint(0, 3)}.{rng.randint(1, 250)}"  # ~1000 IPs shared across incidents
        yield f"{i}\t{i}\t{orgs_of[i - 1]}\tip\t{ip}\tmanual\t\tbench\t{_ts(datetime(2026, 1, 1, tzinfo=UTC))}\n"


def bulk_load(url: str, n: int, per: int) -> None:
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        _copy(
            cur,
            "incidents",
            "id, org_id, title, description, category, severity, tlp, pap, phase, resolution, root_cause, "
            "created_by, detected_at, created_at, updated_at, acknowledged_at, closed_at",
            incident_rows(n, start, rng),
        )
        orgs_of = [row[0] for row in cur.execute("SELECT org_id FROM incidents ORDER BY id")]
        _copy(
            cur,
            "incident_timeline",
            "id, incident_id, kind, event_at, recorded_at, actor, text, details",
            timeline_rows(n, per, start, rng),
        )
        _copy(
            cur,
            "incident_tasks",
            "id, incident_id, title, phase, owner_role, status, source, position, notes, created_at",
            task_rows(n, 6),
        )
        _copy(
            cur,
            "incident_observables",
            "id, incident_id, org_id, kind, value, source, note, added_by, added_at",
            observable_rows(n, rng, orgs_of),
        )
        # Steady state: the SLA sweep has already recorded the breaches of these old open incidents (otherwise
        # the server's first sweep would record ~60,000 of them while we measure).
        cur.execute(
            "INSERT INTO incident_sla_breaches (incident_id, metric, detected_at) "
            "SELECT id, m, now() FROM incidents, (VALUES ('acknowledge'), ('contain'), ('recover')) AS v(m) "
            "WHERE phase <> 'closed'"
        )
        for table in ("incidents", "incident_timeline", "incident_tasks", "incident_observables"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    print(f"loaded {n:,} incidents, {n * per:,} timeline entries, {n * 6:,} tasks in {time.perf_counter() - t0:.1f}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "MAMORI_DATABASE_URL": url, "MAMORI_DATA_DIR": str(data_dir), "MAMORI_SECRET_KEY": "b" * 40}
    command = [sys.executable, "-m", "uvicorn", "--factory", "mamori.asgi:app_from_env", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(command, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start")


def logged_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return client


def measure(name: str, client: httpx.Client, paths: Callable[[int], str], requests: int, concurrency: int) -> None:
    for i in range(5):  # warm-up: connection pool, template cache, PG buffers
        client.get(paths(i)).raise_for_status()

    def one(i: int) -> float:
        t = time.perf_counter()
        response = client.get(paths(i))
        elapsed = time.perf_counter() - t
        if response.status_code != 200:
            raise SystemExit(f"{name}: {paths(i)} → {response.status_code} {response.text[:200]}")
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        times = sorted(pool.map(one, range(requests)))
    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    print(f"{name:<46} n={requests:<5} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={times[-1]:7.1f} ms")
    RESULTS[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}


RESULTS: dict[str, dict[str, float]] = {}


def run_load(base: str, n: int, requests: int, concurrency: int) -> None:
    rng = random.Random(11)
    ids = [rng.randint(1, n) for _ in range(requests + 10)]
    analyst, officer = logged_in(base, "analyst"), logged_in(base, "officer")
    try:
        own = officer.get("/api/v1/incidents?limit=200").json()["items"]
        own_ids = [i["id"] for i in own] or [1]
        deep = [rng.randint(n // 10, n) for _ in range(requests + 10)]
        measure("list API, national, newest 50", analyst, lambda i: "/api/v1/incidents?limit=50", requests, concurrency)
        measure(
            "list API, national, deep keyset page",
            analyst,
            lambda i: f"/api/v1/incidents?limit=50&before_id={deep[i]}",
            requests,
            concurrency,
        )
        measure(
            "list API, phase filter",
            analyst,
            lambda i: f"/api/v1/incidents?phase=containment&limit=50&before_id={deep[i]}",
            requests,
            concurrency,
        )
        measure("list API, ministry officer", officer, lambda i: "/api/v1/incidents?limit=50", requests, concurrency)
        measure("board page (HTML), national", analyst, lambda i: "/incidents", requests, concurrency)
        measure("board page (HTML), ministry officer", officer, lambda i: "/incidents", requests, concurrency)
        measure("detail page (HTML), overview", analyst, lambda i: f"/incidents/{ids[i]}", requests, concurrency)
        measure(
            "detail page (HTML), timeline tab",
            analyst,
            lambda i: f"/incidents/{ids[i]}?tab=timeline",
            requests,
            concurrency,
        )
        measure(
            "detail page (HTML), observables (seen elsewhere)",
            analyst,
            lambda i: f"/incidents/{ids[i]}?tab=observables",
            requests,
            concurrency,
        )
        measure(
            "detail API + timeline API",
            analyst,
            lambda i: f"/api/v1/incidents/{ids[i]}/timeline",
            requests,
            concurrency,
        )
        measure(
            "detail page (HTML), officer's own",
            officer,
            lambda i: f"/incidents/{own_ids[i % len(own_ids)]}?tab=tasks",
            requests,
            concurrency,
        )

    finally:
        analyst.close()
        officer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--entries-per-incident", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--reuse", metavar="URL", help="measure a database a --keep run loaded (no loading)")
    args = parser.parse_args()
    url = args.reuse or create_database()
    proc = None
    try:
        if not args.reuse:
            upgrade(url)
            seed_accounts(url)
            bulk_load(url, args.incidents, args.entries_per_incident)
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_server(url, Path(tmp))
            run_load(base, args.incidents, args.requests, args.concurrency)
        print(json.dumps(RESULTS))
        worst = max(r["p95_ms"] for r in RESULTS.values())
        print(f"worst p95: {worst:.1f} ms ({'within' if worst < 200 else 'OVER'} the 200 ms target)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if args.keep or args.reuse:
            print(f"kept {url}")
        else:
            drop_database(url)


if __name__ == "__main__":
    main()
