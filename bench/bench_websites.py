"""Website watch throughput: checks per minute on one core, integrity analysis on.

A farm of N virtual-host websites (default 10,000) runs in a *separate process* pinned to the other core: one
asyncio server on 127.0.0.1 answering by ``Host`` header, each site a ministry-like page of ~9 KB with its own
title and news. The checker runs in this process, pinned to one core, with the real production path: SSRF
guard, pinned connection per site (each site is its own host name, so its own TCP connection), body cap,
then integrity analysis of every page against that site's approved baseline. 1% of the sites serve a
defacement, and the run checks they are all caught.

    .venv/bin/python bench/bench_websites.py [--sites 10000] [--rounds 2] [--concurrency 200]

Prints checks/min by wall clock and per CPU-second of the checker process, and writes
bench/results/websites.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFACED_EVERY = 100
NAV = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12))


DEFACEMENT = (
    b"<html><head><title>Hacked by Bench Team</title></head><body style='background:#000'>"
    b"<h1>Hacked by Bench Team</h1><p>Your security is weak. Greetz to all.</p></body></html>"
)


def served(i: int) -> bytes:
    """What the farm serves: the site's page, or a defacement for 1% of the sites."""
    return (
        DEFACEMENT if i % DEFACED_EVERY == 7 else page(i, token=os.urandom(12).hex(), clock=time.strftime("%H:%M:%S"))
    )


def page(i: int, *, token: str = "0" * 24, clock: str = "10:00:00") -> bytes:
    """Site i's page; every request gets a fresh CSRF token and clock, as real pages do, so no two fetches
    are byte-identical and every check runs the full integrity analysis."""
    news = "".join(
        f'<li class="news-item"><h3><a href="/news/{i}-{n}">Announcement {n} of agency {i}</a></h3>'
        f"<p>The agency {i} informs citizens about measure {n}: opening hours, documents to bring and the "
        f"deadline for applications. Details are published in the official journal.</p>"
        f'<span class="date">2026-11-{(n % 28) + 1:02d}</span></li>'
        for n in range(20)
    )
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Agency {i} - Official website</title><meta name="description" content="Official website of agency {i}">
<link rel="stylesheet" href="/static/site.css?v=3"><script src="/static/site.js?v=3"></script></head>
<body><header id="top"><img id="logo" src="/static/crest.png" alt="crest">
<nav class="main-nav"><ul>{NAV}</ul></nav>
<form class="search" action="/search"><input name="q"><input type="hidden" name="csrf" value="{token}">
</form></header><main id="content"><h1>Welcome to agency {i}</h1>
<p>Agency {i} serves citizens and businesses with registrations, permits and information.</p>
<section class="latest-news"><h2>Latest news</h2><ul>{news}</ul></section></main>
<footer id="footer"><p>Copyright agency {i}. Last updated 2026-11-23 {clock}.</p></footer></body></html>"""
    return html.encode()


# --- the farm (child process) --------------------------------------------------------------------------
class _Farm(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(self._respond(head))

    def _respond(self, head: bytes) -> bytes:
        host = b""
        for line in head.split(b"\r\n")[1:]:
            if line[:5].lower() == b"host:":
                host = line[5:].strip()
        try:
            n = int(host.split(b".", 1)[0].removeprefix(b"site-"))
        except ValueError:
            n = -1
        if n < 0:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        body = served(n)
        return b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (
            len(body),
            body,
        )


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Farm, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


def serve() -> None:
    _pin(1)
    try:
        import uvloop

        uvloop.run(_serve())
    except ImportError:
        asyncio.run(_serve())


# --- the checker (this process) ------------------------------------------------------------------------
def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > cpu:  # type: ignore[operator]
        os.sched_setaffinity(0, {cpu})


async def _run(port: int, sites: int, rounds: int, concurrency: int) -> dict[str, float]:
    from mamori.websites.checker import Checker
    from mamori.websites.integrity import Baseline
    from mamori.websites.results import CheckLimits
    from mamori.websites.schemas import SiteExpectations
    from mamori.websites.ssrf import StaticResolver

    names = {f"site-{i}.farm.test": ["127.0.0.1"] for i in range(sites)}
    expectations = [
        SiteExpectations(site_id=str(i), org="bench", url=f"http://site-{i}.farm.test:{port}/", allow_private=True)
        for i in range(sites)
    ]
    t0 = time.perf_counter()
    baselines = [Baseline.approve(page(i), url=s.url) for i, s in enumerate(expectations)]
    approve_s = time.perf_counter() - t0
    limits = CheckLimits(record_dns=False, max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    counts = {"checks": 0, "up": 0, "defaced": 0, "missed": 0, "false": 0}

    async with Checker(resolver=StaticResolver(names), limits=limits) as checker:

        async def one(i: int) -> None:
            async with gate:
                result = await checker.check(expectations[i], baseline=baselines[i])
            counts["checks"] += 1
            counts["up"] += result.up
            defaced = bool(result.verdict and result.verdict.defaced)
            counts["defaced"] += defaced
            counts["missed"] += (i % DEFACED_EVERY == 7) and not defaced
            counts["false"] += (i % DEFACED_EVERY != 7) and defaced

        usage0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one(i) for i in range(sites)))
        usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall0
        user, system = usage.ru_utime - usage0.ru_utime, usage.ru_stime - usage0.ru_stime
        cpu = user + system
    return {
        **counts,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_user_s": round(user, 2),
        "cpu_system_s": round(system, 2),
        "checks_per_min_wall": round(counts["checks"] / wall * 60),
        "checks_per_min_per_cpu_second": round(counts["checks"] / cpu * 60) if cpu else 0,
        "baseline_approve_s": round(approve_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    farm = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        assert farm.stdout is not None
        port = int(farm.stdout.readline())
        _pin(0)
        coro = _run(port, args.sites, args.rounds, args.concurrency)
        if args.no_uvloop:
            figures = asyncio.run(coro)
        else:
            import uvloop

            figures = uvloop.run(coro)
    finally:
        farm.terminate()
        farm.wait()
    figures |= {"sites": args.sites, "rounds": args.rounds, "concurrency": args.concurrency,
                "loop": "asyncio" if args.no_uvloop else "uvloop", "cpus": os.cpu_count() or 0,
                "loadavg_1m": round(os.getloadavg()[0], 2)}  # fmt: skip
    print(json.dumps(figures, indent=2))
    print(f"website checks per minute (one core, integrity on): {figures['checks_per_min_wall']:,}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "websites.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
