"""The column-wise views and prefilter (detect.columns, detect.literals) equal the event-by-event ones."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect import columns
from mamori.detect.engine import Engine
from mamori.detect.literals import LiteralSet, hyperscan
from mamori.detect.matchers import KEYWORDS
from mamori.detect.prefilter import Bucket
from mamori.detect.views import views
from mamori.ingest.parsers.windows import EvtxParser
from tests.detect.conftest import EAS, need

pytestmark = pytest.mark.xdist_group("sigmahq")


def _one_by_one(bucket: Bucket, events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[set[int]]]:
    lows = [views(e, bucket.reads)[1] for e in events]
    return lows, [bucket.candidates(low, event) for low, event in zip(lows, events, strict=True)]


def _same_views(by_column: dict[str, Any], one: dict[str, Any]) -> bool:
    """Equal up to what the engine allows: None for an absent field, the keyword text added on demand."""
    present = {k: v for k, v in by_column.items() if v is not None and k != KEYWORDS}
    return present == {k: v for k, v in one.items() if k != KEYWORDS}


@pytest.mark.shared_data
def test_columns_equal_event_by_event_on_real_logs(sigmahq_engine: Engine) -> None:
    rules = sigmahq_engine.rules
    groups: dict[int, tuple[Bucket, list[dict[str, Any]]]] = {}
    for path in sorted(need(EAS).rglob("*.evtx")):
        for event in EvtxParser().parse_file(str(path), origin=str(path)):
            assert isinstance(event, dict)
            bucket = rules.bucket(event)
            groups.setdefault(id(bucket), (bucket, []))[1].append(event)
    checked = 0
    for bucket, events in groups.values():
        lows, found = columns.scan(bucket, events)
        one_lows, one_found = _one_by_one(bucket, events)
        assert found == one_found
        assert all(_same_views(a, b) for a, b in zip(lows, one_lows, strict=True))
        checked += len(events)
    assert checked > 8000


# ---- arbitrary values ---------------------------------------------------------------------------------------
_RULES = [
    (0, frozenset({("f", "sub", "ab"), ("f", "sub", "é")}), frozenset({"f", "g"})),
    (1, frozenset({("g", "eq", "x"), ("g", "eq", "1")}), frozenset({"g"})),
    (2, None, frozenset({"h"})),
    (3, frozenset({(None, "sub", "zz")}), frozenset({KEYWORDS})),
    (4, frozenset({("f", "sub", "b\x00a")}), frozenset({"f"})),  # a literal with a NUL: may over-approximate
]
_FEW_KEYWORDS = Bucket.build(_RULES)
_MANY_KEYWORDS = Bucket.build(
    [*_RULES, *((5 + i, frozenset({(None, "sub", w)}), frozenset({KEYWORDS})) for i, w in enumerate("pqrstu"))]
)
_READS_ALL = Bucket.build([*_RULES, (20, frozenset({(None, "sub", "ab")}), None)])  # a regex keyword: every field
_TEXT = st.text(alphabet=st.sampled_from(list("abxzé1İ\x00 ßK")), max_size=6)
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    st.integers(-3, 3),
    st.booleans(),
    st.floats(allow_nan=False, width=16),
    st.lists(st.one_of(_TEXT, st.integers(0, 2), st.none()), max_size=3),
    st.dictionaries(st.just("k"), _TEXT, max_size=1),
)
_EVENT = st.dictionaries(st.sampled_from(["f", "g", "h", "other", "raw", "host"]), _VALUE, max_size=6)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_EVENT, min_size=1, max_size=12), kind=st.sampled_from(["few", "many", "all"]))
def test_columns_equal_event_by_event_on_arbitrary_values(events: list[dict[str, Any]], kind: str) -> None:
    bucket = {"few": _FEW_KEYWORDS, "many": _MANY_KEYWORDS, "all": _READS_ALL}[kind]
    lows, found = columns.scan(bucket, events)
    one_lows, one_found = _one_by_one(bucket, events)
    for by_column, one, event in zip(found, one_found, events, strict=True):
        assert one <= by_column  # never fewer candidates
        if not any("\x00" in str(v) for v in event.values()):
            assert by_column - one <= {4}  # only the NUL literal may fire across a value boundary
    assert all(_same_views(a, b) for a, b in zip(lows, one_lows, strict=True))


@pytest.mark.skipif(hyperscan is None, reason="the hyperscan wheel is not installed here")
@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.text(alphabet="abcé\x00İ", max_size=8), min_size=1, max_size=8),
    literals=st.lists(st.text(alphabet="abcé", min_size=1, max_size=3), min_size=1, max_size=5, unique=True),
)
def test_hyperscan_and_aho_corasick_agree(parts: list[str], literals: list[str]) -> None:
    parts = [p.replace("\x00", "") for p in parts]
    table = {lit: (i,) for i, lit in enumerate(literals)}
    joined = "\x00".join(parts)
    fast = LiteralSet(table).fired(joined, parts)
    plain = LiteralSet(table, use_hyperscan=False).fired(joined, parts)
    expected = {i: {n for n, lit in enumerate(literals) if lit in p} for i, p in enumerate(parts)}
    assert fast == plain == {i: ids for i, ids in expected.items() if ids}


@pytest.mark.skipif(hyperscan is None, reason="the hyperscan wheel is not installed here")
def test_one_literal_set_scans_from_many_threads_at_once() -> None:
    """The live pipeline detects batches in worker threads: each needs its own Hyperscan scratch space."""
    import threading

    literals = LiteralSet({f"needle{i}": (i,) for i in range(200)})
    parts = [f"x needle{i % 200} y" for i in range(5_000)]
    joined = "\x00".join(parts)
    expected = LiteralSet({f"needle{i}": (i,) for i in range(200)}, use_hyperscan=False).fired(joined, parts)
    results: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(literals.fired(joined, parts))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 80 and all(r == expected for r in results)
