"""The direct fan-out path and its engine.io adapter."""

from __future__ import annotations

import asyncio
import inspect
from importlib import metadata
from typing import Any

from aiohttp.test_utils import TestClient
from engineio.async_socket import AsyncSocket
from socketio import packet as socketio_packet

from fairserver.keys import SOCKETS
from fairserver.socket import fanout
from tests.factories import World
from tests.sockets import connected


def test_engineio_is_the_release_the_adapter_was_written_for() -> None:
    # If this fails, python-engineio changed: compare its AsyncSocket.poll with
    # fanout._poll_without_wait_for, update the adapter, then ENGINEIO_VERSION.
    assert metadata.version("python-engineio") == fanout.ENGINEIO_VERSION
    assert fanout.install_fast_poll()
    assert AsyncSocket.poll is fanout._poll_without_wait_for


def test_adapter_covers_the_same_branches_as_the_original() -> None:
    source = inspect.getsource(fanout._poll_without_wait_for)
    for needed in (
        "QueueEmpty",
        "task_done",
        "put_nowait(None)",
        "ping_interval + self.server.ping_timeout",
    ):
        assert needed in source


async def test_broadcast_reaches_every_socket_in_the_room_once(
    client: TestClient[Any, Any], world: World
) -> None:
    async with (
        connected(client, world, "student_a") as a,
        connected(client, world, "recruiter_a") as b,
        connected(client, world, "organiser_a") as organiser,
    ):
        for sock in (a, b, organiser):
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        for n in range(3):
            assert (await organiser.call("fair.announce", {"body": f"n{n}", "client_id": f"f{n}"}))[
                "ok"
            ]
        for sock in (a, b, organiser):
            await sock.wait_for("fair.announcement", lambda e: e["body"] == "n2")
            assert [e["body"] for e in sock.received["fair.announcement"]] == ["n0", "n1", "n2"]


async def test_a_client_that_stops_reading_is_disconnected(
    client: TestClient[Any, Any], world: World
) -> None:
    layer = client.app[SOCKETS]
    async with (
        connected(client, world, "student_a") as slow,
        connected(client, world, "organiser_a") as organiser,
    ):
        assert (await slow.call("fair.join", {"fair": "campus"}))["ok"]
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        # Stand-in for a client that stopped reading: its queue is full and nothing drains it
        # between these synchronous puts and the broadcast.
        slow_conn = next(
            c for c in layer.connections.values() if c.actor.display_name == "student_a"
        )
        eio_sid = layer.sio.manager.eio_sid_from_sid(slow_conn.sid, "/")
        socket = layer.sio.eio.sockets[eio_sid]
        for _ in range(fanout.MAX_QUEUED):
            socket.queue.put_nowait(_Noop())
        fanout.broadcast(
            layer.sio.manager, "fair.test", {"x": 1}, "/", f"fair:{world.campus_fair}", None
        )
        for _ in range(100):
            if slow_conn.sid not in layer.connections:
                break
            await asyncio.sleep(0.05)
        assert slow_conn.sid not in layer.connections
        # Everyone else is still served.
        assert (await organiser.call("fair.leave"))["ok"]


class _Noop:
    """A queued item the writer would send; never reached in this test."""

    def encode(self, *args: Any, **kwargs: Any) -> str:
        return "6"


async def test_a_client_that_keeps_sending_but_never_reads_is_disconnected_by_its_replies(
    client: TestClient[Any, Any], world: World
) -> None:
    """Issue 11: the cap covered broadcasts, but an ack went onto a full queue regardless."""
    layer = client.app[SOCKETS]
    async with (
        connected(client, world, "student_a"),
        connected(client, world, "organiser_a") as organiser,
    ):
        slow_conn = next(
            c for c in layer.connections.values() if c.actor.display_name == "student_a"
        )
        eio_sid = layer.sio.manager.eio_sid_from_sid(slow_conn.sid, "/")
        socket = layer.sio.eio.sockets[eio_sid]
        for _ in range(fanout.MAX_QUEUED):
            socket.queue.put_nowait(_Noop())
        # The reply to a request (an ack) would be packet MAX_QUEUED + 1. It is sent the way
        # python-socketio sends every ack, with nothing draining the queue in between.
        ack = socketio_packet.Packet(socketio_packet.ACK, namespace="/", id=1, data=[{"ok": True}])
        await layer.sio._send_packet(eio_sid, ack)
        assert socket.queue.qsize() == fanout.MAX_QUEUED  # the ack was not queued
        for _ in range(100):
            if slow_conn.sid not in layer.connections:
                break
            await asyncio.sleep(0.05)
        assert slow_conn.sid not in layer.connections
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
