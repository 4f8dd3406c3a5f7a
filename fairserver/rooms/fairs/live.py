"""A fair's live side: who is in it, its announcements, and replay of its events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.permissions import FairAccess
from fairserver.rooms.context import Services
from fairserver.rooms.notify import Outbound
from fairserver.store import events as event_log
from fairserver.store import tables as t

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


class OnlineCount(Outbound):
    room: str
    online: int


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
) -> dict[str, Any]:
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
        recent = await _recent_announcements(conn, access.id)
    return {
        "room": room,
        "fair_id": access.id,
        "last_event_id": last,
        "online": online,
        "announcements": recent,
        "missed": missed,
    }


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


async def _recent_announcements(conn: Any, fair_id: int) -> list[dict[str, Any]]:
    an, u = t.announcements, t.users
    rows = await conn.execute(
        sa.select(an.c.id, an.c.body, an.c.created_at, u.c.display_name.label("author"))
        .join(u, u.c.id == an.c.author_id)
        .where(an.c.fair_id == fair_id)
        .order_by(an.c.id.desc())
        .limit(RECENT_ANNOUNCEMENTS)
    )
    return [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows.mappings()]


async def announce(
    services: Services, actor: Actor, fair_id: int, body: str, client_id: str
) -> dict[str, Any]:
    """Stored and numbered before anyone hears it; a retried send is stored once."""
    room = fair_room(fair_id)
    now = services.clock()
    try:
        async with services.db.begin() as conn:
            result = await conn.execute(
                t.announcements.insert()
                .values(
                    fair_id=fair_id,
                    author_id=actor.user_id,
                    client_id=client_id,
                    body=body,
                    created_at=now,
                )
                .returning(t.announcements.c.id)
            )
            announcement_id = int(result.scalar_one())
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
    return event.model_dump(mode="json")


async def _existing_announcement(
    services: Services, actor: Actor, client_id: str
) -> dict[str, Any]:
    an = t.announcements
    async with services.db.connect() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(an).where(
                        an.c.author_id == actor.user_id, an.c.client_id == client_id
                    )
                )
            )
            .mappings()
            .one()
        )
    return {"id": row["id"], "body": row["body"], "duplicate": True}
