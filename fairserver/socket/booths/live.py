"""Booth events (B3 presence, B4 chat, B5 queue, B7 candidates): parse, authorise, call.

Every event needs the booth's fair joined first (fair.join) and the booth visible to
the caller; in-booth actions also need booth.join on this connection. Missing and
forbidden answer the same not_found. Decisions live in rooms/booth*.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths import calls as booth_calls
from fairserver.rooms.booths import candidate as booth_candidate
from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths import queue
from fairserver.rooms.booths.access import access_booth_by_id, closed_booths
from fairserver.rooms.booths.calls import BoothJoined, CallNext, EntryEnded, StaffBoothJoined
from fairserver.rooms.booths.live import (
    Booth,
    Deleted,
    DeletedBefore,
    Posted,
    Presence,
    booth_room,
    is_staff,
)
from fairserver.rooms.booths.queue import MyPlace
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.fairs import attendance
from fairserver.rooms.notify import Outbound
from fairserver.socket.fairs.live import joined_fair
from fairserver.socket.kit import MAX_EVENT_ID, Connection, EventRegistry, Payload, Rate
from fairserver.text import Line, Text

events = EventRegistry()
STUDENTS = frozenset({"student"})
RECRUITERS = frozenset({"recruiter"})
MODERATORS = frozenset({"recruiter", "organiser", "admin"})
MAX_ID = 2**31 - 1


class BoothRef(Payload):
    booth_id: int = Field(ge=1, le=MAX_ID)


class BoothJoin(BoothRef):
    # The last event id this client saw in the booth room, to replay what it missed.
    after: int | None = Field(default=None, ge=0, le=MAX_EVENT_ID)


class StaffStatus(BoothRef):
    status: Literal["online", "busy", "away"]


class Chat(BoothRef):
    body: Text = Field(min_length=1, max_length=2000)
    client_id: str = Field(min_length=1, max_length=64)


class PrivateChat(Chat):
    to_user_id: int = Field(ge=1, le=MAX_ID)


class ChatDelete(BoothRef):
    message_id: int = Field(ge=1, le=MAX_ID)


class StudentRef(BoothRef):
    student_id: int = Field(ge=1, le=MAX_ID)


class Skip(StudentRef):
    reason: Line = Field(default="", max_length=200)


class Mark(StudentRef):
    interest: Literal["yes", "maybe", "no"]
    note: Text = Field(default="", max_length=5000)
    handed_to: int | None = Field(default=None, ge=1, le=MAX_ID)


async def visible_booth(
    services: Services, conn: Connection, booth_id: int
) -> tuple[Booth, FairAccess]:
    """The booth, in the fair this connection joined, when the caller may see it and it is
    open: its live rooms exist only while its company is approved in the fair (its own
    recruiters may see the page of a booth still applying, not run it)."""
    found = await access_booth_by_id(services, conn.actor, joined_fair(conn), booth_id)
    if found.fair.company_status(found.row.company_id) != "approved":
        raise NotFound()
    return found.booth, found.fair


async def joined_booth(
    services: Services, conn: Connection, booth_id: int
) -> tuple[Booth, FairAccess]:
    """As visible_booth, and this connection joined the booth's room."""
    conn.require_room(booth_room(booth_id))
    return await visible_booth(services, conn, booth_id)


async def staff_booth(services: Services, conn: Connection, booth_id: int) -> Booth:
    booth, _ = await joined_booth(services, conn, booth_id)
    if not is_staff(conn.actor, booth):
        raise NotFound()
    return booth


def _body(text: str) -> str:
    if not text:  # only invisible characters, removed by cleaning
        raise ServiceError("request.invalid", "the payload is invalid", fields={"body": "empty"})
    return text


# --- presence (B3) ---------------------------------------------------------------------


@events.on("booth.join", BoothJoin, rate=Rate(per_second=2, burst=10))
async def join_booth(
    services: Services, conn: Connection, payload: BoothJoin
) -> BoothJoined | StaffBoothJoined:
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    staff = is_staff(conn.actor, booth)
    await conn.enter(booth.room)
    if staff:
        await conn.enter(booth.staff_room)
    conn.state.booths[booth.id] = booth
    # Committed before the ack: the visit is on record even if we crash right after.
    await attendance.open_interval(
        services,
        connection_id=conn.id,
        user_id=conn.user_id,
        fair_id=booth.fair_id,
        kind="booth",
        subject_id=booth.id,
    )
    entered = await booth_service.enter(services, conn.id, conn.actor, booth, payload.after)
    return await booth_calls.joined(services, booth, conn.actor, entered)


@events.on("booth.leave", BoothRef, rate=Rate(per_second=2, burst=10))
async def leave_booth(services: Services, conn: Connection, payload: BoothRef) -> None:
    conn.require_room(booth_room(payload.booth_id))
    await _end_seat(services, conn, conn.state.booths.pop(payload.booth_id))


async def _end_seat(services: Services, conn: Connection, booth: Booth) -> None:
    await attendance.close_intervals(services, conn.id, "leave", kind="booth", subject_id=booth.id)
    await booth_service.leave(services, conn.id, booth)
    await conn.leave(booth.room)
    await conn.leave(booth.staff_room)


class BoothClosed(Outbound):
    booth_id: int


async def evict_closed_booths(services: Services, connections: list[Connection]) -> int:
    """Takes every connection out of booths that closed under it (issue 11: a rejected
    company's recruiter stayed in its booth's rooms and kept hearing them). Each is told
    with booth.closed. Returns how many seats were ended."""
    joined = {booth_id for conn in connections for booth_id in conn.state.booths}
    closed = await closed_booths(services, joined)
    ended = 0
    for conn in connections:
        for booth_id in closed & set(conn.state.booths):
            await _end_seat(services, conn, conn.state.booths.pop(booth_id))
            await services.notifier.emit(conn.sid, "booth.closed", BoothClosed(booth_id=booth_id))
            ended += 1
    return ended


@events.on("booth.heartbeat", BoothRef, rate=Rate(per_second=1, burst=5))
async def heartbeat(services: Services, conn: Connection, payload: BoothRef) -> Presence:
    booth, _ = await joined_booth(services, conn, payload.booth_id)
    await booth_service.touch(services, conn.id, conn.actor, booth)
    presence = await booth_service.publish_presence(services, booth)
    await queue.sweep(services, booth)  # deadlines also fall due without a timer
    return presence


@events.on("booth.status", StaffStatus, roles=RECRUITERS, rate=Rate(per_second=1, burst=5))
async def set_status(services: Services, conn: Connection, payload: StaffStatus) -> Presence:
    booth = await staff_booth(services, conn, payload.booth_id)
    await booth_service.touch(services, conn.id, conn.actor, booth)
    presence = await booth_service.set_status(services, conn.actor, booth, payload.status)
    await queue.publish(services, booth)  # the ETA depends on who is available
    return presence


# --- chat (B4) -------------------------------------------------------------------------


@events.on("booth.chat", Chat, rate=Rate(per_second=2, burst=10))
async def chat(services: Services, conn: Connection, payload: Chat) -> Posted:
    booth, _ = await joined_booth(services, conn, payload.booth_id)
    return await booth_service.post_message(
        services, conn.actor, booth, _body(payload.body), payload.client_id
    )


@events.on("booth.dm", PrivateChat, rate=Rate(per_second=2, burst=10))
async def private_chat(services: Services, conn: Connection, payload: PrivateChat) -> Posted:
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    if is_staff(conn.actor, booth):
        conn.require_room(booth.room)
    await booth_service.check_private_pair(
        services, conn.actor, booth, payload.to_user_id, booth.room in conn.rooms
    )
    return await booth_service.send_private(
        services, conn.actor, booth, payload.to_user_id, _body(payload.body), payload.client_id
    )


@events.on("booth.chat_delete", ChatDelete, roles=MODERATORS, rate=Rate(per_second=2, burst=10))
async def delete_chat(
    services: Services, conn: Connection, payload: ChatDelete
) -> Deleted | DeletedBefore:
    booth, access = await joined_booth(services, conn, payload.booth_id)
    if not (is_staff(conn.actor, booth) or can(conn.actor, Right.FAIR_MANAGE, access)):
        raise NotFound()
    return await booth_service.delete_message(services, conn.actor, booth, payload.message_id)


# --- queue (B5) ------------------------------------------------------------------------


QUEUE_RATE = Rate(per_second=1, burst=5)


@events.on("booth.queue_join", BoothRef, roles=STUDENTS, rate=QUEUE_RATE)
async def queue_join(services: Services, conn: Connection, payload: BoothRef) -> MyPlace:
    booth, access = await joined_booth(services, conn, payload.booth_id)
    if not can(conn.actor, Right.FAIR_JOIN, access):
        raise NotFound()
    return await booth_calls.join(services, conn.actor, booth)


@events.on("booth.queue_leave", BoothRef, roles=STUDENTS, rate=QUEUE_RATE)
async def queue_leave(services: Services, conn: Connection, payload: BoothRef) -> MyPlace:
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    return await booth_calls.leave(services, conn.actor, booth)


@events.on("booth.queue_next", BoothRef, roles=RECRUITERS, rate=QUEUE_RATE)
async def queue_next(services: Services, conn: Connection, payload: BoothRef) -> CallNext:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await booth_calls.call_next(services, conn.actor, booth)


@events.on("booth.queue_skip", Skip, roles=RECRUITERS, rate=QUEUE_RATE)
async def queue_skip(services: Services, conn: Connection, payload: Skip) -> EntryEnded:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await booth_calls.skip(services, conn.actor, booth, payload.student_id, payload.reason)


@events.on("booth.call_accept", BoothRef, roles=STUDENTS, rate=QUEUE_RATE)
async def call_accept(services: Services, conn: Connection, payload: BoothRef) -> MyPlace:
    # No booth.join needed: a student is called while looking at another booth.
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    return await booth_calls.accept(services, conn.actor, booth)


@events.on("booth.call_decline", BoothRef, roles=STUDENTS, rate=QUEUE_RATE)
async def call_decline(services: Services, conn: Connection, payload: BoothRef) -> MyPlace:
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    return await booth_calls.decline(services, conn.actor, booth)


@events.on("booth.chat_end", StudentRef, roles=RECRUITERS, rate=QUEUE_RATE)
async def chat_end(services: Services, conn: Connection, payload: StudentRef) -> EntryEnded:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await booth_calls.end_chat(services, conn.actor, booth, payload.student_id)


# --- candidates (B7) -------------------------------------------------------------------


@events.on("booth.candidate", StudentRef, roles=RECRUITERS, rate=Rate(per_second=5, burst=20))
async def candidate(
    services: Services, conn: Connection, payload: StudentRef
) -> booth_candidate.CandidateView:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await booth_candidate.candidate(services, booth, payload.student_id)


@events.on("booth.mark", Mark, roles=RECRUITERS, rate=Rate(per_second=1, burst=10))
async def mark(services: Services, conn: Connection, payload: Mark) -> booth_candidate.MarkSaved:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await booth_candidate.mark(
        services,
        conn.actor,
        booth,
        payload.student_id,
        payload.interest,
        payload.note,
        payload.handed_to,
    )


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    """Presence ends at once; a student's waiting places are kept for a grace period.

    Runs after fair.on_disconnect (DOMAIN_MODULES order), which has closed every
    attendance interval of the connection and dropped it from the fair's presence,
    so "still online in the fair" means another connection of the same student.
    """
    for booth in conn.state.booths.values():
        await attendance.close_intervals(
            services, conn.id, reason, kind="booth", subject_id=booth.id
        )
        await booth_service.leave(services, conn.id, booth)
    if reason == "shutdown":
        queue.cancel_timers(services)  # clients reconnect to another worker, which sweeps lazily
        return
    fair_id = conn.state.fair_id
    if conn.actor.role == "student" and fair_id is not None:
        await booth_calls.start_grace(services, conn.user_id, int(fair_id))
