"""The TCP framer on its own: RFC 6587 octet counting and newline framing, however the stream is split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.ingest.syslog_framing import FrameError, Framer


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 4096])
def test_framer_gives_the_same_messages_however_the_stream_is_split(chunk: int) -> None:
    one = b"<13>1 - h a - - - multi\nline"
    stream = b"%d %s" % (len(one), one) + b"<13>plain line\r\n" + b"2023-08-17T16:55:35Z h p: digits first\n" + b"42\n"
    framer = Framer(max_message=1024)
    frames = [f for i in range(0, len(stream), chunk) for f in framer.feed(stream[i : i + chunk])]
    assert frames == [one, b"<13>plain line", b"2023-08-17T16:55:35Z h p: digits first", b"42"]
    assert framer.end() is None


def test_framer_limits() -> None:
    with pytest.raises(FrameError, match="announced length"):
        Framer(max_message=100).feed(b"101 x")
    with pytest.raises(FrameError, match="longer than"):
        Framer(max_message=100).feed(b"<13>" + b"x" * 200)
    framer = Framer(max_message=100)
    framer.feed(b"50 <13>partial")
    with pytest.raises(FrameError, match="inside an octet-counted"):
        framer.end()
    last = Framer(max_message=100)
    assert last.feed(b"no newline at the end") == []
    assert last.end() == b"no newline at the end"


MESSAGES = st.lists(
    st.tuples(st.booleans(), st.binary(min_size=1, max_size=60)).map(
        # newline framing cannot carry a newline, nor start with a digit (that announces a length)
        lambda pair: pair if pair[0] else (False, b"<" + pair[1].replace(b"\n", b" ").replace(b"\r", b" "))
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(messages=MESSAGES, cuts=st.lists(st.integers(min_value=1, max_value=50), max_size=30))
def test_framer_round_trip_at_any_split(messages: list[tuple[bool, bytes]], cuts: list[int]) -> None:
    stream = b"".join(b"%d %s" % (len(m), m) if counted else m + b"\n" for counted, m in messages)
    framer, frames, position = Framer(max_message=100), [], 0
    for size in [*cuts, len(stream)]:
        frames += framer.feed(stream[position : position + size])
        position += size
    assert frames == [m for _, m in messages]
    assert framer.end() is None
