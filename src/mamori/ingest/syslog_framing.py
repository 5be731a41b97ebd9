"""Cutting a TCP byte stream into syslog messages: RFC 6587 octet counting and newline-delimited framing.

A frame starting with a digit is octet-counted (``<length> SP <message>``), anything else runs to the next
``\\n`` (RFC 6587 §3.4.2). Digits not followed by a space were the start of a newline-framed message (a
PRI-less line beginning with its ISO timestamp) and are read as one.

:class:`Framer` does no I/O: the listener feeds it whatever ``read()`` returned (one read of up to 64 KiB
typically holds hundreds of messages) and gets the complete messages back. Doing the cutting here, rather than
with one awaited ``readexactly``/``readuntil`` per message, keeps the per-message cost to a few slices.
"""

from __future__ import annotations

MAX_LENGTH_DIGITS = 10
_DIGITS = frozenset(b"0123456789")
_SPACE = 0x20
_MORE = (-1, -1)  # "cannot tell yet": digits only, the byte after them has not arrived


class FrameError(Exception):
    """The stream cannot be read further (message too long, announced length too large). Close it."""

    def __init__(self, reason: str, head: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head  # the first bytes of the unreadable message, kept as evidence


class Framer:
    """Accumulates stream bytes and returns each complete message once (without its framing)."""

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self._buffer = bytearray()
        self._start = 0  # messages before this offset were already returned

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buffer) - self._start

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the messages it completed. Raises :class:`FrameError`."""
        self._buffer += data
        frames = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        del self._buffer[: self._start]  # one move per read, not one per message
        self._start = 0
        return frames

    def end(self) -> bytes | None:
        """At end of stream: the last message if it lacked its newline. Raises inside an octet count."""
        rest = bytes(self._buffer[self._start :])
        self._buffer.clear()
        self._start = 0
        if not rest.strip():
            return None
        if _length_prefix(rest) not in (None, _MORE):
            raise FrameError("stream ended inside an octet-counted message", rest[:64])
        return rest.rstrip(b"\r\n")

    def _next(self) -> bytes | None:
        buffer, start = self._buffer, self._start
        if start >= len(buffer):
            return None
        counted = _length_prefix(buffer, start)
        if counted is _MORE:
            return None  # only digits so far: a length whose space has not arrived yet, or a line; wait
        if counted is not None:
            return self._octet_counted(*counted)
        end = buffer.find(b"\n", start)
        # Too long whether or not its newline is already here: how reads split the stream must not matter.
        if (end if end != -1 else len(buffer)) - start > self.max_message:
            head = bytes(buffer[start : start + 64])
            raise FrameError(f"message longer than {self.max_message} bytes", head)
        if end == -1:
            return None
        self._start = end + 1
        return bytes(buffer[start:end]).rstrip(b"\r")

    def _octet_counted(self, length: int, body: int) -> bytes | None:
        if length > self.max_message:
            raise FrameError(f"announced length {length} over the limit of {self.max_message} bytes")
        if len(self._buffer) < body + length:
            return None
        self._start = body + length
        return bytes(self._buffer[body : body + length])


def _length_prefix(buffer: bytes | bytearray, start: int = 0) -> tuple[int, int] | None:
    """``(length, offset of the message)`` when ``buffer[start:]`` begins with ``digits SP``; ``_MORE`` when
    it is a few digits and nothing else yet; None when it is not a length (newline framing)."""
    end = start
    limit = min(len(buffer), start + MAX_LENGTH_DIGITS + 1)
    while end < limit and buffer[end] in _DIGITS:
        end += 1
    if end == start or end - start > MAX_LENGTH_DIGITS:
        return None
    if end == len(buffer):
        return _MORE
    if buffer[end] != _SPACE:
        return None
    return int(buffer[start:end]), end + 1
