"""Socket events: one registry, one pipeline. Validate, authorise, rate-limit, call, ack.

Every handler is declared with `@events.on(name, Payload, roles=...)`; the registry is
what tests/test_socket_security.py enumerates, so a handler without a tested decision
fails CI. Replies always use the envelope `{"ok": true, "data": …}` or
`{"ok": false, "error": {"code", "message"}}`: bad input never drops the socket.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fairserver.auth import Actor
from fairserver.i18n import gettext
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.briefings.live import Seat
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.media.homes import HomeRoutes, RoomActivity

log = logging.getLogger(__name__)

ROLES = frozenset({"student", "recruiter", "organiser", "admin"})
# The largest event id a room's log can hold (room_events.seq is a BIGINT): an `after`
# beyond it is refused as invalid before a handler runs, not failed in the database.
MAX_EVENT_ID = 2**63 - 1
P = TypeVar("P", bound=BaseModel)


class Payload(BaseModel):
    """Inbound payloads refuse unknown fields (a spoofed `sender` or `role` is an error) and
    are strict: `true` is not the id 1, nor is `"1"` or `1.0` (JSON says what type it is)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class Empty(Payload):
    pass


class Membership(Protocol):
    """How a connection enters and leaves broadcast rooms (socket.io rooms in production)."""

    async def enter(self, conn: Connection, room: str) -> None: ...

    async def leave(self, conn: Connection, room: str) -> None: ...


@dataclass
class ConnectionState:
    """What one socket has joined, kept by the domain handlers (never taken from a payload)."""

    fair_id: int | None = None
    booths: dict[int, Booth] = field(default_factory=dict)  # booth id -> the booth joined
    briefing_seats: dict[int, Seat] = field(default_factory=dict)  # briefing id -> seat
    interviews: set[int] = field(default_factory=set)  # interviews joined on this socket


@dataclass
class Connection:
    """One socket. The actor comes from the session cookie, never from a payload."""

    sid: str
    actor: Actor
    id: str  # unique across workers: attendance intervals and presence use it
    membership: Membership
    rooms: set[str] = field(default_factory=set)
    state: ConnectionState = field(default_factory=ConnectionState)
    locale: str = "en"  # the user's language, for refusals made with _()

    @property
    def user_id(self) -> int:
        assert self.actor.user_id is not None
        return self.actor.user_id

    async def enter(self, room: str) -> None:
        await self.membership.enter(self, room)

    async def leave(self, room: str) -> None:
        await self.membership.leave(self, room)

    def require_room(self, room: str) -> None:
        """Events about a room come only from clients that joined it."""
        if room not in self.rooms:
            raise NotFound()


Handler = Callable[[Services, Connection, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


DEFAULT_RATE = Rate(per_second=10, burst=30)


@dataclass(frozen=True)
class EventSpec:
    name: str
    payload: type[BaseModel]
    handler: Handler
    roles: frozenset[str]
    rate: Rate


def ok(data: Any = None) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return {"ok": True, "data": data}


def N_(message: str) -> str:  # marks a string for extraction; translated when used
    return message


# The pipeline's own refusals, read in the socket's language (the message is for people;
# clients act on the code).
GENERIC_MESSAGES = {
    "auth.required": N_("log in first"),
    "not_found": N_("not found"),
    "unavailable": N_("temporarily unavailable; try again shortly"),
    "rate_limited": N_("too many requests; slow down"),
    "request.invalid": N_("the payload is invalid"),
    "request.unknown_event": N_("unknown event"),
    "internal": N_("internal error"),
}


def error(code: str, message: str, **details: Any) -> dict[str, Any]:
    if code in GENERIC_MESSAGES:
        message = gettext(GENERIC_MESSAGES[code])
    return {"ok": False, "error": {"code": code, "message": message, **details}}


def _fields(exc: ValidationError) -> dict[str, str]:
    return {
        ".".join(str(part) for part in e["loc"]) or "payload": str(e["msg"]) for e in exc.errors()
    }


class EventRegistry:
    def __init__(self) -> None:
        self.specs: dict[str, EventSpec] = {}

    def on(
        self,
        name: str,
        payload: type[P],
        *,
        roles: frozenset[str] = ROLES,
        rate: Rate = DEFAULT_RATE,
    ) -> Callable[[Callable[[Services, Connection, P], Awaitable[Any]]], Handler]:
        def register(handler: Callable[[Services, Connection, P], Awaitable[Any]]) -> Handler:
            if name in self.specs:
                raise ValueError(f"socket event {name} is registered twice")
            self.specs[name] = EventSpec(name, payload, handler, roles, rate)
            return handler

        return register

    async def dispatch(
        self, services: Services, conn: Connection | None, name: str, data: Any
    ) -> dict[str, Any]:
        spec = self.specs[name]
        if conn is None:
            return error("auth.required", "log in first")
        if conn.actor.role not in spec.roles:
            return error("not_found", "not found")
        bucket = f"rate:{conn.actor.user_id}:{name}"
        try:
            allowed = await services.live.allow(bucket, spec.rate.per_second, spec.rate.burst)
        except Exception:  # the live store (Redis) is down: say so rather than hang
            log.exception("live state unavailable for %s", name)
            return error("unavailable", "temporarily unavailable; try again shortly")
        if not allowed:
            return error("rate_limited", "too many requests; slow down", retry_after=1)
        try:
            payload = spec.payload.model_validate({} if data is None else data)
        except ValidationError as exc:
            return error("request.invalid", "the payload is invalid", fields=_fields(exc))
        try:
            return ok(await spec.handler(services, conn, payload))
        except ServiceError as exc:
            return error(exc.code, exc.message, **exc.details)
        except Exception:
            log.exception("socket event %s failed", name)
            return error("internal", "internal error")


DisconnectHook = Callable[[Services, Connection, str], Awaitable[None]]
HeartbeatHook = Callable[[Services, Connection], Awaitable[None]]


@dataclass
class Domains:
    registry: EventRegistry = field(default_factory=EventRegistry)
    on_disconnect: list[DisconnectHook] = field(default_factory=list)
    on_heartbeat: list[HeartbeatHook] = field(default_factory=list)
    home_routes: HomeRoutes = field(default_factory=HomeRoutes)
    home_rooms: dict[str, RoomActivity] = field(default_factory=dict)
