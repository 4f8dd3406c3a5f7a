"""Briefing events (P3–P6 without media): join, Q&A, chat, moderation and reactions.

Every event names its briefing; the caller must have joined it (briefing.join, after
fair.join of its fair). The seat decided at join says whether the caller moderates.
Handlers stay thin: the services in rooms/briefing*.py decide and say who hears.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fairserver.rooms.briefings import chat as chat_service
from fairserver.rooms.briefings import live as service
from fairserver.rooms.briefings import qa
from fairserver.rooms.briefings import stage as stage_service
from fairserver.rooms.briefings.live import Seat
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.notify import moderators_room
from fairserver.socket.fairs.live import joined_fair
from fairserver.socket.kit import MAX_EVENT_ID, Connection, EventRegistry, Payload, Rate
from fairserver.socket.server import SocketLayer
from fairserver.text import Text

events = EventRegistry()
MAX_ID = 2**31 - 1
STUDENTS = frozenset({"student"})
STAFF = frozenset({"recruiter", "organiser", "admin"})

Id = Field(ge=1, le=MAX_ID)


class BriefingRef(Payload):
    briefing_id: int = Id


class Join(BriefingRef):
    # The last event id this client saw in the briefing room, to replay what it missed.
    after: int | None = Field(default=None, ge=0, le=MAX_EVENT_ID)


class Ask(BriefingRef):
    body: Text = Field(min_length=1, max_length=500)
    anonymous: bool = False
    client_id: str = Field(min_length=1, max_length=64)


class QuestionRef(BriefingRef):
    question_id: int = Id


class Dismiss(QuestionRef):
    reason: Text = Field(default="", max_length=300)


class Chat(BriefingRef):
    body: Text = Field(min_length=1, max_length=1000)
    client_id: str = Field(min_length=1, max_length=64)


class SlowMode(BriefingRef):
    seconds: int = Field(ge=0, le=300)


class MessageRef(BriefingRef):
    message_id: int = Id


class UserRef(BriefingRef):
    user_id: int = Id


class Mute(UserRef):
    minutes: int = Field(ge=1, le=1440)


class React(BriefingRef):
    kind: Literal["👏", "❤️", "😂", "🤔", "👍"]


def _seats(conn: Connection) -> dict[int, Seat]:
    return conn.state.briefing_seats


def seat_of(conn: Connection, briefing_id: int) -> Seat:
    """The caller's seat in a briefing it joined; anything else is not found."""
    conn.require_room(service.briefing_room(briefing_id))
    seat = _seats(conn).get(briefing_id)
    if seat is None:
        raise NotFound()
    return seat


async def active_seat(services: Services, conn: Connection, briefing_id: int) -> Seat:
    """As seat_of, and refused at once for someone banned since they joined."""
    seat = seat_of(conn, briefing_id)
    await service.ensure_not_banned(services, seat, conn.user_id)
    return seat


def moderator_seat(conn: Connection, briefing_id: int) -> Seat:
    seat = seat_of(conn, briefing_id)
    if not seat.moderator:
        raise NotFound()
    return seat


@events.on("briefing.join", Join, rate=Rate(per_second=2, burst=10))
async def join(services: Services, conn: Connection, payload: Join) -> service.BriefingSnapshot:
    seat = await service.seat_for(services, conn.actor, payload.briefing_id, joined_fair(conn))
    await conn.enter(seat.room)
    if seat.moderator:
        await conn.enter(moderators_room(seat.room))
    _seats(conn)[seat.briefing_id] = seat
    return await service.enter(services, conn.id, conn.actor, seat, payload.after)


async def _leave_seat(services: Services, conn: Connection, seat: Seat, reason: str) -> None:
    await service.leave(services, conn.id, seat.briefing_id, reason)
    for room in (seat.room, moderators_room(seat.room)):
        await conn.leave(room)
    _seats(conn).pop(seat.briefing_id, None)
    # The seat is gone (leave, ban): this connection's stage peers close now.
    await stage_service.seat_lost(services, conn.id, seat.briefing_id)


@events.on("briefing.leave", BriefingRef)
async def leave(services: Services, conn: Connection, payload: BriefingRef) -> None:
    await _leave_seat(services, conn, seat_of(conn, payload.briefing_id), "leave")


# Q&A ------------------------------------------------------------------------------


@events.on("briefing.ask", Ask, roles=STUDENTS, rate=Rate(per_second=0.2, burst=3))
async def ask(services: Services, conn: Connection, payload: Ask) -> qa.Asked | qa.AskedBefore:
    seat = seat_of(conn, payload.briefing_id)
    return await qa.ask(
        services, conn.actor, seat, payload.body, payload.anonymous, payload.client_id
    )


@events.on("briefing.vote", QuestionRef, roles=STUDENTS, rate=Rate(per_second=5, burst=20))
async def vote(services: Services, conn: Connection, payload: QuestionRef) -> qa.Voted:
    seat = await active_seat(services, conn, payload.briefing_id)
    return await qa.vote(services, conn.actor, seat, payload.question_id, up=True)


@events.on("briefing.unvote", QuestionRef, roles=STUDENTS, rate=Rate(per_second=5, burst=20))
async def unvote(services: Services, conn: Connection, payload: QuestionRef) -> qa.Voted:
    seat = await active_seat(services, conn, payload.briefing_id)
    return await qa.vote(services, conn.actor, seat, payload.question_id, up=False)


MODERATE = Rate(per_second=5, burst=30)


def _moderation(action: qa.Action) -> None:
    @events.on(f"briefing.{action}", QuestionRef, roles=STAFF, rate=MODERATE)
    async def handle(services: Services, conn: Connection, payload: QuestionRef) -> qa.Moderated:
        seat = moderator_seat(conn, payload.briefing_id)
        return await qa.moderate(services, seat, payload.question_id, action)


_ACTIONS: tuple[qa.Action, ...] = ("approve", "pin", "unpin", "answer")
for _action in _ACTIONS:
    _moderation(_action)


@events.on("briefing.dismiss", Dismiss, roles=STAFF, rate=MODERATE)
async def dismiss(services: Services, conn: Connection, payload: Dismiss) -> qa.Moderated:
    seat = moderator_seat(conn, payload.briefing_id)
    return await qa.moderate(services, seat, payload.question_id, "dismiss", payload.reason)


# Chat and moderation ------------------------------------------------------------------


@events.on("briefing.chat", Chat, rate=Rate(per_second=1, burst=5))
async def send_chat(
    services: Services, conn: Connection, payload: Chat
) -> chat_service.Posted | chat_service.PostedBefore:
    seat = seat_of(conn, payload.briefing_id)
    return await chat_service.chat(services, conn.actor, seat, payload.body, payload.client_id)


@events.on("briefing.slow_mode", SlowMode, roles=STAFF, rate=Rate(per_second=1, burst=5))
async def slow_mode(
    services: Services, conn: Connection, payload: SlowMode
) -> chat_service.SlowMode:
    seat = moderator_seat(conn, payload.briefing_id)
    return await chat_service.set_slow_mode(services, seat, payload.seconds)


@events.on("briefing.delete_message", MessageRef, roles=STAFF, rate=MODERATE)
async def delete_message(
    services: Services, conn: Connection, payload: MessageRef
) -> chat_service.MessageDeleted:
    seat = moderator_seat(conn, payload.briefing_id)
    return await chat_service.delete_message(services, conn.actor, seat, payload.message_id)


RESTRICT = Rate(per_second=2, burst=10)


@events.on("briefing.mute", Mute, roles=STAFF, rate=RESTRICT)
async def mute(services: Services, conn: Connection, payload: Mute) -> chat_service.ModerationEvent:
    seat = moderator_seat(conn, payload.briefing_id)
    return await chat_service.restrict(
        services, conn.actor, seat, payload.user_id, "mute", payload.minutes
    )


@events.on("briefing.ban", UserRef, roles=STAFF, rate=RESTRICT)
async def ban(
    services: Services, conn: Connection, payload: UserRef
) -> chat_service.ModerationEvent:
    seat = moderator_seat(conn, payload.briefing_id)
    result = await chat_service.restrict(services, conn.actor, seat, payload.user_id, "ban")
    await _remove_local_connections(services, conn, seat, payload.user_id)
    return result


async def _remove_local_connections(
    services: Services, conn: Connection, seat: Seat, user_id: int
) -> None:
    """Takes a banned user's connections on this worker out of the room at once.
    Their connections on other workers get briefing.banned (their client leaves),
    and every action they try there is refused by the ban check."""
    layer = conn.membership
    if not isinstance(layer, SocketLayer):
        return
    for other in list(layer.connections.values()):
        if other.actor.user_id == user_id and seat.briefing_id in _seats(other):
            await _leave_seat(services, other, _seats(other)[seat.briefing_id], "banned")


@events.on("briefing.unban", UserRef, roles=STAFF, rate=RESTRICT)
async def unban(
    services: Services, conn: Connection, payload: UserRef
) -> chat_service.ModerationEvent:
    seat = moderator_seat(conn, payload.briefing_id)
    return await chat_service.restrict(services, conn.actor, seat, payload.user_id, "unban")


@events.on("briefing.react", React, rate=Rate(per_second=2, burst=10))
async def react(services: Services, conn: Connection, payload: React) -> None:
    seat = await active_seat(services, conn, payload.briefing_id)
    chat_service.react(services, seat, payload.kind)


# Connection lifecycle -------------------------------------------------------------------


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    for seat in list(_seats(conn).values()):
        await service.leave(services, conn.id, seat.briefing_id, reason)


async def on_heartbeat(services: Services, conn: Connection) -> None:
    """Keeps this connection counted as a viewer (to be called by the worker's heartbeat)."""
    for briefing_id in _seats(conn):
        await service.touch(services, conn.id, conn.actor, briefing_id)
