"""Real UDP and TCP syslog listeners on 127.0.0.1 ephemeral ports, fed by real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.syslog_listener import Batch, ListenerLimits, Peer, SyslogListener

# anyio's pytest plugin (installed with httpx/starlette) runs the coroutine tests on asyncio.
pytestmark = pytest.mark.anyio
LIMITS = ListenerLimits(batch_size=50, batch_delay=0.05, idle_timeout=2.0, max_message=4096)


class Received:
    """Collects delivered batches; `wait_for(n)` returns once n items arrived."""

    def __init__(self) -> None:
        self.batches: list[tuple[Batch, Peer]] = []
        self.changed = asyncio.Event()

    def __call__(self, batch: Batch, peer: Peer) -> None:
        self.batches.append((batch, peer))
        self.changed.set()

    @property
    def items(self) -> Batch:
        return [item for batch, _ in self.batches for item in batch]

    async def wait_for(self, count: int, timeout: float = 5.0) -> Batch:
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.items


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def listening() -> AsyncIterator[tuple[SyslogListener, Received]]:
    received = Received()
    listener = SyslogListener(received, host="127.0.0.1", udp_port=0, tcp_port=0, limits=LIMITS)
    async with listener:
        yield listener, received


async def tcp_send(listener: SyslogListener, payload: bytes) -> None:
    address = listener.tcp_address
    assert address is not None
    _, writer = await asyncio.open_connection(*address)
    writer.write(payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def udp_send(listener: SyslogListener, *datagrams: bytes) -> None:
    address = listener.udp_address
    assert address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, address)


def events(items: Batch) -> list[dict[str, object]]:
    return [i for i in items if isinstance(i, dict)]


async def test_udp_datagrams_become_events_with_peer_as_default_host(
    listening: tuple[SyslogListener, Received],
) -> None:
    listener, received = listening
    udp_send(listener, b"<13>Feb  5 17:32:18 sshd[1]: Failed password for root", b"<34>1 - web01 app - - - hi")
    items = await received.wait_for(2)
    assert [e["host"] for e in events(items)] == ["127.0.0.1", "web01"]
    assert received.batches[0][1][0] == "127.0.0.1"


async def test_udp_garbage_and_oversize_are_failures(listening: tuple[SyslogListener, Received]) -> None:
    listener, received = listening
    udp_send(listener, b"\x00\xffnot syslog", b"<13>" + b"A" * 5000)
    items = await received.wait_for(2)
    assert all(isinstance(i, ParseFailure) for i in items)
    assert {i.where for i in items if isinstance(i, ParseFailure)} == {"udp:127.0.0.1"}


async def test_tcp_newline_framing_keeps_order_in_batches(listening: tuple[SyslogListener, Received]) -> None:
    listener, received = listening
    lines = b"".join(b"<13>1 2026-01-01T00:00:00Z h app - - - message %d\n" % i for i in range(120))
    await tcp_send(listener, lines)
    items = await received.wait_for(120)
    assert [e["message"] for e in events(items)] == [f"message {i}" for i in range(120)]
    assert max(len(batch) for batch, _ in received.batches) <= LIMITS.batch_size


async def test_tcp_octet_counting_allows_newlines_inside(listening: tuple[SyslogListener, Received]) -> None:
    listener, received = listening
    one = b"<13>1 2026-01-01T00:00:00Z h app - - - first line\nsecond line"
    two = b"<13>Jan  1 00:00:00 h cron[2]: (root) CMD (run-parts)"
    await tcp_send(listener, b"%d %s%d %s" % (len(one), one, len(two), two))
    items = await received.wait_for(2)
    assert [e["message"] for e in events(items)] == ["first line\nsecond line", "(root) CMD (run-parts)"]


async def test_tcp_line_starting_with_digits_is_not_a_length(
    listening: tuple[SyslogListener, Received],
) -> None:
    listener, received = listening
    await tcp_send(listener, b"2023-08-17T16:55:35+02:00 mono endlessh[34]: ACCEPT\nlast line without newline")
    items = await received.wait_for(2)
    assert events(items)[0]["program"] == "endlessh"
    assert isinstance(items[1], ParseFailure) and items[1].raw == b"last line without newline"


async def test_tcp_oversized_length_closes_the_connection(listening: tuple[SyslogListener, Received]) -> None:
    listener, received = listening
    address = listener.tcp_address
    assert address is not None
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"999999999 <13>1 - - - - - - x")
    items = await received.wait_for(1)
    assert isinstance(items[0], ParseFailure) and "over the limit" in items[0].reason
    async with asyncio.timeout(2):
        assert await reader.read() == b""  # the server closed the connection
    writer.close()


async def test_tcp_line_over_the_limit_is_a_failure(listening: tuple[SyslogListener, Received]) -> None:
    listener, received = listening
    await tcp_send(listener, b"<13>" + b"A" * 10_000 + b"\n")
    items = await received.wait_for(1)
    assert isinstance(items[0], ParseFailure) and "longer than" in items[0].reason


async def test_connections_per_address_are_limited() -> None:
    received = Received()
    limits = ListenerLimits(max_connections_per_address=2, batch_delay=0.05)
    async with SyslogListener(received, host="127.0.0.1", udp_port=None, tcp_port=0, limits=limits) as listener:
        address = listener.tcp_address
        assert address is not None
        opened = [await asyncio.open_connection(*address) for _ in range(3)]
        await asyncio.sleep(0.1)
        assert listener.stats["connections_refused"] == 1
        for _, writer in opened:
            writer.close()


async def test_idle_connection_is_dropped() -> None:
    received = Received()
    limits = ListenerLimits(idle_timeout=0.1, batch_delay=0.05)
    async with SyslogListener(received, host="127.0.0.1", udp_port=None, tcp_port=0, limits=limits) as listener:
        address = listener.tcp_address
        assert address is not None
        reader, writer = await asyncio.open_connection(*address)
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # the server closed it
        writer.close()


async def test_async_callback_and_failing_callback() -> None:
    delivered: list[int] = []

    async def slow(batch: Batch, peer: Peer) -> None:
        await asyncio.sleep(0.01)
        delivered.append(len(batch))
        if len(delivered) == 1:
            raise RuntimeError("consumer bug")

    limits = ListenerLimits(batch_size=10, batch_delay=0.05)
    async with SyslogListener(slow, host="127.0.0.1", udp_port=None, tcp_port=0, limits=limits) as listener:
        await tcp_send(listener, b"<13>1 - h a - - - x\n" * 25)
        async with asyncio.timeout(3):
            while sum(delivered) < 25:
                await asyncio.sleep(0.01)
    assert delivered == [10, 10, 5]
    assert listener.stats["delivery_errors"] == 1


async def test_stop_delivers_what_was_received() -> None:
    received = Received()
    limits = ListenerLimits(batch_size=1000, batch_delay=60)
    listener = SyslogListener(received, host="127.0.0.1", udp_port=0, tcp_port=None, limits=limits)
    await listener.start()
    udp_send(listener, b"<13>1 - h a - - - x")
    await asyncio.sleep(0.1)
    assert received.items == []
    await listener.stop()
    assert len(received.items) == 1


async def test_udp_sheds_load_when_delivery_falls_behind() -> None:
    release = asyncio.Event()
    delivered: list[int] = []

    async def stuck(batch: Batch, peer: Peer) -> None:
        await release.wait()
        delivered.append(len(batch))

    limits = ListenerLimits(batch_size=1, max_pending=5, batch_delay=0.05)
    async with SyslogListener(stuck, host="127.0.0.1", udp_port=0, tcp_port=None, limits=limits) as listener:
        udp_send(listener, *[b"<13>1 - h a - - - x"] * 20)
        async with asyncio.timeout(3):
            while listener.stats["events"] + listener.stats["udp_dropped"] < 20:
                await asyncio.sleep(0.01)
        assert listener.stats["events"] == 5 and listener.stats["udp_dropped"] == 15
        release.set()
    assert sum(delivered) == 5


async def test_port_in_use_fails_cleanly(listening: tuple[SyslogListener, Received]) -> None:
    busy, _ = listening
    assert busy.tcp_address is not None
    other = SyslogListener(Received(), host="127.0.0.1", udp_port=0, tcp_port=busy.tcp_address[1])
    with pytest.raises(OSError):
        await other.start()
    assert other.udp_address is None and other.tcp_address is None  # the UDP socket it had bound is closed
