"""Parser throughput on real data (records per second of CPU time on one core).

Run: .venv/bin/python bench/bench_parsers.py
Each input is parsed several times and the best run is reported; "cold" is the first run, when the timestamp
caches are empty (every distinct second of the file is converted once), "warm" the best of the rest (a live
server, where many lines share each second). Needs ../shared/data; falls back to synthetic lines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from mamori.ingest.parsers._common import iso_from_isoformat
from mamori.ingest.parsers.base import Parser
from mamori.ingest.parsers.jsonlines import JsonLinesParser
from mamori.ingest.parsers.suricata import SuricataParser
from mamori.ingest.parsers.syslog import SyslogParser, bsd_time
from mamori.ingest.parsers.webaccess import WebAccessParser, access_time

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RUNS = 5


def _read(relative: str, fallback: bytes) -> bytes:
    path = DATA / relative
    return path.read_bytes() if path.exists() else fallback


def _access_logs() -> bytes:
    names = ["elastic-examples-apache-logs/apache_logs", "ocatak-apache-http-logs/netsparker.txt"]
    line = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /index.html?q=1 HTTP/1.1" 200 512 "-" "curl/8"\n'
    return b"".join(_read(f"web/{name}", line * 5000) for name in names)


def _syslog() -> bytes:
    names = ["ssh-bf/ssh-bf.log", "sshd-logs/sshd-logs.log", "iptables-logs/iptables-logs.log"]
    data = b"".join(_read(f"web/crowdsec-hub-tests/.tests/{n}", b"") for n in names)
    return (data or b"Feb 12 14:10:21 sd-1 sshd[16378]: Invalid user pascal from 1.2.3.4 port 53502\n") * 50


def _json_lines() -> bytes:
    """Flat JSON records as a sensor forwards them: access-log events already normalised."""
    events = [e for e in WebAccessParser().parse(_access_logs(), origin="x") if isinstance(e, dict)]
    return b"\n".join(orjson.dumps(e) for e in events[:20_000])


def _eve() -> bytes:
    fallback = b'{"event_type":"flow","src_ip":"1.2.3.4"}\n' * 1000
    return _read("ids/mssis-suricata-icedid-eve/data/out.json", fallback) * 3


def measure(name: str, parser: Parser, data: bytes, clear: Callable[[], None]) -> None:
    clear()
    rates = []
    for _ in range(RUNS):
        # CPU time of this process: records per second of one core, whatever else the machine is doing.
        start = time.process_time()
        count = sum(1 for _ in parser.parse(data, origin="bench"))
        rates.append(count / (time.process_time() - start))
    mb = len(data) / 1e6
    cold, warm = rates[0], max(rates[1:])
    print(f"{name:<30} {count:>7,} records {mb:5.1f} MB  cold {cold:>9,.0f}/s  warm {warm:>9,.0f}/s")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work slows every figure)")

    def clear_caches() -> None:
        for cache in (access_time, bsd_time, iso_from_isoformat):
            cache.cache_clear()

    measure("webaccess (Apache/nginx)", WebAccessParser(), _access_logs(), clear_caches)
    measure("json (flat NDJSON events)", JsonLinesParser(), _json_lines(), clear_caches)
    measure("suricata (EVE, nested)", SuricataParser(), _eve(), clear_caches)
    measure("syslog (auth.log, iptables)", SyslogParser(), _syslog(), clear_caches)


if __name__ == "__main__":
    main()
