"""A booth's live side (B3, B4): who is on duty, how many visit, the lobby and private chat.

The queue (B5) lives in rooms/booths/queue.py and candidates (B7) in
rooms/booths/candidate.py; all three share the `Booth` value and room names below.

Live keys (store/live.py operations only, each atomic on its own):
  booth:{id}:visitors        presence, member = connection id, value = user id
  booth:{id}:staff           presence, member = connection id, value = {"user_id", "name"}
  booth:{id}:status:{user}   a staff member's chosen status (online, busy, away)
  booth:{id}:presence        the last presence broadcast, so an unchanged one is not resent
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ClientIdReused, NotFound
from fairserver.rooms.notify import MissedEvent, Outbound, moderators_room, user_room
from fairserver.store import booth_live as store
from fairserver.store import events as event_log
from fairserver.store.booth_live import BoothMessageRow, NewBoothMessage

# Clients heartbeat every 20 s; three missed beats and they no longer count.
PRESENCE_TTL = 60.0
STATUS_TTL = 12 * 3600.0
RECENT_MESSAGES = 50
STAFF_STATUSES = ("online", "busy", "away")


@dataclass(frozen=True)
class Booth:
    id: int
    fair_id: int
    company_id: int
    company_name: str

    @property
    def room(self) -> str:
        return booth_room(self.id)

    @property
    def staff_room(self) -> str:
        return moderators_room(self.room)


def booth_room(booth_id: int) -> str:
    return f"booth:{booth_id}"


def is_staff(actor: Actor, booth: Booth) -> bool:
    """The booth's staff are the recruiters of its company."""
    return actor.role == "recruiter" and actor.company_id == booth.company_id


class StaffMember(Outbound):
    user_id: int
    name: str
    status: str


class Presence(Outbound):
    booth_id: int
    staff: list[StaffMember]
    visitors: int


class Message(Outbound):
    booth_id: int
    room: str
    seq: int | None
    id: int
    author_id: int
    author: str
    staff: bool
    body: str
    created_at: datetime
    recipient_id: int | None = None


class MessageDeleted(Outbound):
    booth_id: int
    room: str
    seq: int
    id: int


class Posted(Message):
    """booth.chat's and booth.dm's answer: the message, and whether it is a retry."""

    duplicate: bool


class Deleted(MessageDeleted):
    """booth.chat_delete's answer for the deletion that happened."""

    duplicate: Literal[False] = False


class DeletedBefore(Outbound):
    """booth.chat_delete's answer for a message deleted already."""

    id: int
    duplicate: Literal[True] = True


class BoothSnapshot(Outbound):
    """The booth part of booth.join's answer (rooms/booths/calls.py adds the queue)."""

    booth_id: int
    room: str
    is_staff: bool
    last_event_id: int
    staff: list[StaffMember]
    visitors: int
    messages: list[Message]
    missed: list[MissedEvent] | None


# --- presence (B3) ---------------------------------------------------------------------


def status_key(booth: Booth, user_id: int) -> str:
    return f"{booth.room}:status:{user_id}"


def staff_presence_key(booth: Booth) -> str:
    return f"{booth.room}:staff"


def staff_on_duty(staff_presence: dict[str, str]) -> dict[int, str]:
    """user id -> name of the staff present, one entry per person whatever their tabs."""
    names: dict[int, str] = {}
    for value in staff_presence.values():
        info = json.loads(value)
        names[int(info["user_id"])] = str(info["name"])
    return names


def count_available(on_duty: Iterable[int], statuses: Mapping[int, str | None]) -> int:
    """Staff present whose status (online when never set) is not away."""
    return sum(1 for user_id in on_duty if (statuses.get(user_id) or "online") != "away")


async def touch(services: Services, connection_id: str, actor: Actor, booth: Booth) -> None:
    """Marks the connection present for PRESENCE_TTL more seconds."""
    assert actor.user_id is not None
    if is_staff(actor, booth):
        value = json.dumps({"user_id": actor.user_id, "name": actor.display_name})
        await services.live.presence_touch(
            staff_presence_key(booth), connection_id, value, PRESENCE_TTL
        )
    else:
        await services.live.presence_touch(
            f"{booth.room}:visitors", connection_id, str(actor.user_id), PRESENCE_TTL
        )


async def drop(services: Services, connection_id: str, booth: Booth) -> None:
    await services.live.presence_drop(staff_presence_key(booth), connection_id)
    await services.live.presence_drop(f"{booth.room}:visitors", connection_id)


async def presence_of(services: Services, booth: Booth) -> Presence:
    """Staff on duty (one entry per person, whatever their tabs) and visitors per user."""
    names = staff_on_duty(await services.live.presence(staff_presence_key(booth)))
    staff = [
        StaffMember(
            user_id=user_id,
            name=name,
            status=await services.live.get(status_key(booth, user_id)) or "online",
        )
        for user_id, name in sorted(names.items(), key=lambda item: (item[1], item[0]))
    ]
    visitors = set((await services.live.presence(f"{booth.room}:visitors")).values())
    return Presence(booth_id=booth.id, staff=staff, visitors=len(visitors))


async def available_staff(services: Services, booth: Booth) -> int:
    """Staff present and not away: the ETA divides the queue among them."""
    presence = await presence_of(services, booth)
    return sum(1 for member in presence.staff if member.status != "away")


async def visitor_ids(services: Services, booth: Booth) -> set[int]:
    return {int(v) for v in (await services.live.presence(f"{booth.room}:visitors")).values()}


async def publish_presence(services: Services, booth: Booth) -> Presence:
    """Broadcasts presence to the booth when it differs from the last broadcast."""
    current = await presence_of(services, booth)
    digest = current.model_dump_json()
    key = f"{booth.room}:presence"
    if await services.live.get(key) != digest:
        await services.live.put(key, digest, ttl=STATUS_TTL)
        await services.notifier.emit(booth.room, "booth.presence", current)
    return current


async def set_status(services: Services, actor: Actor, booth: Booth, status: str) -> Presence:
    assert actor.user_id is not None
    await services.live.put(status_key(booth, actor.user_id), status, ttl=STATUS_TTL)
    return await publish_presence(services, booth)


# --- joining and leaving ---------------------------------------------------------------


async def enter(
    services: Services, connection_id: str, actor: Actor, booth: Booth, after: int | None
) -> BoothSnapshot:
    """Presence, then the snapshot: presence, recent lobby chat, replay since `after`."""
    await touch(services, connection_id, actor, booth)
    presence = await publish_presence(services, booth)
    staff = is_staff(actor, booth)
    async with services.db.connect() as conn:
        last = await event_log.last_seq(conn, booth.room)
        missed = (
            await event_log.since(
                conn, booth.room, after, user_id=actor.user_id or 0, moderator=staff
            )
            if after is not None
            else None
        )
        rows = await store.recent_messages(conn, booth.room, RECENT_MESSAGES)
    return BoothSnapshot(
        booth_id=booth.id,
        room=booth.room,
        is_staff=staff,
        last_event_id=last,
        staff=presence.staff,
        visitors=presence.visitors,
        messages=[_message(booth, row, None) for row in rows],
        missed=None if missed is None else [MissedEvent(**asdict(m)) for m in missed],
    )


async def leave(services: Services, connection_id: str, booth: Booth) -> None:
    await drop(services, connection_id, booth)
    await publish_presence(services, booth)


# --- lobby chat and private messages (B4) ----------------------------------------------


def _message(booth: Booth, row: BoothMessageRow, seq: int | None) -> Message:
    return Message(
        booth_id=booth.id,
        room=booth.room,
        seq=seq,
        id=row.id,
        author_id=row.author_id,
        author=row.author,
        staff=row.author_role == "recruiter" and row.author_company_id == booth.company_id,
        body=row.body,
        created_at=row.created_at,
        recipient_id=row.recipient_id,
    )


async def _store_message(
    services: Services,
    actor: Actor,
    booth: Booth,
    body: str,
    client_id: str,
    recipient_id: int | None,
) -> tuple[Message, list[tuple[int | None, int]]] | None:
    """Stores the message and its log entries in one transaction; None for a retry.

    Returns the message and (audience, seq) pairs: one public entry for the lobby, one
    per participant for a private message, so replay shows it to those two only.
    """
    assert actor.user_id is not None
    now = services.clock()
    try:
        async with services.db.begin() as conn:
            message_id = await store.insert_message(
                conn,
                NewBoothMessage(
                    room=booth.room,
                    fair_id=booth.fair_id,
                    author_id=actor.user_id,
                    recipient_id=recipient_id,
                    client_id=client_id,
                    body=body,
                    created_at=now,
                ),
            )
            row = BoothMessageRow(
                id=message_id,
                room=booth.room,
                author_id=actor.user_id,
                recipient_id=recipient_id,
                body=body,
                created_at=now,
                author=actor.display_name,
                author_role=actor.role,
                author_company_id=actor.company_id,
            )
            message = _message(booth, row, None)
            payload = message.model_dump(mode="json", exclude={"seq"})
            audiences = [None] if recipient_id is None else [actor.user_id, recipient_id]
            event = "booth.message" if recipient_id is None else "booth.dm"
            seqs = [
                (
                    audience,
                    await event_log.append(
                        conn, booth.room, event, payload, audience_user_id=audience
                    ),
                )
                for audience in audiences
            ]
    except IntegrityError:
        return None
    return message, seqs


async def _duplicate(services: Services, actor: Actor, booth: Booth, client_id: str) -> Posted:
    assert actor.user_id is not None
    async with services.db.connect() as conn:
        row = await store.message_by_client_id(conn, booth.room, actor.user_id, client_id)
    if row is None:  # the author used this client_id in another room
        raise ClientIdReused()
    return Posted(**dict(_message(booth, row, None)), duplicate=True)


async def post_message(
    services: Services, actor: Actor, booth: Booth, body: str, client_id: str
) -> Posted:
    """Stored and numbered before anyone hears it; a retry is stored and broadcast once."""
    stored = await _store_message(services, actor, booth, body, client_id, None)
    if stored is None:
        return await _duplicate(services, actor, booth, client_id)
    message, [(_, seq)] = stored
    event = message.model_copy(update={"seq": seq})
    await services.notifier.emit(booth.room, "booth.message", event)
    return Posted(**dict(event), duplicate=False)


async def send_private(
    services: Services, actor: Actor, booth: Booth, to_user_id: int, body: str, client_id: str
) -> Posted:
    """A 1:1 message, delivered to the two users' rooms and nowhere else."""
    stored = await _store_message(services, actor, booth, body, client_id, to_user_id)
    if stored is None:
        return await _duplicate(services, actor, booth, client_id)
    message, seqs = stored
    mine: Message | None = None
    for audience, seq in seqs:
        assert audience is not None
        event = message.model_copy(update={"seq": seq})
        await services.notifier.emit(user_room(audience), "booth.dm", event)
        if audience == actor.user_id:
            mine = event
    assert mine is not None
    return Posted(**dict(mine), duplicate=False)


async def delete_message(
    services: Services, actor: Actor, booth: Booth, message_id: int
) -> Deleted | DeletedBefore:
    assert actor.user_id is not None
    now = services.clock()
    async with services.db.begin() as conn:
        if not await store.is_lobby_message(conn, booth.room, message_id):
            raise NotFound()
        if not await store.delete_message(conn, message_id, actor.user_id, now):
            return DeletedBefore(id=message_id)
        payload = {"booth_id": booth.id, "room": booth.room, "id": message_id}
        seq = await event_log.append(conn, booth.room, "booth.message_deleted", payload)
    event = MessageDeleted(booth_id=booth.id, room=booth.room, seq=seq, id=message_id)
    await services.notifier.emit(booth.room, "booth.message_deleted", event)
    return Deleted(**dict(event))


async def check_private_pair(
    services: Services, actor: Actor, booth: Booth, to_user_id: int, sender_in_booth: bool
) -> None:
    """1:1 chat only between the booth's staff and a student in the booth or its queue."""
    assert actor.user_id is not None
    async with services.db.connect() as conn:
        target = await store.user_brief(conn, to_user_id)
        if target is None or target.id == actor.user_id:
            raise NotFound()
        if is_staff(actor, booth) and target.role == "student":
            student_id = target.id
            in_booth = student_id in await visitor_ids(services, booth)
        elif actor.role == "student" and (
            target.role == "recruiter" and target.company_id == booth.company_id
        ):
            student_id, in_booth = actor.user_id, sender_in_booth
        else:
            raise NotFound()
        queued = await store.open_entry(conn, booth.id, student_id) is not None
    if not (in_booth or queued):
        raise NotFound()
