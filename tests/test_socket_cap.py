"""One person's sockets are capped (issue 11: 300 sockets in 1.4 s were taken), across
workers through the live state, and a closed socket frees its place."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from fairserver.rooms.accounts import sockets
from tests.factories import World
from tests.sockets import CONNECT_WAIT, Client, connected, session_cookie


async def refusal(client: TestClient[Any, Any], world: World, who: str) -> Any:
    """Connects as `who` expecting a refusal; returns what the server said."""
    url = str(client.make_url("")).rstrip("/")
    sock = Client()
    said: list[Any] = []
    sock.sio.on("connect_error", said.append)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sock.sio.connect(
                url,
                headers={"Cookie": await session_cookie(url, world, who)},
                transports=["websocket"],
                wait_timeout=CONNECT_WAIT,
            )
    finally:
        await sock.sio.disconnect()
        await sock.http.close()
    return said[0] if said else None


async def test_a_user_gets_only_so_many_sockets(
    client: TestClient[Any, Any], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sockets, "MAX_SOCKETS_PER_USER", 3)
    async with AsyncExitStack() as stack:
        held = [
            await stack.enter_async_context(connected(client, world, "student_a")) for _ in range(3)
        ]
        assert await refusal(client, world, "student_a") == {"message": "connection.too_many"}
        # Someone else is not affected.
        async with connected(client, world, "student_b") as other:
            assert (await other.call("fair.join", {"fair": "open"}))["ok"]
        # Closing one frees its place.
        await held[0].sio.disconnect()
        async with connected(client, world, "student_a") as again:
            assert (await again.call("fair.join", {"fair": "campus"}))["ok"]


async def test_connecting_too_fast_is_refused(
    client: TestClient[Any, Any], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sockets, "CONNECTS", (2, 0.01))
    for _ in range(2):
        async with connected(client, world, "student_a"):
            pass
    assert await refusal(client, world, "student_a") == {"message": "connection.rate_limited"}
