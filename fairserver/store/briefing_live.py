"""SQL for a briefing's live side: questions and votes, chat, mutes and bans, the Q&A export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all, fetch_one

q, qv, u, cm, rb = t.questions, t.question_votes, t.users, t.chat_messages, t.room_bans
RECENT_MESSAGES = 100


def _question_select() -> sa.Select[Any]:
    return sa.select(q, u.c.display_name.label("author_name")).select_from(
        q.join(u, u.c.id == q.c.author_id)
    )


async def briefing_row(conn: AsyncConnection, briefing_id: int) -> dict[str, Any] | None:
    b = t.briefings
    return await fetch_one(
        conn,
        sa.select(b.c.id, b.c.fair_id, b.c.company_id, b.c.status, b.c.title).where(
            b.c.id == briefing_id
        ),
    )


# Questions --------------------------------------------------------------------


async def insert_question(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(q.insert().values(**values).returning(q.c.id))
    return int(result.scalar_one())


async def question(
    conn: AsyncConnection, briefing_id: int, question_id: int
) -> dict[str, Any] | None:
    """A question of this briefing, with its author's name; another briefing's is missing."""
    return await fetch_one(
        conn, _question_select().where(q.c.briefing_id == briefing_id, q.c.id == question_id)
    )


async def question_by_client(
    conn: AsyncConnection, author_id: int, client_id: str
) -> dict[str, Any] | None:
    return await fetch_one(
        conn, _question_select().where(q.c.author_id == author_id, q.c.client_id == client_id)
    )


async def questions_for(
    conn: AsyncConnection, briefing_id: int, *, everything: bool, author_id: int
) -> list[dict[str, Any]]:
    """Moderators get every question; others the public ones and their own."""
    stmt = _question_select().where(q.c.briefing_id == briefing_id)
    if not everything:
        stmt = stmt.where(
            sa.or_(q.c.state.in_(("approved", "answered")), q.c.author_id == author_id)
        )
    return await fetch_all(conn, stmt.order_by(q.c.id))


async def update_question(conn: AsyncConnection, question_id: int, values: dict[str, Any]) -> None:
    await conn.execute(q.update().where(q.c.id == question_id).values(**values))


async def add_vote(conn: AsyncConnection, question_id: int, user_id: int, now: datetime) -> bool:
    """True when this vote is new. The primary key keeps one vote per student, even when
    two of their requests race: the loser's insert does nothing."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    result = await conn.execute(
        insert(qv)
        .values(question_id=question_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["question_id", "user_id"])
    )
    if not result.rowcount:
        return False
    await conn.execute(q.update().where(q.c.id == question_id).values(votes=q.c.votes + 1))
    return True


async def remove_vote(conn: AsyncConnection, question_id: int, user_id: int) -> bool:
    result = await conn.execute(
        qv.delete().where(qv.c.question_id == question_id, qv.c.user_id == user_id)
    )
    if not result.rowcount:
        return False
    await conn.execute(q.update().where(q.c.id == question_id).values(votes=q.c.votes - 1))
    return True


async def vote_counts(conn: AsyncConnection, question_ids: list[int]) -> dict[int, int]:
    rows = await conn.execute(sa.select(q.c.id, q.c.votes).where(q.c.id.in_(question_ids)))
    return {int(qid): int(votes) for qid, votes in rows}


async def vote_count(conn: AsyncConnection, question_id: int) -> int:
    return int(
        (await conn.execute(sa.select(q.c.votes).where(q.c.id == question_id))).scalar() or 0
    )


async def votes_of(conn: AsyncConnection, briefing_id: int, user_id: int) -> list[int]:
    rows = await conn.execute(
        sa.select(qv.c.question_id)
        .select_from(qv.join(q, q.c.id == qv.c.question_id))
        .where(q.c.briefing_id == briefing_id, qv.c.user_id == user_id)
        .order_by(qv.c.question_id)
    )
    return [int(r) for r in rows.scalars()]


async def export_questions(conn: AsyncConnection, briefing_id: int) -> list[dict[str, Any]]:
    return await fetch_all(
        conn, _question_select().where(q.c.briefing_id == briefing_id).order_by(q.c.id)
    )


# Chat ---------------------------------------------------------------------------


def _message_select() -> sa.Select[Any]:
    return sa.select(
        cm.c.id, cm.c.body, cm.c.author_id, cm.c.created_at, u.c.display_name.label("author")
    ).select_from(cm.join(u, u.c.id == cm.c.author_id))


async def insert_message(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(cm.insert().values(**values).returning(cm.c.id))
    return int(result.scalar_one())


async def message_by_client(
    conn: AsyncConnection, room: str, author_id: int, client_id: str
) -> dict[str, Any] | None:
    return await fetch_one(
        conn,
        _message_select().where(
            cm.c.room == room, cm.c.author_id == author_id, cm.c.client_id == client_id
        ),
    )


async def recent_messages(conn: AsyncConnection, room: str) -> list[dict[str, Any]]:
    """The last messages of a room that nobody deleted, oldest first."""
    rows = await fetch_all(
        conn,
        _message_select()
        .where(cm.c.room == room, cm.c.recipient_id.is_(None), cm.c.deleted_at.is_(None))
        .order_by(cm.c.id.desc())
        .limit(RECENT_MESSAGES),
    )
    return rows[::-1]


async def delete_message(
    conn: AsyncConnection, room: str, message_id: int, by_user_id: int, now: datetime
) -> bool:
    """False when the message is missing, in another room, or deleted already."""
    result = await conn.execute(
        cm.update()
        .where(cm.c.id == message_id, cm.c.room == room, cm.c.deleted_at.is_(None))
        .values(deleted_at=now, deleted_by=by_user_id)
    )
    return bool(result.rowcount)


# Mutes and bans ---------------------------------------------------------------------


async def restrictions(
    conn: AsyncConnection, room: str, user_id: int, now: datetime
) -> dict[str, datetime | None]:
    """Active restrictions of a user in a room: kind ('mute'/'ban') -> until (None: no end)."""
    rows = await conn.execute(
        sa.select(rb.c.kind, rb.c.until).where(
            rb.c.room == room,
            rb.c.user_id == user_id,
            sa.or_(rb.c.until.is_(None), rb.c.until > now),
        )
    )
    return {row.kind: row.until for row in rows}


async def restrict(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Sets (or replaces) a mute or ban of a user in a room."""
    await conn.execute(
        rb.delete().where(
            rb.c.room == values["room"],
            rb.c.user_id == values["user_id"],
            rb.c.kind == values["kind"],
        )
    )
    await conn.execute(rb.insert().values(**values))


async def lift(conn: AsyncConnection, room: str, user_id: int) -> bool:
    result = await conn.execute(rb.delete().where(rb.c.room == room, rb.c.user_id == user_id))
    return bool(result.rowcount)


async def user_row(conn: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    return await fetch_one(
        conn,
        sa.select(u.c.id, u.c.display_name, u.c.role, u.c.school_id, u.c.company_id).where(
            u.c.id == user_id, u.c.disabled_at.is_(None)
        ),
    )
