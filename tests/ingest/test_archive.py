"""The Parquet event archive in a temporary directory: write, query, tenancy, counts, compaction."""

from __future__ import annotations

import fcntl
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core.errors import ValidationFailed
from mamori.core.messages import Event
from mamori.ingest.archive import SCHEMA, EventArchive

T0 = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
WIDE = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=2)}


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[EventArchive]:
    archive = EventArchive(tmp_path / "archive")
    yield archive
    archive.close()


def event(i: int, org: str, *, minutes: int = 0, **fields: object) -> Event:
    stamp = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return {
        "@timestamp": stamp,
        "@id": f"{org}-{i}",
        "org": org,
        "sensor": "s1",
        "source": "webserver",
        "host": "web01",
        "raw": f"line {i} of {org}",
        "c-ip": "10.0.0.1",
        "sc-status": 200,
        **fields,
    }


def test_write_partitions_by_day_and_org(archive: EventArchive) -> None:
    paths = archive.write([event(1, "mod"), event(2, "mod", minutes=90), event(3, "moj")])
    layout = sorted(p.relative_to(archive.root).parent.as_posix() for p in paths)
    assert layout == ["day=2026-11-22/org=mod", "day=2026-11-22/org=moj", "day=2026-11-23/org=mod"]
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in paths)
    assert pq.read_schema(paths[0]).equals(SCHEMA)
    assert not list(archive.root.rglob("*.tmp"))  # written under a temporary name, then renamed


def test_query_returns_events_newest_first_with_raw_and_org(archive: EventArchive) -> None:
    archive.write([event(1, "mod"), event(2, "mod", minutes=5, **{"cs-uri-query": "/a?b=1"})])
    found = archive.query(orgs={"mod"}, **WIDE)
    assert [e["@id"] for e in found] == ["mod-2", "mod-1"]
    assert found[0]["raw"] == "line 2 of mod" and found[0]["org"] == "mod"
    assert found[0]["cs-uri-query"] == "/a?b=1" and found[0]["sc-status"] == 200


def test_tenancy_filter(archive: EventArchive) -> None:
    archive.write([event(1, "mod"), event(2, "moj"), event(3, "mof")])
    assert {e["org"] for e in archive.query(orgs={"mod", "moj"}, **WIDE)} == {"mod", "moj"}
    assert {e["org"] for e in archive.query(orgs=None, **WIDE)} == {"mod", "moj", "mof"}  # national view
    assert archive.query(orgs=set(), **WIDE) == []
    assert archive.query(orgs={"../mod", "mod' OR 1=1 --"}, **WIDE) == []


def test_numeric_looking_org_ids_stay_text(archive: EventArchive) -> None:
    archive.write([event(1, "007"), event(2, "7")])
    assert [e["org"] for e in archive.query(orgs={"007"}, **WIDE)] == ["007"]


def test_time_window_is_half_open(archive: EventArchive) -> None:
    archive.write([event(1, "mod"), event(2, "mod", minutes=60)])
    found = archive.query(orgs=None, since=T0, until=T0 + timedelta(minutes=60))
    assert [e["@id"] for e in found] == ["mod-1"]


def test_field_filters_and_text_search_are_parameters(archive: EventArchive) -> None:
    archive.write(
        [
            event(1, "mod", **{"sc-status": 404, "alert.signature": "ET SCAN"}),
            event(2, "mod", **{"sc-status": 200, "cs-user-agent": "sqlmap/1.7"}),
            event(3, "mod", **{"sc-status": 404, "cs-user-agent": "x' OR '1'='1"}),
        ]
    )
    assert {e["@id"] for e in archive.query(orgs=None, filters={"sc-status": "404"}, **WIDE)} == {
        "mod-1",
        "mod-3",
    }
    assert [e["@id"] for e in archive.query(orgs=None, filters={"alert.signature": "ET SCAN"}, **WIDE)] == ["mod-1"]
    assert [e["@id"] for e in archive.query(orgs=None, text="SQLMAP", **WIDE)] == ["mod-2"]
    hostile = archive.query(orgs=None, filters={"cs-user-agent": "x' OR '1'='1"}, **WIDE)
    assert [e["@id"] for e in hostile] == ["mod-3"]
    assert archive.query(orgs=None, filters={"sc-status": "1' OR '1'='1"}, **WIDE) == []


@pytest.mark.parametrize("name", ["a b", 'x") OR 1=1 --', "", "$.x", "a" * 200, "f'"])
def test_invalid_field_names_are_refused(archive: EventArchive, name: str) -> None:
    archive.write([event(1, "mod")])
    with pytest.raises(ValidationFailed):
        archive.query(orgs=None, filters={name: "1"}, **WIDE)


def test_limit_offset_and_validation(archive: EventArchive) -> None:
    archive.write([event(i, "mod", minutes=i) for i in range(10)])
    page = archive.query(orgs=None, limit=3, offset=3, **WIDE)
    assert [e["@id"] for e in page] == ["mod-6", "mod-5", "mod-4"]
    for bad in ({"limit": 0}, {"limit": 10**6}, {"offset": -1}):
        with pytest.raises(ValidationFailed):
            archive.query(orgs=None, **WIDE, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        archive.query(orgs=None, since=datetime(2026, 1, 1), until=datetime(2026, 2, 1))


def test_count_by_day(archive: EventArchive) -> None:
    archive.write([event(1, "mod"), event(2, "mod", minutes=90), event(3, "moj"), event(4, "moj")])
    assert archive.count_by_day(orgs=None, **WIDE) == {
        date(2026, 11, 22): {"mod": 1, "moj": 2},
        date(2026, 11, 23): {"mod": 1},
    }
    assert archive.count_by_day(orgs={"moj"}, **WIDE) == {date(2026, 11, 22): {"moj": 2}}
    assert archive.count_by_day(orgs=set(), **WIDE) == {}


def test_compact_merges_small_files_and_keeps_every_event(archive: EventArchive) -> None:
    for i in range(5):
        archive.write([event(i, "mod"), event(i, "moj")])
    day_dir = archive.root / "day=2026-11-22"
    assert len(list(day_dir.glob("org=mod/*.parquet"))) == 5
    merged = archive.compact(date(2026, 11, 22))
    assert len(merged) == 2
    assert len(list(day_dir.glob("org=mod/*.parquet"))) == 1
    assert not list(archive.root.rglob("*.tmp"))
    assert len(archive.query(orgs={"mod"}, **WIDE)) == 5
    assert archive.compact(date(2026, 11, 22)) == []  # nothing left to merge
    assert archive.compact(date(2020, 1, 1)) == []


def test_events_without_valid_org_are_refused(archive: EventArchive) -> None:
    for org in (None, "", "../etc", "a/b", ".hidden"):
        bad = event(1, "mod")
        bad["org"] = org
        with pytest.raises(ValidationFailed):
            archive.write([bad])
    assert not archive.root.exists() or not list(archive.root.rglob("*.parquet"))


def test_missing_ids_and_odd_values_are_tolerated(archive: EventArchive) -> None:
    odd = event(1, "mod", EventID="4624")
    del odd["@id"]
    odd["@timestamp"] = "not a time"
    odd["host"] = 42
    odd["when"] = datetime(2026, 1, 1, tzinfo=UTC)
    archive.write([odd, event(2, "mod", EventID=4688)])
    found = archive.query(orgs=None, since=T0 - timedelta(days=400), until=datetime.now(UTC) + timedelta(days=1))
    assert len(found) == 2
    assert {len(e["@id"]) for e in found} == {32, 5}  # a fresh id for the event that had none
    stored = [row for path in archive.root.rglob("*.parquet") for row in pq.read_table(path).to_pylist()]
    assert sorted(r["event_id"] for r in stored) == [4624, 4688]


def test_empty_archive(archive: EventArchive) -> None:
    assert archive.write([]) == []
    assert archive.query(orgs=None, **WIDE) == []
    assert archive.count_by_day(orgs=None, **WIDE) == {}


def test_compaction_already_running_elsewhere_is_left_alone(archive: EventArchive) -> None:
    for i in range(3):
        archive.write([event(i, "mod")])
    org_dir = archive.root / "day=2026-11-22" / "org=mod"
    with (org_dir / ".compact.lock").open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)  # as another process's compaction would hold it
        assert archive.compact(date(2026, 11, 22)) == []
    assert len(archive.compact(date(2026, 11, 22))) == 1


def test_timestamps_outside_the_calendar_fall_back(archive: EventArchive) -> None:
    odd = event(1, "mod")
    odd["@timestamp"] = "0001-01-01T00:00:00+01:00"  # year 0 once in UTC
    assert len(archive.write([odd])) == 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6))
def test_any_event_content_is_stored_and_read_back(archive: EventArchive, fields: dict[str, object]) -> None:
    record = {**fields, **event(1, "mod")}
    record["@id"] = uuid.uuid4().hex
    archive.write([record])
    (found,) = archive.query(orgs=None, filters={"@id": record["@id"]}, **WIDE)
    assert found["raw"] == record["raw"]


def test_values_json_cannot_hold_are_kept_as_text(archive: EventArchive) -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    archive.write([event(1, "mod", deep=deep, huge=2**70)])
    (found,) = archive.query(orgs=None, **WIDE)
    assert found["huge"] == str(2**70) and isinstance(found["deep"], str)


def test_queries_survive_a_concurrent_compaction(archive: EventArchive) -> None:
    for i in range(20):
        archive.write([event(i, "mod", minutes=i)])
    stop = threading.Event()

    def compact_repeatedly() -> None:
        for round_ in range(5):
            archive.write([event(100 + round_, "mod")])
            archive.compact(date(2026, 11, 22))
            time.sleep(0.02)  # compaction is a daily job; back to back it would starve any reader
        stop.set()

    worker = threading.Thread(target=compact_repeatedly)
    worker.start()
    while not stop.is_set():  # listing, then reading files a compaction may just have removed
        assert sum(archive.count_by_day(orgs={"mod"}, **WIDE)[date(2026, 11, 22)].values()) >= 20
    worker.join()


def test_query_size_limits(archive: EventArchive) -> None:
    archive.write([event(1, "mod")])
    with pytest.raises(ValidationFailed):
        archive.query(orgs=None, filters={f"f{i}": "x" for i in range(33)}, **WIDE)
    with pytest.raises(ValidationFailed):
        archive.query(orgs=None, text="x" * 1001, **WIDE)
