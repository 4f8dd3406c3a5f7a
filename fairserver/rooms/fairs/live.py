"""A fair's live side: who is in it, its announcements, and replay of its events."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.permissions import FairAccess
from fairserver.rooms.context import Services
from fairserver.rooms.notify import MissedEvent, Outbound
from fairserver.store import events as event_log
from fairserver.store import fairs as store
from fairserver.store.fairs import AnnouncementRow, NewAnnouncement

PRESENCE_TTL = 60.0  # seconds; refreshed by the worker's heartbeat
RECENT_ANNOUNCEMENTS = 20


def fair_room(fair_id: int) -> str:
    return f"fair:{fair_id}"


def staff_room(fair_id: int) -> str:
    return f"fair:{fair_id}:staff"


class Announcement(Outbound):
    room: str
    seq: int
    id: int
    body: str
    author: str
    created_at: datetime


class AnnouncedBefore(Outbound):
    """fair.announce's answer for a retry: the announcement as first stored."""

    id: int
    body: str
    duplicate: Literal[True] = True


class OnlineCount(Outbound):
    room: str
    online: int


class RecentAnnouncement(Outbound):
    id: int
    body: str
    created_at: str  # isoformat ("+00:00"), as the log's payloads have it
    author: str


class FairSnapshot(Outbound):
    """fair.join's answer."""

    room: str
    fair_id: int
    last_event_id: int
    online: int
    announcements: list[RecentAnnouncement]
    missed: list[MissedEvent] | None


async def online_users(services: Services, fair_id: int) -> dict[int, str]:
    """user id -> role, for everyone with at least one live connection in the fair."""
    members = await services.live.presence(fair_room(fair_id))
    users: dict[int, str] = {}
    for value in members.values():
        user_id, _, role = value.partition(":")
        users[int(user_id)] = role
    return users


async def enter(
    services: Services, connection_id: str, actor: Actor, access: FairAccess, after: int | None
) -> FairSnapshot:
    room = fair_room(access.id)
    await touch(services, connection_id, actor, access.id)
    online = len(await online_users(services, access.id))
    await services.notifier.emit(
        staff_room(access.id), "fair.online", OnlineCount(room=room, online=online)
    )
    async with services.db.connect() as conn:
        last = await event_log.last_seq(conn, room)
        missed = (
            await event_log.since(conn, room, after, user_id=actor.user_id or 0, moderator=False)
            if after is not None
            else None
        )
        recent = await store.recent_announcements(conn, access.id, RECENT_ANNOUNCEMENTS)
    return FairSnapshot(
        room=room,
        fair_id=access.id,
        last_event_id=last,
        online=online,
        announcements=[_recent(row) for row in recent],
        missed=None if missed is None else [MissedEvent(**asdict(m)) for m in missed],
    )


async def touch(services: Services, connection_id: str, actor: Actor, fair_id: int) -> None:
    value = f"{actor.user_id}:{actor.role}"
    await services.live.presence_touch(fair_room(fair_id), connection_id, value, PRESENCE_TTL)


async def leave(services: Services, connection_id: str, actor: Actor, fair_id: int) -> None:
    room = fair_room(fair_id)
    if await services.live.presence_drop(room, connection_id):
        online = len(await online_users(services, fair_id))
        await services.notifier.emit(
            staff_room(fair_id), "fair.online", OnlineCount(room=room, online=online)
        )


def _recent(row: AnnouncementRow) -> RecentAnnouncement:
    return RecentAnnouncement(
        id=row.id, body=row.body, created_at=row.created_at.isoformat(), author=row.author
    )


async def announce(
    services: Services, actor: Actor, fair_id: int, body: str, client_id: str
) -> Announcement | AnnouncedBefore:
    """Stored and numbered before anyone hears it; a retried send is stored once."""
    assert actor.user_id is not None
    author_id = actor.user_id
    room = fair_room(fair_id)
    now = services.clock()
    try:
        async with services.db.begin() as conn:
            announcement_id = await store.insert_announcement(
                conn,
                NewAnnouncement(
                    fair_id=fair_id,
                    author_id=author_id,
                    client_id=client_id,
                    body=body,
                    created_at=now,
                ),
            )
            message = {
                "id": announcement_id,
                "body": body,
                "author": actor.display_name,
                "created_at": now.isoformat(),
            }
            seq = await event_log.append(conn, room, "fair.announcement", message)
    except IntegrityError:
        return await _existing_announcement(services, actor, client_id)
    event = Announcement(
        room=room, seq=seq, id=announcement_id, body=body, author=actor.display_name, created_at=now
    )
    await services.notifier.emit(room, "fair.announcement", event)
    return event


async def _existing_announcement(
    services: Services, actor: Actor, client_id: str
) -> AnnouncedBefore:
    assert actor.user_id is not None
    async with services.db.connect() as conn:
        row = await store.announcement_by_client_id(conn, actor.user_id, client_id)
    assert row is not None  # the unique constraint just refused this pair
    return AnnouncedBefore(id=row.id, body=row.body)
