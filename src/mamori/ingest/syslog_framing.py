"""Reading syslog messages off a TCP stream: RFC 6587 octet counting and newline-delimited framing.

A frame starting with a digit is octet-counted (``<length> SP <message>``), anything else runs to the next
``\\n`` (RFC 6587 §3.4.2). Digits not followed by a space were the start of a newline-framed message (a
PRI-less line beginning with its ISO timestamp) and are read as one. Every read is bounded in size and time;
the newline-framed size bound is the StreamReader's ``limit``, which the server sets to the message limit.
"""

from __future__ import annotations

import asyncio

MAX_LENGTH_DIGITS = 10


class FrameError(Exception):
    """The stream cannot be read further: too long, malformed length, or too slow. Close the connection."""

    def __init__(self, reason: str, head: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head  # the first bytes of the unreadable message, kept as evidence


async def read_frame(reader: asyncio.StreamReader, *, max_message: int, timeout: float) -> bytes | None:
    """The next message, without its framing (possibly empty); None at the end of the stream.

    ``timeout`` bounds the wait for each piece, so a peer that trickles one byte a minute is dropped.
    """
    try:
        return await _read(reader, max_message, timeout)
    except asyncio.LimitOverrunError as exc:
        raise FrameError(f"message longer than {max_message} bytes") from exc
    except TimeoutError as exc:
        raise FrameError("peer too slow: message not completed in time") from exc


async def _read(reader: asyncio.StreamReader, max_message: int, timeout: float) -> bytes | None:
    head = b""  # digits seen so far: a length, or the start of a message
    while True:  # at most MAX_LENGTH_DIGITS + 2 rounds
        byte = await asyncio.wait_for(reader.read(1), timeout)
        if not byte:  # end of stream
            return head or None
        if byte.isdigit() and len(head) < MAX_LENGTH_DIGITS:
            head += byte
        elif byte == b" " and head:
            return await _octet_counted(reader, int(head), max_message, timeout)
        elif byte == b"\n":
            return head.rstrip(b"\r")
        else:
            return (head + byte + await _rest_of_line(reader, timeout)).rstrip(b"\r\n")


async def _octet_counted(reader: asyncio.StreamReader, length: int, max_message: int, timeout: float) -> bytes:
    if length > max_message:
        raise FrameError(f"announced length {length} over the limit of {max_message} bytes")
    try:
        return await asyncio.wait_for(reader.readexactly(length), timeout)
    except asyncio.IncompleteReadError as exc:
        raise FrameError("stream ended inside an octet-counted message", exc.partial[:64]) from exc


async def _rest_of_line(reader: asyncio.StreamReader, timeout: float) -> bytes:
    try:
        return await asyncio.wait_for(reader.readuntil(b"\n"), timeout)
    except asyncio.IncompleteReadError as exc:
        return exc.partial  # the last line of the stream had no newline: still a message
