"""A minimal socket.io (engine.io v4, websocket) client for load generation.

python-socketio's own client costs several tasks per connection; thousands of
them would measure the load generator, not the server. This speaks just enough
of the protocol: open, namespace connect, ping/pong, events and acks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any, float], None]


class EioClient:
    def __init__(self, http: aiohttp.ClientSession, on_event: EventHandler) -> None:
        self._http = http
        self._on_event = on_event
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.closed_reason: str | None = None

    async def connect(self, base_url: str, cookie: str, timeout: float = 30) -> None:
        url = base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self._ws = await self._http.ws_connect(
            url, headers={"Cookie": cookie}, heartbeat=None, max_msg_size=0
        )
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def _read(self) -> None:
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data: str = message.data
            kind = data[:1]
            if kind == "2":
                await self._ws.send_str("3")
            elif kind == "0":
                await self._ws.send_str("40")
            elif data.startswith("40"):
                self.connected.set()
            elif data.startswith("42"):
                event, payload = json.loads(data[2:])[:2]
                self._on_event(event, payload, loop.time())
            elif data.startswith("43"):
                bracket = data.index("[")
                future = self._acks.pop(int(data[2:bracket]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(data[bracket:])[0])
            elif data.startswith("44"):
                self.closed_reason = data[2:]
                self.connected.set()
        self.closed_reason = self.closed_reason or "closed"

    async def call(self, event: str, data: Any, timeout: float = 30) -> Any:
        assert self._ws is not None
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self._ws.send_str(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":")))
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
