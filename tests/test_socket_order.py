"""One client's events are handled in the order it sent them (issue 11, finding 6), and a
slow handler on one socket does not hold up another socket."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SERVICES
from fairserver.store import tables as t
from tests.factories import World
from tests.sockets import connected


async def _burst(sio: Any, frames: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Sends every frame at once, without waiting for any ack, and collects the acks."""
    loop = asyncio.get_running_loop()
    acks: list[asyncio.Future[Any]] = [loop.create_future() for _ in frames]
    for (event, data), ack in zip(frames, acks, strict=True):
        await sio.emit(event, data, callback=lambda *a, f=ack: f.set_result(a[0] if a else None))
    return list(await asyncio.wait_for(asyncio.gather(*acks), 20))


async def test_chat_frames_sent_in_a_burst_are_stored_in_order(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_campus
    async with connected(client, world, "student_a") as student:
        # fair.join then booth.join back to back: the second must see the first.
        joined = await _burst(
            student.sio, [("fair.join", {"fair": "campus"}), ("booth.join", {"booth_id": booth})]
        )
        assert [reply["ok"] for reply in joined] == [True, True], joined
        frames = [
            ("booth.chat", {"booth_id": booth, "body": f"m{n}", "client_id": f"c{n}"})
            for n in range(8)
        ]
        replies = await _burst(student.sio, frames)
        assert all(reply["ok"] for reply in replies), replies
    async with client.app[DB].connect() as conn:
        bodies = (
            await conn.execute(sa.select(t.chat_messages.c.body).order_by(t.chat_messages.c.id))
        ).scalars()
        assert list(bodies) == [f"m{n}" for n in range(8)]


async def test_a_slow_handler_does_not_hold_up_another_socket(
    client: TestClient[Any, Any], world: World
) -> None:
    """While one socket's handler is stuck, another socket's events are answered."""
    gate = asyncio.Event()
    services = client.app[SERVICES]
    original = services.live.presence

    async def stuck(room: str) -> dict[str, str]:
        if room.startswith("fair:") and not gate.is_set():
            await gate.wait()
        return await original(room)

    async with (
        connected(client, world, "student_a") as slow,
        connected(client, world, "student_b") as fast,
    ):
        services.live.presence = stuck
        try:
            pending = asyncio.ensure_future(slow.call("fair.join", {"fair": "campus"}))
            await asyncio.sleep(0.2)
            # student_b is not allowed in the campus fair: its not_found comes back at once.
            reply = await fast.call("booth.join", {"booth_id": world.booth_a_campus}, timeout=5)
            assert reply["ok"] is False
            assert not pending.done()
        finally:
            gate.set()
            services.live.presence = original
        await asyncio.wait_for(pending, 10)


async def test_payload_types_are_strict(client: TestClient[Any, Any], world: World) -> None:
    """`booth_id: true` was read as booth 1 (issue 11, finding 8): every wrong JSON type is
    request.invalid, naming the field."""
    async with connected(client, world, "student_a") as student:
        assert (await student.call("fair.join", {"fair": "campus"}))["ok"]
        for wrong in (True, "1", 1.0, [1], None):
            reply = await student.call("booth.join", {"booth_id": wrong})
            assert reply["error"]["code"] == "request.invalid", (wrong, reply)
            assert "booth_id" in reply["error"]["fields"]
        assert (await student.call("booth.join", {"booth_id": world.booth_a_campus}))["ok"]
