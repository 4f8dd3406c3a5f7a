"""Media homes: every live media room runs on one worker, whichever worker a socket is on.

A stage or interview room holds aiortc connections, which live in one process. The first
worker that signals for a room claims it as the room's *home* (a lease in live state,
renewed while the room has peers); signalling that reaches any other worker is sent to the
home over live state's pub/sub and answered the same way, and the browser's media then
flows to the home's UDP ports directly (docs/architecture.md, "Media homes"). With one process (the
embedded default) every room's home is that process and nothing is sent anywhere.

A call is a typed command (a ``HomeCommand``: a pydantic model whose class names the call)
registered to the service function that runs it (``HomeRoutes.on``); the services declare
their commands and routes (rooms/briefings/stage.py, rooms/briefings/recording.py,
rooms/interviews/rooms.py). A local call runs the function with the command as it is; a
remote one crosses as the command's JSON and is validated into the same model on the home
before it runs. The function runs on the home with a ``seated`` check: for a local caller
that is the socket's own check; for a remote caller it always holds, and the caller's
worker tells the home to close the peers (the call's ``leave`` command, through ``forget``)
as the event happens: the socket leaves, is banned (stage.seat_lost) or disconnects.
Nothing polls seats.

If the home does not answer (its worker died), its lease is taken over and the call runs
here; the dead worker's peers died with it, so browsers reconnect to the new home.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fairserver.auth import Actor
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.tasks import cancelling, stop_tasks

HOME_TTL = 30.0
RENEW_EVERY = 10.0
CALL_TIMEOUT = 8.0

log = logging.getLogger(__name__)

Seated = Callable[[], bool]
# Says whether this worker still holds a room with peers, for renewing its lease.
Activity = Callable[[str], bool]
RoomActivity = Callable[[Services, str], bool]


class HomeUnreachable(Exception):
    pass


class HomeCommand(BaseModel):
    """A call to run on a room's media home; ``call`` names it on the wire."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    call: ClassVar[str]


class Caller(BaseModel):
    """The caller, as a home on another worker needs it (never the session's secrets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    user_id: int | None
    role: str
    display_name: str
    school_id: int | None
    company_id: int | None
    verified: bool
    locale: str | None

    @classmethod
    def of(cls, actor: Actor) -> Caller:
        return cls(
            user_id=actor.user_id,
            role=actor.role,
            display_name=actor.display_name,
            school_id=actor.school_id,
            company_id=actor.company_id,
            verified=actor.verified,
            locale=actor.locale,
        )

    def actor(self) -> Actor:
        return Actor(**self.model_dump())


C = TypeVar("C", bound=HomeCommand)
# The service function a command runs: (services, command, seated) -> JSON-able result.
Handler = Callable[[Services, Any, Seated], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    command: type[HomeCommand]
    handler: Handler


class HomeRoutes:
    """Commands, each registered to the one function that runs it on the home."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}

    def on(
        self, command: type[C]
    ) -> Callable[
        [Callable[[Services, C, Seated], Awaitable[Any]]],
        Callable[[Services, C, Seated], Awaitable[Any]],
    ]:
        def register(
            handler: Callable[[Services, C, Seated], Awaitable[Any]],
        ) -> Callable[[Services, C, Seated], Awaitable[Any]]:
            self.add(Route(command, handler))
            return handler

        return register

    def add(self, route: Route) -> None:
        name = route.command.call
        if name in self.routes:
            raise ValueError(f"media home call {name} is registered twice")
        self.routes[name] = route

    def update(self, other: HomeRoutes) -> None:
        for route in other.routes.values():
            self.add(route)

    def get(self, name: str) -> Route | None:
        return self.routes.get(name)


@dataclass(eq=False)
class _Remote:
    room: str
    home: str
    leave: HomeCommand


@dataclass
class MediaHomes:
    services: Services
    routes: HomeRoutes = field(default_factory=HomeRoutes)
    activity: dict[str, Activity] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    remote: dict[str, dict[str, _Remote]] = field(default_factory=dict)
    call_timeout: float = CALL_TIMEOUT
    renew_every: float = RENEW_EVERY
    _pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def me(self) -> str:
        return self.services.worker_id

    def register(
        self, command: type[C], handler: Callable[[Services, C, Seated], Awaitable[Any]]
    ) -> None:
        self.routes.add(Route(command, handler))

    def install(self, routes: HomeRoutes, rooms: dict[str, RoomActivity]) -> None:
        self.routes.update(routes)
        for kind, active in rooms.items():
            self.track(kind, functools.partial(active, self.services))

    def track(self, kind: str, active: Activity) -> None:
        """Rooms whose key starts with ``kind:`` are live here while ``active(key)``."""
        self.activity[kind] = active

    async def start(self) -> None:
        subscription = await self.services.live.subscribe(_channel(self.me))
        tasks = self.services.tasks
        self._tasks = [
            tasks.spawn(self._listen(subscription), name="media home listener"),
            tasks.every(self.renew_every, self._renew_leases, name="media home leases"),
        ]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)  # calls in flight belong to the app's Supervisor
        for room in tuple(self.held):
            with contextlib.suppress(Exception):
                await self.services.live.release(_lease(room), self.me)
        self.held.clear()

    async def call(
        self,
        room: str,
        command: HomeCommand,
        *,
        seated: Seated,
        claim: bool = True,
        connection_id: str | None = None,
        leave: HomeCommand | None = None,
    ) -> Any:
        """Runs ``command`` on the room's home; claims the home first when ``claim``."""
        home = await self._home(room, claim)
        if home is not None and home != self.me:
            try:
                reply = await self._send(home, command)
            except HomeUnreachable:
                log.warning("media home %s of %s is gone: taking the room over", home, room)
                await self.services.live.release(_lease(room), home)
                home = await self._home(room, claim)
            else:
                if connection_id is not None and leave is not None and "error" not in reply:
                    self.remote.setdefault(connection_id, {})[room] = _Remote(room, home, leave)
                return _unwrap(reply)
        if home is not None and home != self.me:  # another worker won the takeover race
            return _unwrap(await self._send(home, command))
        return await self._route(command.call).handler(self.services, command, seated)

    async def forget(self, connection_id: str, room: str | None = None) -> None:
        """The socket left (``room``) or disconnected (all rooms): close its remote peers."""
        rooms = self.remote.get(connection_id, {})
        gone = [
            rooms.pop(key) for key in ([room] if room is not None else list(rooms)) if key in rooms
        ]
        if not rooms:
            self.remote.pop(connection_id, None)
        for held in gone:
            with contextlib.suppress(Exception):
                await self._send(held.home, held.leave)

    async def _home(self, room: str, claim: bool) -> str | None:
        live = self.services.live
        home = await live.get(_lease(room))
        if home is not None or not claim:
            return home
        if await live.claim(_lease(room), self.me, HOME_TTL):
            self.held.add(room)
            return self.me
        return await live.get(_lease(room))  # another worker claimed it in between

    def _route(self, name: str) -> Route:
        route = self.routes.get(name)
        if route is None:
            raise ServiceError("media.unknown_call", "unknown media call")
        return route

    async def _send(self, home: str, command: HomeCommand) -> dict[str, Any]:
        request_id = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        args = command.model_dump(mode="json")
        message = {"id": request_id, "from": self.me, "name": command.call, "args": args}
        try:
            await self.services.live.publish(_channel(home), json.dumps(message))
            return await asyncio.wait_for(future, self.call_timeout)
        except TimeoutError as exc:
            raise HomeUnreachable(home) from exc
        finally:
            self._pending.pop(request_id, None)

    async def _listen(self, subscription: Any) -> None:
        try:
            while True:
                raw = await subscription.get(1.0)
                if raw is None:
                    continue
                try:
                    message = json.loads(raw)
                except ValueError:
                    log.warning("media home: unreadable message dropped")
                    continue
                if "reply_to" in message:
                    future = self._pending.get(message["reply_to"])
                    if future is not None and not future.done():
                        future.set_result(message)
                else:
                    self.services.tasks.spawn(self._serve(message), name="media home call")
        finally:
            await subscription.close()

    async def _serve(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"reply_to": message.get("id")}
        try:
            route = self._route(str(message.get("name", "")))
            try:
                command = route.command.model_validate(message.get("args", {}))
            except ValidationError as exc:
                raise ServiceError("media.bad_call", "the media call is invalid") from exc
            reply["data"] = await route.handler(self.services, command, _always)
        except ServiceError as exc:
            reply["error"], reply["message"] = exc.code, exc.message
            reply["details"] = exc.details
        except Exception:
            log.exception("media home call %s failed", message.get("name"))
            reply["error"], reply["message"] = "media.failed", "the media server failed"
        await self.services.live.publish(_channel(str(message.get("from"))), json.dumps(reply))

    async def _renew_leases(self) -> None:
        """One round: extend the lease of every room still live here, let the others go."""
        for room in tuple(self.held):
            active = self.activity.get(room.split(":", 1)[0])
            try:
                if active is not None and active(room):
                    if not await self.services.live.extend(_lease(room), self.me, HOME_TTL):
                        self.held.discard(room)
                else:
                    self.held.discard(room)
                    await self.services.live.release(_lease(room), self.me)
            except Exception:
                if cancelling():
                    raise
                log.exception("media home lease of %s", room)


def _always() -> bool:
    return True


def _unwrap(reply: dict[str, Any]) -> Any:
    if "error" in reply:
        raise ServiceError(reply["error"], reply.get("message", ""), **reply.get("details", {}))
    return reply.get("data")


def _lease(room: str) -> str:
    return f"media-home:{room}"


def _channel(worker: str) -> str:
    return f"media-home:{worker}"
