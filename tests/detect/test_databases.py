"""Compiled Hyperscan databases kept on disk: compiled once, loaded after, recompiled when a file is bad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mamori.detect import regexes
from mamori.detect.databases import DatabaseStore
from mamori.detect.literals import LiteralSet
from tests.detect.helpers import engine_for, rule_text, web

pytestmark = pytest.mark.skipif(not regexes.available(), reason="Hyperscan is not installed on this platform")


class Compiles:
    """A compile function that counts its calls (the real Hyperscan compile underneath)."""

    def __init__(self, expressions: list[bytes]) -> None:
        self.expressions = expressions
        self.calls = 0

    def __call__(self) -> Any:
        import hyperscan

        self.calls += 1
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        ids = list(range(len(self.expressions)))
        database.compile(expressions=self.expressions, ids=ids, elements=len(ids), literal=True)
        return database


def found(database: Any, text: bytes) -> list[int]:
    import hyperscan

    hits: list[int] = []
    database.scan(text, match_event_handler=lambda i, *_: hits.append(i), scratch=hyperscan.Scratch(database))
    return hits


def test_a_database_is_compiled_once_then_loaded_by_later_stores(tmp_path: Path) -> None:
    expressions = [b"mimikatz", b"sekurlsa::"]
    first = Compiles(expressions)
    database = DatabaseStore(tmp_path).get("literal", 0, expressions, first)
    assert first.calls == 1 and found(database, b"run mimikatz now") == [0]
    [kept] = list(tmp_path.iterdir())

    later = Compiles(expressions)
    loaded = DatabaseStore(tmp_path).get("literal", 0, expressions, later)  # a new process, in effect
    assert later.calls == 0 and found(loaded, b"sekurlsa::logonpasswords") == [1]
    assert list(tmp_path.iterdir()) == [kept]


def test_what_a_key_covers(tmp_path: Path) -> None:
    store = DatabaseStore(tmp_path)
    for kind, flags, expressions in [
        ("literal", 0, [b"a", b"b"]),
        ("literal", 0, [b"b", b"a"]),  # order: ids are positions
        ("literal", 0, [b"ab"]),  # not the same bytes as ["a", "b"] joined
        ("literal", 1, [b"a", b"b"]),
        ("prefilter", 0, [b"a", b"b"]),
    ]:
        store.get(kind, flags, expressions, Compiles(expressions))
    assert len(list(tmp_path.iterdir())) == 5


@pytest.mark.parametrize("damage", [b"", b"not a database", b"\x00" * 64])
def test_a_damaged_file_is_compiled_again_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    expressions = [b"evil"]
    DatabaseStore(tmp_path).get("literal", 0, expressions, Compiles(expressions))
    [kept] = list(tmp_path.iterdir())
    kept.write_bytes(damage)
    again = Compiles(expressions)
    database = DatabaseStore(tmp_path).get("literal", 0, expressions, again)
    assert again.calls == 1 and found(database, b"so evil") == [0]
    assert kept.read_bytes() != damage


def test_without_a_directory_or_with_an_unwritable_one_it_just_compiles(tmp_path: Path) -> None:
    expressions = [b"x"]
    nowhere = Compiles(expressions)
    DatabaseStore(None).get("literal", 0, expressions, nowhere)
    DatabaseStore(None).get("literal", 0, expressions, nowhere)
    assert nowhere.calls == 2
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("a file where the directory should be")
    database = DatabaseStore(blocked / "sub").get("literal", 0, expressions, Compiles(expressions))
    assert found(database, b"x") == [0]


def test_the_engine_keeps_its_prefilter_databases_in_its_cache(tmp_path: Path) -> None:
    text = rule_text(
        """
        selection:
            c-uri|contains:
                - '/etc/passwd'
                - 'union select'
        condition: selection
        """
    )
    events = [web(**{"c-uri": f"/x?{n}"}) for n in range(9)] + [web(**{"c-uri": "/a?q=UNION SELECT 1"})]
    cache = tmp_path / "cache"
    first = engine_for(tmp_path, text)
    first.cache_dir = cache
    first.reload()
    assert [bool(p) for p in first.evaluate_many(events)] == [False] * 9 + [True]
    kept = sorted((cache / "hyperscan").iterdir())
    assert kept
    stamps = [p.stat().st_mtime_ns for p in kept]

    second = engine_for(tmp_path, text)
    second.cache_dir = cache
    second.reload()
    assert [bool(p) for p in second.evaluate_many(events)] == [False] * 9 + [True]
    assert sorted((cache / "hyperscan").iterdir()) == kept
    assert [p.stat().st_mtime_ns for p in kept] == stamps  # loaded, not compiled and written again


def test_literal_sets_order_their_literals_so_their_key_is_stable(tmp_path: Path) -> None:
    one = LiteralSet({"b": (1,), "a": (2,)})
    two = LiteralSet({"a": (2,), "b": (1,)})
    assert one.literals == two.literals == ["a", "b"]
