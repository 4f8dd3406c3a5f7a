"""Start-up, background ticks and graceful stop of the real-time layer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fairserver.auth import live_session_hashes
from fairserver.http.kit import DB, SETTINGS, SOCKETS
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import attendance
from fairserver.rooms.media import recordings
from fairserver.rooms.media.homes import homes_of
from fairserver.socket.server import SocketLayer
from fairserver.store.live import LiveState, MemoryLive
from fairserver.tasks import cancelling, stop_tasks

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
            await recordings.close_stale(services)  # a dead worker's recordings
        except Exception:
            if cancelling():
                raise
            log.exception("heartbeat failed")


# A logged-out, expired or disabled account loses its live sockets within this many seconds
# (docs/targets.md, security: a removed recruiter or banned student is out within 5 s).
SESSION_CHECK_SECONDS = 4.0


async def _revocations(layer: SocketLayer, services: Services) -> None:
    while True:
        await asyncio.sleep(SESSION_CHECK_SECONDS)
        try:
            await disconnect_revoked(layer, services)
        except Exception:
            if cancelling():
                raise
            log.exception("session check failed")


async def disconnect_revoked(layer: SocketLayer, services: Services) -> int:
    """One query for all of this worker's sockets; disconnects those whose session ended."""
    connections = list(layer.connections.values())
    standing = await live_session_hashes(services.db, {c.actor.session_hash for c in connections})
    revoked = [c for c in connections if c.actor.session_hash not in standing]
    for conn in revoked:
        log.info("session of user %s ended: disconnecting %s", conn.actor.user_id, conn.id)
        await layer.sio.disconnect(conn.sid)
    return len(revoked)


async def realtime(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: runs once the database is up."""
    layer = app[SOCKETS]
    live = await _live_backend(app)
    services = Services(
        db=app[DB],
        live=live,
        notifier=layer.notifier(),
        worker_id=layer.worker_id,
        settings=app[SETTINGS],
    )
    layer.services = services
    if not app[SETTINGS].redis_url:
        closed = await attendance.close_after_crash(services.db, services.clock())
        if closed:
            log.info("closed %d attendance intervals left open by the last run", closed)
        cut = await recordings.close_after_crash(services)
        if cut:
            log.info("closed %d recordings left running by the last run", cut)
    homes = homes_of(services)
    homes.install(layer.domains.home_calls, layer.domains.home_rooms)
    await homes.start()
    tickers = [
        asyncio.create_task(_heartbeat(layer, services)),
        asyncio.create_task(_revocations(layer, services)),
    ]
    yield
    await recordings.stop_all(services)  # the files get their index before exit
    await homes.stop()
    await stop_tasks(tickers)
    await live.close()


async def tell_sockets(app: web.Application) -> None:
    """on_shutdown: before aiohttp waits for open handlers, close every socket, so
    attendance is flushed as "shutdown" and the process exits promptly."""
    await app[SOCKETS].close_all("shutdown")
