"""Archive write throughput: events per second into Parquet, and a query over what was written.

Run: .venv/bin/python bench/bench_archive.py [events]   (writes into a temporary directory, removed after)
Events are real access-log lines from ../shared/data when present (else synthetic ones), spread over
5 organisations and 2 days, the shape of an HTTP bulk-ingest batch.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from mamori.core.messages import Event
from mamori.ingest.archive import EventArchive
from mamori.ingest.parsers.webaccess import WebAccessParser

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ACCESS_LOG = DATA / "web" / "elastic-examples-apache-logs" / "apache_logs"
SYNTHETIC = (
    b'83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/'
    b'kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/" "Mozilla/5.0 (X11)"\n'
)


def sample_events(count: int, *, orgs: int = 5, days: int = 2) -> list[Event]:
    data = ACCESS_LOG.read_bytes() if ACCESS_LOG.exists() else SYNTHETIC * 1000
    parsed = [e for e in WebAccessParser().parse(data, origin="bench") if isinstance(e, dict)]
    events = []
    for i in range(count):
        event = dict(parsed[i % len(parsed)])
        event["org"] = f"ministry-{i % orgs}"
        event["sensor"] = "sensor-1"
        event["@id"] = uuid.uuid4().hex
        event["@timestamp"] = f"2026-11-{22 + i % days}T08:{i % 60:02d}:00.000000Z"
        events.append(event)
    return events


def run(events: list[Event], *, batch: int, durable: bool, report_queries: bool, what: str) -> None:
    count = len(events)
    with tempfile.TemporaryDirectory() as tmp:
        archive = EventArchive(Path(tmp), durable=durable)
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(0, count, batch):
            archive.write(events[i : i + batch])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        label = f"{what}, batches of {batch:,}, durable={durable}:"
        print(f"{label:<52} {count / elapsed:>9,.0f}/s wall  {count / cpu:>9,.0f} per CPU-second")
        if report_queries:
            queries(archive)
        archive.close()


def queries(archive: EventArchive) -> None:
    since, until = datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC)
    start = time.perf_counter()
    found = archive.query(orgs={"ministry-1"}, since=since, until=until, filters={"sc-status": "404"})
    print(f"query (1 org, field filter): {len(found)} rows in {time.perf_counter() - start:.3f}s")
    start = time.perf_counter()
    counts = archive.count_by_day(orgs=None, since=since, until=until)
    total = sum(sum(v.values()) for v in counts.values())
    print(f"count_by_day (all orgs): {total:,} events in {time.perf_counter() - start:.3f}s")
    start = time.perf_counter()
    for day in sorted(counts):
        archive.compact(day)
    print(f"compact: {time.perf_counter() - start:.2f}s")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work slows every figure)")
    print(f"writing {count:,} parsed access-log events (~1 KB each as JSON) per run")
    mixed, single = sample_events(count), sample_events(count, orgs=1, days=1)
    run(mixed, batch=10_000, durable=True, report_queries=True, what="5 orgs x 2 days")
    run(mixed, batch=10_000, durable=False, report_queries=False, what="5 orgs x 2 days")
    run(mixed, batch=50_000, durable=True, report_queries=False, what="5 orgs x 2 days")
    run(single, batch=10_000, durable=True, report_queries=False, what="1 org (one sensor)")
    run(single, batch=50_000, durable=True, report_queries=False, what="1 org (one sensor)")


if __name__ == "__main__":
    main()
