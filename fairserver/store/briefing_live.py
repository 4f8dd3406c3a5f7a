"""SQL for a briefing's live side: questions and votes, chat, mutes and bans, the Q&A export."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

q, qv, u, cm, rb = t.questions, t.question_votes, t.users, t.chat_messages, t.room_bans
RECENT_MESSAGES = 100


@dataclass(frozen=True, slots=True)
class LiveBriefingRow:
    """What the live room needs of a briefing: whose it is and whether it is open."""

    id: int
    fair_id: int
    company_id: int
    status: str
    title: str


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A stored question, with its author's display name."""

    id: int
    briefing_id: int
    author_id: int
    client_id: str
    body: str
    anonymous: bool
    state: str
    dismiss_reason: str
    pinned: bool
    votes: int
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
    author_name: str


@dataclass(frozen=True, slots=True)
class NewQuestion:
    briefing_id: int
    author_id: int
    client_id: str
    body: str
    anonymous: bool
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class QuestionChange:
    """What a moderator's action sets on a question; None leaves a column as it is."""

    state: str | None = None
    dismiss_reason: str | None = None
    pinned: bool | None = None
    answered_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A room chat message as shown: its author's display name in ``author``."""

    id: int
    body: str
    author_id: int
    created_at: datetime
    author: str


@dataclass(frozen=True, slots=True)
class NewMessage:
    room: str
    fair_id: int
    author_id: int
    client_id: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewRestriction:
    room: str
    user_id: int
    kind: str  # mute or ban
    until: datetime | None
    by_user_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    display_name: str
    role: str
    school_id: int | None
    company_id: int | None


def _question_select() -> sa.Select[Any]:
    return sa.select(q, u.c.display_name.label("author_name")).select_from(
        q.join(u, u.c.id == q.c.author_id)
    )


async def briefing_row(conn: AsyncConnection, briefing_id: int) -> LiveBriefingRow | None:
    b = t.briefings
    return await fetch_one_as(
        conn,
        sa.select(b.c.id, b.c.fair_id, b.c.company_id, b.c.status, b.c.title).where(
            b.c.id == briefing_id
        ),
        LiveBriefingRow,
    )


# Questions --------------------------------------------------------------------


async def insert_question(conn: AsyncConnection, new: NewQuestion) -> int:
    result = await conn.execute(q.insert().values(**asdict(new)).returning(q.c.id))
    return int(result.scalar_one())


async def question(conn: AsyncConnection, briefing_id: int, question_id: int) -> QuestionRow | None:
    """A question of this briefing, with its author's name; another briefing's is missing."""
    return await fetch_one_as(
        conn,
        _question_select().where(q.c.briefing_id == briefing_id, q.c.id == question_id),
        QuestionRow,
    )


async def question_by_client(
    conn: AsyncConnection, author_id: int, client_id: str
) -> QuestionRow | None:
    return await fetch_one_as(
        conn,
        _question_select().where(q.c.author_id == author_id, q.c.client_id == client_id),
        QuestionRow,
    )


async def questions_for(
    conn: AsyncConnection, briefing_id: int, *, everything: bool, author_id: int
) -> list[QuestionRow]:
    """Moderators get every question; others the public ones and their own."""
    stmt = _question_select().where(q.c.briefing_id == briefing_id)
    if not everything:
        stmt = stmt.where(
            sa.or_(q.c.state.in_(("approved", "answered")), q.c.author_id == author_id)
        )
    return await fetch_all_as(conn, stmt.order_by(q.c.id), QuestionRow)


async def update_question(
    conn: AsyncConnection, question_id: int, change: QuestionChange, now: datetime
) -> None:
    await conn.execute(
        q.update().where(q.c.id == question_id).values(**change.values(), updated_at=now)
    )


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


async def export_questions(conn: AsyncConnection, briefing_id: int) -> list[QuestionRow]:
    return await fetch_all_as(
        conn,
        _question_select().where(q.c.briefing_id == briefing_id).order_by(q.c.id),
        QuestionRow,
    )


# Chat ---------------------------------------------------------------------------


def _message_select() -> sa.Select[Any]:
    return sa.select(
        cm.c.id, cm.c.body, cm.c.author_id, cm.c.created_at, u.c.display_name.label("author")
    ).select_from(cm.join(u, u.c.id == cm.c.author_id))


async def insert_message(conn: AsyncConnection, new: NewMessage) -> int:
    result = await conn.execute(cm.insert().values(**asdict(new)).returning(cm.c.id))
    return int(result.scalar_one())


async def message_by_client(
    conn: AsyncConnection, room: str, author_id: int, client_id: str
) -> MessageRow | None:
    return await fetch_one_as(
        conn,
        _message_select().where(
            cm.c.room == room, cm.c.author_id == author_id, cm.c.client_id == client_id
        ),
        MessageRow,
    )


async def recent_messages(conn: AsyncConnection, room: str) -> list[MessageRow]:
    """The last messages of a room that nobody deleted, oldest first."""
    rows = await fetch_all_as(
        conn,
        _message_select()
        .where(cm.c.room == room, cm.c.recipient_id.is_(None), cm.c.deleted_at.is_(None))
        .order_by(cm.c.id.desc())
        .limit(RECENT_MESSAGES),
        MessageRow,
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


async def restrict(conn: AsyncConnection, new: NewRestriction) -> None:
    """Sets (or replaces) a mute or ban of a user in a room."""
    await conn.execute(
        rb.delete().where(rb.c.room == new.room, rb.c.user_id == new.user_id, rb.c.kind == new.kind)
    )
    await conn.execute(rb.insert().values(**asdict(new)))


async def lift(conn: AsyncConnection, room: str, user_id: int) -> bool:
    result = await conn.execute(rb.delete().where(rb.c.room == room, rb.c.user_id == user_id))
    return bool(result.rowcount)


async def user_row(conn: AsyncConnection, user_id: int) -> UserRow | None:
    return await fetch_one_as(
        conn,
        sa.select(u.c.id, u.c.display_name, u.c.role, u.c.school_id, u.c.company_id).where(
            u.c.id == user_id, u.c.disabled_at.is_(None)
        ),
        UserRow,
    )
