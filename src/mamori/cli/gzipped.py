"""Rotated logs come compressed (``access.log.1.gz``): read them decompressed, with a bound.

Parsers take the whole file as bytes, so a gzip "bomb" (a few kilobytes that inflate to gigabytes) would
exhaust memory; decompression streams and stops at :data:`MAX_DECOMPRESSED_BYTES` with :class:`TooLarge`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
MAX_DECOMPRESSED_BYTES = 1 << 30  # 1 GiB: larger than any rotated log a responder hands over in one file
_CHUNK = 1 << 20


class TooLarge(Exception):
    """The file inflates to more than the bound."""


class Corrupt(Exception):
    """Not a readable gzip stream."""


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def inner_name(path: Path) -> Path:
    """``access.log.1.gz`` → ``access.log.1``: the name the sniffer judges (``.log``, rotation …)."""
    return path.with_suffix("") if is_gzip(path) else path


def read_bytes(path: Path, *, limit: int | None = None) -> bytes:
    """The file's bytes, decompressed when it is gzip; at most ``limit`` bytes when given (a sniff), otherwise
    :class:`TooLarge` beyond :data:`MAX_DECOMPRESSED_BYTES`."""
    if not is_gzip(path):
        if limit is None:
            return path.read_bytes()
        with path.open("rb") as fh:
            return fh.read(limit)
    bound = MAX_DECOMPRESSED_BYTES if limit is None else limit
    out = bytearray()
    try:
        with gzip.open(path, "rb") as fh:
            while len(out) < bound:
                chunk = fh.read(min(_CHUNK, bound - len(out)))
                if not chunk:
                    return bytes(out)
                out += chunk
            if limit is None and fh.read(1):
                raise TooLarge(f"decompresses to more than {MAX_DECOMPRESSED_BYTES >> 20} MiB")
    except (OSError, EOFError, zlib.error) as exc:
        if limit is not None and out:
            return bytes(out)  # a truncated tail does not stop a sniff of the head
        raise Corrupt(f"not a readable gzip file ({exc})") from exc
    return bytes(out)
