"""Syslog receivers: asyncio UDP and TCP servers handing parsed messages to a callback in small batches.

Every message becomes an event or a :class:`ParseFailure` (nothing is silently dropped, except UDP datagrams
when delivery falls behind, which are counted). The callback ``on_batch(items, peer)`` may be a plain function
or a coroutine function; batches of one sender are delivered in order, after ``batch_size`` messages or
``batch_delay`` seconds, whichever comes first. A TCP reader waits for its full batch to be delivered before
reading on, so a slow consumer slows the sender down instead of filling memory.

Limits (:class:`ListenerLimits`) hold for any peer: message size, idle and per-message time, connections in
total and per sender address.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mamori.core.messages import Event
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.syslog import parse_frame, utc_naive
from mamori.ingest.syslog_framing import FrameError, Framer

log = logging.getLogger(__name__)

Peer = tuple[str, int]
Batch = list[Event | ParseFailure]
OnBatch = Callable[[Batch, Peer], Awaitable[None] | None]
_Key = tuple[str, Peer]  # ("udp" | "tcp", peer): one batch stream per sender and transport
READ_SIZE = 64 * 1024
UDP_MAX = 65_535
UDP_BURST = 256  # datagrams per wake-up, so that TCP connections still get their turn


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    max_message: int = 64 * 1024  # bytes; RFC 5425 asks receivers for at least 2048, rsyslog sends up to 8k
    batch_size: int = 200
    batch_delay: float = 0.25  # seconds a message may wait for its batch to fill
    idle_timeout: float = 300.0  # seconds a TCP connection may stay silent, and may take for one message
    max_connections: int = 1024
    max_connections_per_address: int = 64
    max_pending: int = 50_000  # messages accepted but not yet delivered; beyond it UDP datagrams are dropped


class SyslogListener:
    """UDP and/or TCP syslog on ``host``; port 0 picks a free port (see the ``*_address`` properties).

    ``stats`` counts ``events``, ``failures``, ``udp_dropped``, ``connections_refused`` and
    ``delivery_errors`` (for the metrics endpoint).
    """

    def __init__(
        self,
        on_batch: OnBatch,
        *,
        host: str = "0.0.0.0",  # noqa: S104 - a syslog receiver listens for other machines by design
        udp_port: int | None = 514,
        tcp_port: int | None = 514,
        limits: ListenerLimits | None = None,
    ) -> None:
        self._on_batch = on_batch
        self._host = host
        self._ports = (udp_port, tcp_port)
        self.limits = limits or ListenerLimits()
        self.stats: Counter[str] = Counter()
        self._batches: dict[_Key, tuple[float, Batch]] = {}
        self._chains: dict[_Key, asyncio.Task[None]] = {}
        self._pending = 0
        self._connections: Counter[str] = Counter()
        self._udp: socket.socket | None = None
        self._tcp: asyncio.Server | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    # ---- life cycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind and listen; raises OSError (port in use, no permission) with nothing left open."""
        loop = asyncio.get_running_loop()
        udp_port, tcp_port = self._ports
        try:
            if udp_port is not None:
                self._udp = _udp_socket(self._host, udp_port)
                loop.add_reader(self._udp.fileno(), self._udp_ready)
            if tcp_port is not None:
                self._tcp = await asyncio.start_server(self._serve, self._host, tcp_port)
        except OSError:
            await self.stop()
            raise
        self._flusher = asyncio.create_task(self._flush_periodically())

    async def stop(self) -> None:
        """Stop listening, close connections, and deliver everything already received."""
        if self._udp is not None:
            asyncio.get_running_loop().remove_reader(self._udp.fileno())
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in self._writers:
                writer.close()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._tcp.wait_closed()
            self._tcp = None
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for key in list(self._batches):
            self._send(key)
        await asyncio.gather(*self._chains.values(), return_exceptions=True)

    async def __aenter__(self) -> SyslogListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def udp_address(self) -> Peer | None:
        return self._udp.getsockname()[:2] if self._udp is not None else None

    @property
    def tcp_address(self) -> Peer | None:
        return self._tcp.sockets[0].getsockname()[:2] if self._tcp is not None else None

    # ---- batching -----------------------------------------------------------------------------------
    def _add(self, key: _Key, item: Event | ParseFailure) -> asyncio.Task[None] | None:
        """Queue one message; returns the delivery task when this message filled the batch."""
        self.stats["failures" if isinstance(item, ParseFailure) else "events"] += 1
        self._pending += 1
        pending = self._batches.get(key)
        if pending is None:
            pending = self._batches[key] = (asyncio.get_running_loop().time(), [])
        batch = pending[1]
        batch.append(item)
        return self._send(key) if len(batch) >= self.limits.batch_size else None

    def _send(self, key: _Key) -> asyncio.Task[None]:
        """Deliver the batch of ``key`` after the previous one of the same sender (order is kept)."""
        _, batch = self._batches.pop(key)
        task = asyncio.create_task(self._deliver(self._chains.get(key), batch, key[1]))
        self._chains[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: _Key, done: asyncio.Task[None]) -> None:
        if self._chains.get(key) is done:
            del self._chains[key]

    async def _deliver(self, previous: asyncio.Task[None] | None, batch: Batch, peer: Peer) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            result = self._on_batch(batch, peer)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the consumer's failure must not stop the receiver
            self.stats["delivery_errors"] += 1
            log.exception("syslog on_batch failed for %d messages from %s", len(batch), peer[0])
        finally:
            self._pending -= len(batch)

    async def _flush_periodically(self) -> None:
        delay = self.limits.batch_delay
        while True:
            await asyncio.sleep(delay / 2)
            now = asyncio.get_running_loop().time()
            for key in [k for k, (started, _) in self._batches.items() if now - started >= delay]:
                self._send(key)

    # ---- UDP ----------------------------------------------------------------------------------------
    def _udp_ready(self) -> None:
        """Read what the socket holds, up to a burst (asyncio's datagram transport reads one per wake-up,
        which loses datagrams to a full socket buffer long before the parser is the limit)."""
        assert self._udp is not None
        for _ in range(UDP_BURST):
            try:
                data, address = self._udp.recvfrom(UDP_MAX)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error from an earlier send on this socket; nothing to read
                return
            self.datagram(data, (address[0], address[1]))

    def datagram(self, data: bytes, peer: Peer) -> None:
        if self._pending >= self.limits.max_pending:
            self.stats["udp_dropped"] += 1  # UDP has no back-pressure: shed load, and count it
            return
        if len(data) > self.limits.max_message:
            item: Event | ParseFailure = ParseFailure.of(
                f"message longer than {self.limits.max_message} bytes", f"udp:{peer[0]}", data
            )
        else:
            item = parse_frame(data, where=f"udp:{peer[0]}", received=_now(), host=peer[0])
        self._add(("udp", peer), item)

    # ---- TCP ----------------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer: Peer = writer.get_extra_info("peername")[:2]
        if not self._admit(peer[0]):
            self.stats["connections_refused"] += 1
            writer.close()
            return
        handler = asyncio.current_task()
        assert handler is not None
        self._writers.add(writer)
        self._handlers.add(handler)
        try:
            await self._read_messages(reader, peer)
        finally:
            self._writers.discard(writer)
            self._handlers.discard(handler)
            self._connections[peer[0]] -= 1
            if self._connections[peer[0]] <= 0:
                del self._connections[peer[0]]
            writer.close()
            if ("tcp", peer) in self._batches:
                self._send(("tcp", peer))

    def _admit(self, address: str) -> bool:
        limits = self.limits
        if self._connections.total() >= limits.max_connections:
            return False
        if self._connections[address] >= limits.max_connections_per_address:
            return False
        self._connections[address] += 1
        return True

    async def _read_messages(self, reader: asyncio.StreamReader, peer: Peer) -> None:
        key: _Key = ("tcp", peer)
        framer = Framer(self.limits.max_message)
        loop = asyncio.get_running_loop()
        progress = loop.time()  # when the last message completed: a trickling peer is dropped, too
        while True:
            try:
                async with asyncio.timeout(self.limits.idle_timeout):
                    data = await reader.read(READ_SIZE)
                frames = self._frames(framer, data)
            except FrameError as exc:
                self._add(key, ParseFailure.of(exc.reason, f"tcp:{peer[0]}", exc.head))
                return
            except (TimeoutError, ConnectionError, OSError):
                return
            if frames:
                progress = loop.time()
            elif framer.pending and loop.time() - progress > self.limits.idle_timeout:
                self._add(
                    key,
                    ParseFailure.of("peer too slow: message not completed in time", f"tcp:{peer[0]}", b""),
                )
                return
            full = self._parse_frames(key, frames)
            if full is not None:
                await full  # back-pressure: read on once this batch is delivered
            if not data:
                return

    @staticmethod
    def _frames(framer: Framer, data: bytes) -> list[bytes]:
        if data:
            return framer.feed(data)
        last = framer.end()  # end of stream
        return [last] if last is not None else []

    def _parse_frames(self, key: _Key, frames: list[bytes]) -> asyncio.Task[None] | None:
        """Parse and queue ``frames``; returns the delivery task of the last batch they filled, if any."""
        full = None
        where, received = f"tcp:{key[1][0]}", _now()
        for frame in frames:
            if frame.strip():
                item = parse_frame(frame, where=where, received=received, host=key[1][0])
                full = self._add(key, item) or full
        return full


def _udp_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        with contextlib.suppress(OSError):  # a larger buffer absorbs bursts; the kernel may cap it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _now() -> datetime:
    return utc_naive(datetime.now(UTC))
