"""Syslog listener throughput: messages per second over real TCP and UDP sockets on 127.0.0.1.

Run: .venv/bin/python bench/bench_syslog_listener.py [messages]
The sender runs in the same process and event loop, so the figure includes its cost too (a lower bound).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from mamori.ingest.syslog_listener import Batch, ListenerLimits, Peer, SyslogListener

LINE = b"<38>Feb  5 17:32:18 web01 sshd[4242]: Failed password for root from 203.0.113.7 port 52113 ssh2"


async def tcp(count: int) -> None:
    received = 0

    def on_batch(batch: Batch, peer: Peer) -> None:
        nonlocal received
        received += len(batch)

    async with SyslogListener(on_batch, host="127.0.0.1", udp_port=None, tcp_port=0) as listener:
        address = listener.tcp_address
        assert address is not None
        start = time.perf_counter()
        _, writer = await asyncio.open_connection(*address)
        chunk = b"".join(b"%d %s" % (len(LINE), LINE) for _ in range(1000))  # RFC 6587 octet counting
        for _ in range(count // 1000):
            writer.write(chunk)
            await writer.drain()
        writer.close()
        while received < count // 1000 * 1000:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
    print(f"tcp (octet counting): {received:,} messages in {elapsed:.2f}s = {received / elapsed:,.0f}/s")


_SENDER = """
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = sys.stdin.buffer.read()
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for i in range(count):
        sock.sendto(line, (host, port))
        if i % 100 == 0:
            time.sleep(0.0005)  # stay under what one core can parse, or the kernel drops the excess
"""


async def udp(count: int) -> None:
    received = 0

    def on_batch(batch: Batch, peer: Peer) -> None:
        nonlocal received
        received += len(batch)

    limits = ListenerLimits(max_pending=10**9)
    listener = SyslogListener(on_batch, host="127.0.0.1", udp_port=0, tcp_port=None, limits=limits)
    async with listener:
        address = listener.udp_address
        assert address is not None
        start = time.perf_counter()
        sender = await asyncio.create_subprocess_exec(  # a separate process, as a real sender would be
            sys.executable,
            "-c",
            _SENDER,
            address[0],
            str(address[1]),
            str(count),
            stdin=asyncio.subprocess.PIPE,
        )
        await sender.communicate(LINE)
        await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - start - 0.2
    print(f"udp: {received:,} of {count:,} datagrams parsed in {elapsed:.2f}s = {received / elapsed:,.0f}/s")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work slows every figure)")
    asyncio.run(tcp(count))
    asyncio.run(udp(count // 2))


if __name__ == "__main__":
    main()
