"""Fan-out measurement shared by the baseline and fairserver runs.

A `Tally` collects, for every broadcast message id, when each receiver got it; the
sender stamps its own clock into the message, and everything runs in one process,
so latencies need no clock synchronisation.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from bench.common import ROOT, cpu_seconds, median, percentile, rss_bytes


@dataclass
class Tally:
    sent: dict[int, float] = field(default_factory=dict)  # message id -> send time
    received: int = 0
    latencies: list[float] = field(default_factory=list)

    def on_message(self, message_id: int, arrived: float) -> None:
        sent = self.sent.get(message_id)
        if sent is not None:
            self.received += 1
            self.latencies.append(arrived - sent)


@dataclass
class FanoutResult:
    label: str
    clients: int
    messages: int
    deliveries_expected: int
    deliveries: int
    seconds: float
    server_cpu: float
    rss_per_client: float
    latencies: list[float]

    @property
    def lost(self) -> int:
        return self.deliveries_expected - self.deliveries

    @property
    def per_cpu_second(self) -> float:
        return self.deliveries / self.server_cpu if self.server_cpu else float("nan")

    def row(self) -> str:
        ms = [v * 1000 for v in self.latencies]
        return (
            f"| {self.label} | {self.clients:,} | {self.messages:,} | {self.deliveries:,} | {self.lost:,} | "
            f"{median(ms):.1f} | {percentile(ms, 0.99):.1f} | {self.server_cpu:.2f} | "
            f"{self.per_cpu_second:,.0f} | {self.rss_per_client / 1024:.1f} |"
        )


HEADER = (
    "| run | clients | messages | deliveries | lost | p50 ms | p99 ms | server CPU s | "
    "deliveries per CPU-second | KB per client |\n|---|---|---|---|---|---|---|---|---|---|"
)


async def send_paced(count: int, per_second: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Sends `count` messages at a steady rate (bounded: count / per_second seconds)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(count):
        delay = start + n / per_second - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(n)


async def drain(tally: Tally, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while tally.received < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def run_baseline(clients: int, messages: int, per_second: float, port: int) -> FanoutResult:
    """A plain aiohttp websocket broadcast of the same traffic, in its own process."""
    server = subprocess.Popen([sys.executable, "-m", "bench.raw_ws_server", str(port)], cwd=ROOT)
    tally = Tally()
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            url = f"ws://127.0.0.1:{port}/ws"
            for _ in range(100):
                try:
                    probe = await http.ws_connect(url)
                    await probe.close()
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            rss_before = rss_bytes(server.pid)
            sockets = []
            for start in range(0, clients, 200):
                sockets += await asyncio.gather(
                    *(http.ws_connect(url) for _ in range(start, min(clients, start + 200)))
                )
            rss_per_client = (rss_bytes(server.pid) - rss_before) / clients
            readers = [asyncio.create_task(_read_raw(ws, tally)) for ws in sockets]
            sender = await http.ws_connect(url)
            cpu_before = cpu_seconds(server.pid)
            started = loop.time()

            async def send(n: int) -> None:
                tally.sent[n] = loop.time()
                await sender.send_str(f'{{"id":{n},"body":"{"x" * 100}"}}')

            await send_paced(messages, per_second, send)
            await drain(tally, messages * clients, timeout=30)
            elapsed = loop.time() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            for ws in [*sockets, sender]:
                await ws.close()
            await asyncio.gather(*readers, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return FanoutResult(
        "aiohttp websocket broadcast (baseline)",
        clients,
        messages,
        messages * clients,
        tally.received,
        elapsed,
        cpu,
        rss_per_client,
        tally.latencies,
    )


async def _read_raw(ws: aiohttp.ClientWebSocketResponse, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            data = message.data
            tally.on_message(int(data[6 : data.index(",")]), loop.time())
