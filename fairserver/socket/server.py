"""The socket.io server: authentication, the Origin check, and event dispatch."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import socketio

from fairserver.auth import SESSION_COOKIE, resolve_session
from fairserver.i18n import LANG_COOKIE, Catalogues
from fairserver.ops import metrics
from fairserver.proxies import own_origins
from fairserver.rooms.accounts import sockets
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.notify import Outbound, user_room
from fairserver.settings import Settings
from fairserver.socket.fanout import CappedServer, FanoutManager, install_fast_poll
from fairserver.socket.kit import Connection, Domains, error

log = logging.getLogger(__name__)

# Frames above this are refused by engine.io before any handler sees them.
MAX_FRAME = 64 * 1024


def origin_checker(settings: Settings) -> Callable[[str | None, dict[str, Any]], bool]:
    """Same origin or configured origins. X-Forwarded-* count only from trusted proxies:
    engine.io's own default believes any X-Forwarded-Host, which a client can forge."""

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None:
            return True  # not a browser: browsers always send Origin on websockets
        request = environ.get("aiohttp.request")
        peer = request.remote if request is not None else environ.get("REMOTE_ADDR")
        headers = {
            "X-Forwarded-Host": environ.get("HTTP_X_FORWARDED_HOST", ""),
            "X-Forwarded-Proto": environ.get("HTTP_X_FORWARDED_PROTO", ""),
        }
        headers = {k: v for k, v in headers.items() if v}
        scheme = environ.get("wsgi.url_scheme", "http")
        return origin in own_origins(settings, scheme, environ.get("HTTP_HOST", ""), peer, headers)

    return allowed


class SocketNotifier:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def emit(self, room: str, event: str, data: Outbound) -> None:
        await self._sio.emit(event, data.model_dump(mode="json"), room=room)


class SocketLayer:
    def __init__(
        self, settings: Settings, domains: Domains, catalogues: Catalogues | None = None
    ) -> None:
        registry = domains.registry
        self.domains = domains
        # Each socket's language, chosen at connect as a page's is (account, cookie,
        # Accept-Language), so refusals built with _() come in the user's language.
        self.catalogues = catalogues or Catalogues()
        self.default_locale = settings.default_locale
        install_fast_poll()
        manager: socketio.AsyncManager = FanoutManager()
        if settings.redis_url:
            from fairserver.socket.redis_manager import ResilientRedisManager

            manager = ResilientRedisManager(settings.redis_url)
        self.sio = CappedServer(
            async_mode="aiohttp",
            # Each socket's events run one after another, in the order sent, on that
            # socket's own reader: a chat burst is stored in order and fair.join is done
            # before the booth.join sent right behind it. Other sockets have readers of
            # their own, so one slow handler holds up only its own client.
            async_handlers=False,
            client_manager=manager,
            cors_allowed_origins=origin_checker(settings),
            transports=["websocket"],
            max_http_buffer_size=MAX_FRAME,
            ping_interval=20,
            ping_timeout=20,
            logger=False,
            engineio_logger=False,
        )
        self.registry = registry
        self.connections: dict[str, Connection] = {}
        self.disconnect_hooks = domains.on_disconnect
        self.heartbeat_hooks = domains.on_heartbeat
        self.services: Services | None = None
        self.worker_id = secrets.token_hex(4)
        self.media_sampler = metrics.MediaSampler()
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        for name in registry.specs:
            self.sio.on(name, self._handler_for(name))
        # Any other event name: an error ack, so a client never waits for a reply that
        # will not come (socket.io calls this for names without a handler, not for
        # connect or disconnect).
        self.sio.on("*", self._unknown_event)

    def notifier(self) -> SocketNotifier:
        return SocketNotifier(self.sio)

    def _handler_for(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handle(sid: str, data: Any = None) -> dict[str, Any]:
            assert self.services is not None
            conn = self.connections.get(sid)
            self.catalogues.activate(conn.locale if conn is not None else self.default_locale)
            started = time.perf_counter()
            reply = await self.registry.dispatch(self.services, conn, name, data)
            metrics.observe_event(name, bool(reply.get("ok")), time.perf_counter() - started)
            return reply

        return handle

    async def _unknown_event(self, event: str, sid: str, *data: Any) -> dict[str, Any]:
        metrics.observe_event("unknown", False, 0.0)  # one label for any unknown name
        return error("request.unknown_event", "unknown event")

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        assert self.services is not None
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookie.get(SESSION_COOKIE)
        actor = await resolve_session(self.services.db, morsel.value) if morsel else None
        if actor is None or actor.user_id is None:
            raise socketio.exceptions.ConnectionRefusedError("auth.required")
        lang = cookie.get(LANG_COOKIE)
        locale = self.catalogues.choose(
            actor.locale,
            lang.value if lang else None,
            accept_language=environ.get("HTTP_ACCEPT_LANGUAGE", self.default_locale),
        )
        conn = Connection(
            sid=sid, actor=actor, id=f"{self.worker_id}:{sid}", membership=self, locale=locale
        )
        try:
            await sockets.admit_socket(self.services, actor.user_id, conn.id)
        except ServiceError as refused:
            raise socketio.exceptions.ConnectionRefusedError(refused.code) from None
        self.connections[sid] = conn
        await conn.enter(user_room(actor.user_id))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None or self.services is None:
            return
        await sockets.release_socket(self.services, conn.actor.user_id or 0, conn.id)
        for hook in self.disconnect_hooks:
            try:
                await hook(self.services, conn, "disconnect")
            except Exception:
                log.exception("disconnect hook failed for %s", conn.id)

    async def sample_gauges(self) -> None:
        """What exists now, into /metrics' gauges: sockets, rooms, send queues, media."""
        connections = list(self.connections.values())
        metrics.SOCKETS.set(len(connections))
        metrics.ROOMS.set(len(set().union(*(conn.rooms for conn in connections))))
        depths = [socket.queue.qsize() for socket in list(self.sio.eio.sockets.values())]
        metrics.FANOUT_QUEUED.set(sum(depths))
        metrics.FANOUT_DEEPEST.set(max(depths, default=0))
        if self.services is not None:
            rooms = [s.media for s in self.services.media_sessions.sessions.values()]
            lows = [r.output for room in rooms for r in room.renditions.values()]
            self.media_sampler.sample(
                [*(source for room in rooms for source in room.sources.values()), *lows]
            )

    async def enter(self, conn: Connection, room: str) -> None:
        await self.sio.enter_room(conn.sid, room)
        conn.rooms.add(room)

    async def leave(self, conn: Connection, room: str) -> None:
        await self.sio.leave_room(conn.sid, room)
        conn.rooms.discard(room)

    async def close_all(self, reason: str) -> None:
        """Graceful stop: run every hook (attendance closes with `reason`), then disconnect."""
        for conn in list(self.connections.values()):
            if self.services is not None:
                for hook in self.disconnect_hooks:
                    try:
                        await hook(self.services, conn, reason)
                    except Exception:
                        log.exception("shutdown hook failed for %s", conn.id)
            self.connections.pop(conn.sid, None)
            await self.sio.disconnect(conn.sid)
