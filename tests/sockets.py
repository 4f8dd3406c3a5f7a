"""Real socket.io clients against a real running server, logged in as world users."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import socketio
from aiohttp.test_utils import TestClient

from tests.factories import PASSWORD, World

# python-socketio waits 1 s for the namespace by default: too little on a busy CI machine.
CONNECT_WAIT = 10


class Client:
    """A python-socketio client that records what it receives."""

    def __init__(self) -> None:
        # Our own HTTP session, closed by us even when the server refuses the connection.
        self.http = aiohttp.ClientSession()
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.received: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Condition()

        async def record(event: str, data: Any = None) -> None:
            async with self._arrived:
                self.received[event].append(data)
                self._arrived.notify_all()

        self.sio.on("*", record)

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> dict[str, Any]:
        reply = await self.sio.call(event, data, timeout=timeout)
        assert isinstance(reply, dict), reply
        return reply

    async def wait_for(
        self, event: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 5
    ) -> Any:
        async def found() -> Any:
            async with self._arrived:
                while True:
                    for item in self.received[event]:
                        if predicate(item):
                            return item
                    await self._arrived.wait()

        return await asyncio.wait_for(found(), timeout)


async def session_cookie(base_url: str, world: World, who: str) -> str:
    """Logs `who` in over HTTP, in a session of its own, and returns the cookie header."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base_url}/login") as page:
            match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert match
        form = {"email": world.emails[who], "password": PASSWORD, "csrf_token": match.group(1)}
        async with http.post(f"{base_url}/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            token = response.cookies["fs_session"].value
    return f"fs_session={token}"


@asynccontextmanager
async def connected(
    client: TestClient[Any, Any], world: World, who: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    """A socket for `who`, with a session of its own so several users can coexist."""
    url = str(client.make_url("")).rstrip("/")
    cookie = await session_cookie(url, world, who)
    sock = Client()
    extra = dict(headers or {})
    if "Cookie" in extra:  # more cookies beside the session's
        cookie = f"{cookie}; {extra.pop('Cookie')}"
    try:
        await sock.sio.connect(
            url,
            headers={"Cookie": cookie, **extra},
            transports=["websocket"],
            wait_timeout=CONNECT_WAIT,
        )
        yield sock
    finally:
        await sock.sio.disconnect()
        await sock.http.close()
