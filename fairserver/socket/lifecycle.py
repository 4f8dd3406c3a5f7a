"""Start-up, background ticks and graceful stop of the real-time layer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fairserver.http.kit import DB, SETTINGS, SOCKETS
from fairserver.rooms import attendance
from fairserver.rooms.context import Services
from fairserver.socket.server import SocketLayer
from fairserver.store.live import LiveState, MemoryLive

log = logging.getLogger(__name__)


async def _live_backend(app: web.Application) -> LiveState:
    url = app[SETTINGS].redis_url
    if url:
        from fairserver.store.live_redis import RedisLive

        return await RedisLive.connect(url)
    return MemoryLive()


async def _heartbeat(layer: SocketLayer, services: Services) -> None:
    """Keeps this worker's attendance intervals and presence fresh; closes dead workers'."""
    while True:
        await asyncio.sleep(attendance.HEARTBEAT_SECONDS)
        try:
            await attendance.heartbeat(services)
            for conn in list(layer.connections.values()):
                for hook in layer.heartbeat_hooks:
                    await hook(services, conn)
            await attendance.close_stale(
                services.db, services.clock(), "timeout", attendance.STALE_AFTER
            )
        except Exception:
            log.exception("heartbeat failed")


async def realtime(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: runs once the database is up."""
    layer = app[SOCKETS]
    live = await _live_backend(app)
    services = Services(db=app[DB], live=live, notifier=layer.notifier(), worker_id=layer.worker_id)
    layer.services = services
    if not app[SETTINGS].redis_url:
        closed = await attendance.close_after_crash(services.db, services.clock())
        if closed:
            log.info("closed %d attendance intervals left open by the last run", closed)
    ticker = asyncio.create_task(_heartbeat(layer, services))
    yield
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    await live.close()


async def tell_sockets(app: web.Application) -> None:
    """on_shutdown: before aiohttp waits for open handlers, close every socket, so
    attendance is flushed as "shutdown" and the process exits promptly."""
    await app[SOCKETS].close_all("shutdown")
