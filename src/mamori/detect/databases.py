"""Compiled Hyperscan databases kept on disk beside the rule cache, keyed by what they are compiled from.

Why: a process compiles the database of each route and field it meets on first use — 0.65 s for the SigmaHQ
set over EVTX-ATTACK-SAMPLES, a fifth of a small `mamori hunt`. Hyperscan serialises a database to bytes
(``dumpb``/``loadb``, microseconds), so later processes load instead of compiling. The key covers the Hyperscan
version, the mode, the flags and every expression in order: a database is only ever loaded for exactly what it
was built from. A file that cannot be read or loaded (missing, truncated, from another build) is compiled again
and rewritten; writes are atomic (temporary file, then rename), so concurrent processes never see half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

try:  # an optional accelerator: its users (detect.literals, detect.regexes) have a path without it
    import hyperscan
except ImportError:  # pragma: no cover - the lockfile installs it on x86-64 and aarch64 Linux
    hyperscan = None  # type: ignore[assignment]

T = TypeVar("T")


class OnFirstUse(Generic[T]):
    """A value built on first use, once even when threads race, with a Hyperscan scratch space per thread.

    Why: most routes of a big rule set never see an event, so their databases are built only when one does; and
    a scratch space serves one scan at a time, while the live pipeline detects batches in several threads.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def scratch(self, database: Any) -> Any:
        """This thread's scratch space for ``database`` (one database per instance)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(database)
        return scratch


_FORMAT = "1"  # bump when what a key covers changes


class DatabaseStore:
    """Where compiled databases are kept; ``None`` keeps nothing (every process compiles)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory

    def get(self, kind: str, flags: int, expressions: Sequence[bytes], compile_: Callable[[], Any]) -> Any:
        """The block-mode database of ``expressions``: loaded when kept, else compiled (and kept unless the
        compile function gives None, its way of saying Hyperscan refused an expression)."""
        if self.directory is None:
            return compile_()
        path = self.directory / f"{_key(kind, flags, expressions)}.hsdb"
        try:
            return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error, TypeError, ValueError):
            pass  # not kept yet, or not loadable: compile
        database = compile_()
        if database is not None:
            self._keep(path, hyperscan.dumpb(database))
        return database

    def _keep(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only or full cache only costs the next process a compile


def _key(kind: str, flags: int, expressions: Sequence[bytes]) -> str:
    version = getattr(hyperscan, "__version__", "")  # the wheel bundles its own library
    digest = hashlib.sha256(f"{_FORMAT}|{version}|{kind}|{flags}|{len(expressions)}".encode())
    for expression in expressions:  # length-prefixed: no two lists give the same bytes
        digest.update(len(expression).to_bytes(8, "big"))
        digest.update(expression)
    return digest.hexdigest()[:40]


__all__ = ["DatabaseStore", "OnFirstUse", "hyperscan"]
