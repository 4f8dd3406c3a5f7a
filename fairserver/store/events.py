"""The room event log: what each room broadcast, numbered, for replay after a reconnect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as

REPLAY_LIMIT = 500


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event of a room's log; ``payload`` is the event's own JSON as it was sent."""

    seq: int
    event: str
    payload: dict[str, Any]


async def next_seq(conn: AsyncConnection, room: str) -> int:
    """The room's next event id. The row lock taken here orders the room's commits."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(t.room_seqs)
        .values(room=room, seq=1)
        .on_conflict_do_update(index_elements=["room"], set_={"seq": t.room_seqs.c.seq + 1})
        .returning(t.room_seqs.c.seq)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def append(
    conn: AsyncConnection,
    room: str,
    event: str,
    payload: dict[str, Any],
    *,
    audience_user_id: int | None = None,
    moderators_only: bool = False,
) -> int:
    seq = await next_seq(conn, room)
    await conn.execute(
        t.room_events.insert().values(
            room=room,
            seq=seq,
            event=event,
            payload=payload,
            audience_user_id=audience_user_id,
            moderators_only=moderators_only,
            created_at=utcnow(),
        )
    )
    return seq


async def last_seq(conn: AsyncConnection, room: str) -> int:
    seq = (
        await conn.execute(sa.select(t.room_seqs.c.seq).where(t.room_seqs.c.room == room))
    ).scalar()
    return int(seq or 0)


async def since(
    conn: AsyncConnection,
    room: str,
    after: int,
    *,
    user_id: int,
    moderator: bool,
    limit: int = REPLAY_LIMIT,
) -> list[LoggedEvent]:
    """Events after `after` that this user may see, oldest first, at most `limit`."""
    e = t.room_events
    public = sa.and_(e.c.audience_user_id.is_(None), e.c.moderators_only.is_(False))
    visible = sa.or_(public, e.c.audience_user_id == user_id)
    if moderator:
        visible = sa.or_(visible, e.c.moderators_only.is_(True))
    return await fetch_all_as(
        conn,
        sa.select(e.c.seq, e.c.event, e.c.payload)
        .where(e.c.room == room, e.c.seq > after, visible)
        .order_by(e.c.seq)
        .limit(limit),
        LoggedEvent,
    )
