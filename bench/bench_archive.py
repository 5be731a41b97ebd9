"""Archive write throughput: events per second into Parquet, and a query over what was written.

Run: .venv/bin/python bench/bench_archive.py [events]   (writes into a temporary directory, removed after)
Events are real access-log lines from ../shared/data when present (else synthetic ones), spread over
5 organisations and 2 days, the shape of an HTTP bulk-ingest batch.
"""

from __future__ import annotations

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


def sample_events(count: int) -> list[Event]:
    data = ACCESS_LOG.read_bytes() if ACCESS_LOG.exists() else SYNTHETIC * 1000
    parsed = [e for e in WebAccessParser().parse(data, origin="bench") if isinstance(e, dict)]
    events = []
    for i in range(count):
        event = dict(parsed[i % len(parsed)])
        event["org"] = f"ministry-{i % 5}"
        event["sensor"] = "sensor-1"
        event["@id"] = uuid.uuid4().hex
        event["@timestamp"] = f"2026-11-{22 + i % 2}T08:{i % 60:02d}:00.000000Z"
        events.append(event)
    return events


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    events = sample_events(count)
    batch = 10_000
    with tempfile.TemporaryDirectory() as tmp:
        archive = EventArchive(Path(tmp))
        start = time.perf_counter()
        for i in range(0, count, batch):
            archive.write(events[i : i + batch])
        elapsed = time.perf_counter() - start
        rate = count / elapsed
        print(f"write: {count:,} events in {elapsed:.2f}s = {rate:,.0f} events/s (batches of {batch:,})")
        since, until = datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC)
        start = time.perf_counter()
        found = archive.query(orgs={"ministry-1"}, since=since, until=until, filters={"sc-status": "404"}, limit=100)
        print(f"query (1 org, field filter): {len(found)} rows in {time.perf_counter() - start:.3f}s")
        start = time.perf_counter()
        counts = archive.count_by_day(orgs=None, since=since, until=until)
        total = sum(sum(v.values()) for v in counts.values())
        print(f"count_by_day (all orgs): {total:,} events in {time.perf_counter() - start:.3f}s")
        start = time.perf_counter()
        for day in sorted(counts):
            archive.compact(day)
        print(f"compact: {time.perf_counter() - start:.2f}s")


if __name__ == "__main__":
    main()
