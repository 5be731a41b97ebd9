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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:  # an optional accelerator (see detect.literals)
    import hyperscan
except ImportError:  # pragma: no cover - the lockfile installs it on x86-64 and aarch64 Linux
    hyperscan = None  # type: ignore[assignment]

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
