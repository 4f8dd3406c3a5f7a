"""Start-up, background ticks and graceful stop of the real-time layer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fairserver.auth import live_session_hashes
from fairserver.keys import DB, SERVICES, SETTINGS, SOCKETS
from fairserver.ops import metrics
from fairserver.rooms.accounts import sockets
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import attendance
from fairserver.rooms.media import recordings
from fairserver.rooms.wiring import build_services, live_backend
from fairserver.socket.booths.live import evict_closed_booths
from fairserver.socket.server import SocketLayer

log = logging.getLogger(__name__)


async def heartbeat(layer: SocketLayer, services: Services) -> None:
    """Keeps this worker's attendance intervals and presence fresh; closes dead workers'."""
    await attendance.heartbeat(services)
    for conn in list(layer.connections.values()):
        await sockets.keep_socket(services, conn.actor.user_id or 0, conn.id)
        for hook in layer.heartbeat_hooks:
            await hook(services, conn)
    await attendance.close_stale(services.db, services.clock(), "timeout", attendance.STALE_AFTER)
    await recordings.close_stale(services)  # a dead worker's recordings


# A logged-out, expired or disabled account loses its live sockets within this many seconds
# (docs/targets.md, security: a removed recruiter or banned student is out within 5 s).
SESSION_CHECK_SECONDS = 4.0


async def disconnect_revoked(layer: SocketLayer, services: Services) -> int:
    """One query for all of this worker's sockets; disconnects those whose session ended."""
    connections = list(layer.connections.values())
    standing = await live_session_hashes(services.db, {c.actor.session_hash for c in connections})
    revoked = [c for c in connections if c.actor.session_hash not in standing]
    for conn in revoked:
        log.info("session of user %s ended: disconnecting %s", conn.actor.user_id, conn.id)
        await layer.sio.disconnect(conn.sid)
    staying = [c for c in connections if c.actor.session_hash in standing]
    await evict_closed_booths(services, staying)
    return len(revoked)


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx, once the database is up: the one Services, built and later stopped."""
    layer, settings = app[SOCKETS], app[SETTINGS]
    live = await live_backend(settings)
    services = build_services(
        db=app[DB],
        live=live,
        notifier=layer.notifier(),
        worker_id=layer.worker_id,
        settings=settings,
    )
    app[SERVICES] = services
    layer.services = services
    yield
    await services.tasks.stop()  # every background task, whoever started it
    await live.close()


async def realtime(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx, once the services are up: crash recovery, media homes, the loops."""
    layer, services = app[SOCKETS], app[SERVICES]
    if not services.settings.redis_url:
        closed = await attendance.close_after_crash(services.db, services.clock())
        if closed:
            log.info("closed %d attendance intervals left open by the last run", closed)
        cut = await recordings.close_after_crash(services)
        if cut:
            log.info("closed %d recordings left running by the last run", cut)
    homes = services.homes
    homes.install(layer.domains.home_routes, layer.domains.home_rooms)
    await homes.start()
    services.slot_timers.start()
    services.tasks.every(
        attendance.HEARTBEAT_SECONDS, lambda: heartbeat(layer, services), name="heartbeat"
    )
    services.tasks.every(
        SESSION_CHECK_SECONDS, lambda: disconnect_revoked(layer, services), name="session check"
    )
    services.wrap_ups.start()
    services.tasks.every(metrics.SAMPLE_SECONDS, layer.sample_gauges, name="metrics")
    yield
    await recordings.stop_all(services)  # the files get their index before exit
    await homes.stop()


async def tell_sockets(app: web.Application) -> None:
    """on_shutdown: before aiohttp waits for open handlers, close every socket, so
    attendance is flushed as "shutdown" and the process exits promptly."""
    await app[SOCKETS].close_all("shutdown")
