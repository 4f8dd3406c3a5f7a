"""Room broadcasts without one task per recipient, and a cap for clients that stop reading.

python-socketio 5.18's `AsyncManager.emit` encodes a broadcast once, then creates one
asyncio task per recipient just to put the packet on that socket's send queue; the task
churn, not JSON, is most of its cost over a plain websocket broadcast (docs/targets.md). Here
the encoded packet goes straight onto each socket's queue with `put_nowait`, which is all
those tasks did (engine.io's own writer task per socket still does the sending).

A client whose queue passes MAX_QUEUED packets is not reading (or cannot keep up): it is
disconnected rather than allowed to grow the server's memory without bound. The cap covers
broadcasts (here) and every reply and direct event (CappedServer), so a client that keeps
sending while never reading cannot grow its queue with acks either.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import metadata
from typing import Any

import socketio
from engineio import exceptions as engineio_exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet

from fairserver.ops import metrics

log = logging.getLogger(__name__)

MAX_QUEUED = 2000


def broadcast(
    manager: Any, event: str, data: Any, namespace: str | None, room: Any, skip_sid: Any
) -> None:
    """Queues one encoded event for every participant of `room` (all sockets when None)."""
    namespace = namespace or "/"
    if namespace not in manager.rooms:
        return
    if isinstance(data, tuple):
        args = list(data)
    elif data is not None:
        args = [data]
    else:
        args = []
    encoded = manager.server.packet_class(
        packet.EVENT, namespace=namespace, data=[event, *args]
    ).encode()
    frames = [
        eio_packet.Packet(eio_packet.MESSAGE, p)
        for p in (encoded if isinstance(encoded, list) else [encoded])
    ]
    skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    sockets = manager.server.eio.sockets
    for sid, eio_sid in manager.get_participants(namespace, room):
        if sid in skip:
            continue
        socket = sockets.get(eio_sid)
        if socket is None or socket.closed:
            continue
        if socket.queue.qsize() >= MAX_QUEUED:
            _drop_slow_client(manager, sid, namespace)
            continue
        for frame in frames:
            socket.queue.put_nowait(frame)


class SlowClients:
    """One manager's clients being dropped for not reading, and the drops in flight."""

    def __init__(self) -> None:
        self.dropping: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()


def _drop_slow_client(manager: Any, sid: str, namespace: str) -> None:
    slow: SlowClients = manager.slow_clients
    if sid in slow.dropping:
        return
    slow.dropping.add(sid)
    metrics.SLOW_CLIENTS.inc()
    log.warning("disconnecting %s: %d packets queued and not read", sid, MAX_QUEUED)

    async def drop() -> None:
        try:
            await manager.server.disconnect(sid, namespace=namespace)
        finally:
            slow.dropping.discard(sid)

    task = asyncio.get_running_loop().create_task(drop())
    slow.tasks.add(task)
    task.add_done_callback(slow.tasks.discard)


# The packets a client is sent in answer to its own traffic or as an event; connect and
# disconnect packets always go, so that dropping a slow client can still say goodbye.
_CAPPED = (packet.EVENT, packet.ACK, packet.BINARY_EVENT, packet.BINARY_ACK)


class CappedServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server, with the slow-client cap on replies (acks) too."""

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        if pkt.packet_type in _CAPPED:
            socket = self.eio.sockets.get(eio_sid)
            if socket is not None and socket.queue.qsize() >= MAX_QUEUED:
                namespace = pkt.namespace or "/"
                sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
                if sid is not None:
                    _drop_slow_client(self.manager, sid, namespace)
                return
        await super()._send_packet(eio_sid, pkt)


class FanoutManager(socketio.AsyncManager):  # type: ignore[misc]
    """The in-process manager, with direct fan-out for broadcasts without callbacks."""

    def __init__(self) -> None:
        super().__init__()
        self.slow_clients = SlowClients()

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        ignore_queue: bool = False,  # only meaningful for pub/sub managers
        **kwargs: Any,
    ) -> None:
        if callback is not None or kwargs:
            await super().emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        broadcast(self, event, data, namespace, to or room, skip_sid)


# engine.io's per-socket writer waits for each packet with asyncio.wait_for, which in
# Python 3.11 wraps the wait in a new Task (and a timer) per delivery. asyncio.timeout
# gives the same time-out without the Task. The replacement keeps the original's
# behaviour and is only installed over the engine.io release it was written against;
# tests/test_fanout.py fails loudly when that release changes.
ENGINEIO_VERSION = "4.15.1"


async def _poll_without_wait_for(self: Any) -> list[Any]:
    """engineio.async_socket.AsyncSocket.poll, without a Task per packet."""
    try:
        if self.queue.empty():
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await self.queue.get()
        else:
            first = self.queue.get_nowait()
        self.queue.task_done()
    except (TimeoutError, asyncio.CancelledError):
        raise engineio_exceptions.QueueEmpty() from None
    if first is None:
        return []
    packets = [first]
    while True:
        try:
            pkt = self.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        self.queue.task_done()
        if pkt is None:
            self.queue.put_nowait(None)
            break
        packets.append(pkt)
    return packets


def install_fast_poll() -> bool:
    if metadata.version("python-engineio") != ENGINEIO_VERSION:
        log.warning("python-engineio is not %s: keeping its own writer loop", ENGINEIO_VERSION)
        return False
    AsyncSocket.poll = _poll_without_wait_for
    return True
