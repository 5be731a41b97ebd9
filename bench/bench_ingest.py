"""Ingest throughput through the real HTTP path of the embedded platform (SQLite, in-process bus).

Run: make bench-ingest   (or .venv/bin/python bench/bench_ingest.py [--events N] [--batch N] [--clients N])

1. accepted and archived: a server process (uvicorn, one process, no detection) takes POST /api/v1/ingest
   batches of access-log lines from client processes on loopback; the figure is events/s from the first request
   to the last 202, checked against the Parquet archive's count.
2. to alerts: the same with the detection engine loaded (mamori's rules, plus SigmaHQ's when
   ../shared/data is present); the figure is events/s from the first request until every batch is detected.
   Twice: with every line from its own random address (the worst case: nearly every hit opens an alert; 4
   bodies of 5,000 lines are each sent 4 times), and with the traffic from a pool of attacking addresses (hits
   fold into open alerts, as real scanners' do).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SIGMAHQ = REPO.parent / "shared" / "data" / "sigma" / "sigmahq"
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/142.0",
    "curl/8.5.0",
    "sqlmap/1.8.11#stable",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1",
)
PATHS = (
    "/",
    "/news/2026/budget",
    "/static/site.css",
    "/search?q=1%27%20UNION%20SELECT",
    "/../../etc/passwd",
    "/wp-login.php",
    "/images/logo.png",
)


def make_body(n: int, seed: int, attackers: int = 0) -> bytes:
    """``n`` access-log lines; each from a new random address, or from a pool of ``attackers`` addresses."""
    rnd = random.Random(seed)
    pool = [f"198.18.{i // 256}.{i % 256}" for i in range(attackers)]
    lines = []
    for i in range(n):
        ip = (
            rnd.choice(pool)
            if pool
            else f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        )
        lines.append(
            f'{ip} - - [23/Nov/2026:08:{(i // 60) % 60:02d}:{i % 60:02d} +0000] "GET {rnd.choice(PATHS)} '
            f'HTTP/1.1" {rnd.choice((200, 200, 404, 500))} {rnd.randint(100, 50000)} "-" "{rnd.choice(AGENTS)}"'
        )
    return "\n".join(lines).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data_dir: Path) -> str:
    """Migrate, create an organisation and a sensor token (in this process, before the server starts)."""
    sys.path.insert(0, str(REPO / "src"))
    from mamori.accounts import service as accounts
    from mamori.accounts.schemas import OrgIn, TokenIn
    from mamori.migrations import upgrade
    from mamori.settings import load_settings
    from mamori.storage.db import Database

    settings = load_settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    db = Database(settings.resolved_database_url())
    with db.session() as s:
        accounts.create_org(s, principal=None, data=OrgIn(id="mof", name="Ministry of Finance"))
        secret, _ = accounts.create_token(s, principal=None, data=TokenIn(name="bench", org_id="mof", sensor="b"))
    db.dispose()
    return secret


def client(url: str, token: str, bodies: list[bytes], repeat: int) -> None:
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
        for _ in range(repeat):
            for body in bodies:
                response = c.post("/api/v1/ingest?format=webaccess", content=body)
                assert response.status_code == 202, response.text


def run(args: argparse.Namespace, *, detect: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        token = prepare(data_dir)
        port = free_port()
        env = {**os.environ, "MAMORI_DATA_DIR": str(data_dir), "MAMORI_LOG_LEVEL": "warning"}
        if detect and SIGMAHQ.exists():
            env["MAMORI_SIGMAHQ_DIR"] = str(SIGMAHQ)
        factory = "mamori.asgi:app_from_env" if detect else "bench_ingest_app:app_without_detection"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**env, "PYTHONPATH": str(REPO / "bench")},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url)
            per_client = args.events // args.clients
            batches = max(1, per_client // args.batch)
            bodies = [make_body(args.batch, seed, args.attackers) for seed in range(min(batches, 4))]
            repeat = max(1, batches // len(bodies))
            total = args.clients * repeat * len(bodies) * args.batch
            started = time.perf_counter()
            workers = [
                multiprocessing.Process(target=client, args=(url, token, bodies, repeat)) for _ in range(args.clients)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            accepted_s = time.perf_counter() - started
            result = {"events": total, "accepted_s": accepted_s, "accepted_per_s": total / accepted_s}
            if detect:
                wait_detected(url)
                done_s = time.perf_counter() - started
                result.update(detected_s=done_s, detected_per_s=total / done_s)
            result["archived"] = count_archived(data_dir)
            return result
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_up(url: str) -> None:
    for _ in range(3000):  # a first start may compile the SigmaHQ rule set
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def wait_detected(url: str) -> None:
    while httpx.get(url + "/api/v1/health", timeout=30).json()["pending_batches"] > 0:
        time.sleep(0.2)


def count_archived(data_dir: Path) -> int:
    import duckdb

    files = [str(p) for p in (data_dir / "archive").rglob("*.parquet")]
    if not files:
        return 0
    return int(duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchall()[0][0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--attackers", type=int, default=200, help="addresses of the realistic to-alerts run")
    args = parser.parse_args()
    pool, args.attackers = args.attackers, 0
    print(f"machine: {os.cpu_count()} cores; batches of {args.batch} access-log lines, {args.clients} clients")
    plain = run(args, detect=False)
    assert plain["archived"] == plain["events"], plain
    print(
        f"accepted and archived: {plain['events']:,} events in {plain['accepted_s']:.2f} s = "
        f"{plain['accepted_per_s']:,.0f} events/s (archive holds {plain['archived']:,})"
    )
    args.events = min(args.events, 100_000)
    rules = "mamori + SigmaHQ rules" if SIGMAHQ.exists() else "mamori rules"
    for label, attackers in (("every line from its own address", 0), (f"{pool} attacking addresses", pool)):
        args.attackers = attackers
        full = run(args, detect=True)
        print(
            f"to alerts ({rules}; {label}): {full['events']:,} events accepted at {full['accepted_per_s']:,.0f}/s, "
            f"all detected after {full['detected_s']:.2f} s = {full['detected_per_s']:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
