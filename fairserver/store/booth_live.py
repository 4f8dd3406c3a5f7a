"""SQL for a booth's live side: lobby and private chat, queue history, candidate marks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all, fetch_all_as, fetch_one_as

cm, q, u = t.chat_messages, t.queue_entries, t.users


@dataclass(frozen=True, slots=True)
class BoothMessageRow:
    """A lobby or private message with what its author's badge needs."""

    id: int
    room: str
    author_id: int
    recipient_id: int | None
    body: str
    created_at: datetime
    author: str
    author_role: str
    author_company_id: int | None


@dataclass(frozen=True, slots=True)
class NewBoothMessage:
    room: str
    fair_id: int
    author_id: int
    recipient_id: int | None
    client_id: str
    body: str
    created_at: datetime


def _message_columns() -> list[Any]:
    return [
        cm.c.id,
        cm.c.room,
        cm.c.author_id,
        cm.c.recipient_id,
        cm.c.body,
        cm.c.created_at,
        u.c.display_name.label("author"),
        u.c.role.label("author_role"),
        u.c.company_id.label("author_company_id"),
    ]


async def recent_messages(conn: AsyncConnection, room: str, limit: int) -> list[BoothMessageRow]:
    """The room's last lobby messages (not private, not deleted), oldest first."""
    stmt = (
        sa.select(*_message_columns())
        .join(u, u.c.id == cm.c.author_id)
        .where(cm.c.room == room, cm.c.recipient_id.is_(None), cm.c.deleted_at.is_(None))
        .order_by(cm.c.id.desc())
        .limit(limit)
    )
    return list(reversed(await fetch_all_as(conn, stmt, BoothMessageRow)))


async def insert_message(conn: AsyncConnection, new: NewBoothMessage) -> int:
    result = await conn.execute(cm.insert().values(**asdict(new)).returning(cm.c.id))
    return int(result.scalar_one())


async def message_by_client_id(
    conn: AsyncConnection, room: str, author_id: int, client_id: str
) -> BoothMessageRow | None:
    stmt = (
        sa.select(*_message_columns())
        .join(u, u.c.id == cm.c.author_id)
        .where(cm.c.room == room, cm.c.author_id == author_id, cm.c.client_id == client_id)
    )
    return await fetch_one_as(conn, stmt, BoothMessageRow)


async def is_lobby_message(conn: AsyncConnection, room: str, message_id: int) -> bool:
    """Whether the message is this room's lobby chat (not private, deleted or not)."""
    stmt = sa.select(cm.c.id).where(
        cm.c.id == message_id, cm.c.room == room, cm.c.recipient_id.is_(None)
    )
    return (await conn.execute(stmt)).first() is not None


async def delete_message(
    conn: AsyncConnection, message_id: int, by_user_id: int, at: datetime
) -> bool:
    result = await conn.execute(
        cm.update()
        .where(cm.c.id == message_id, cm.c.deleted_at.is_(None))
        .values(deleted_at=at, deleted_by=by_user_id)
    )
    return bool(result.rowcount)


# --- the queue's history -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryRow:
    """A queue entry, with the student's display name."""

    id: int
    booth_id: int
    student_id: int
    joined_at: datetime
    called_at: datetime | None
    called_by: int | None
    ended_at: datetime | None
    outcome: str | None
    student_name: str


@dataclass(frozen=True, slots=True)
class OpenEntryRow:
    """An open entry as the queue's snapshot reads it, with the calling recruiter's name;
    ``state`` (waiting, called or chatting) is decided from live state by queue.load."""

    id: int
    student_id: int
    student_name: str
    joined_at: datetime
    called_at: datetime | None
    called_by: int | None
    recruiter_name: str | None
    ended_at: datetime | None
    outcome: str | None
    state: str = ""


@dataclass(frozen=True, slots=True)
class LastEntry:
    id: int
    outcome: str | None


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """What one queue_snapshot statement read (see its docstring)."""

    open: list[OpenEntryRow] = field(default_factory=list)
    served: list[float] = field(default_factory=list)  # seconds, newest chat first
    staff: list[int] = field(default_factory=list)
    last: LastEntry | None = None


@dataclass(frozen=True, slots=True)
class WaitingPlace:
    """A student's not-yet-called place in one booth's queue."""

    id: int
    booth_id: int
    fair_id: int
    company_id: int


def _entry_columns() -> list[Any]:
    return [q, u.c.display_name.label("student_name")]


async def open_entry(conn: AsyncConnection, booth_id: int, student_id: int) -> EntryRow | None:
    stmt = (
        sa.select(*_entry_columns())
        .join(u, u.c.id == q.c.student_id)
        .where(q.c.booth_id == booth_id, q.c.student_id == student_id, q.c.ended_at.is_(None))
        .order_by(q.c.id.desc())
        .limit(1)
    )
    return await fetch_one_as(conn, stmt, EntryRow)


async def last_entry(conn: AsyncConnection, booth_id: int, student_id: int) -> EntryRow | None:
    stmt = (
        sa.select(*_entry_columns())
        .join(u, u.c.id == q.c.student_id)
        .where(q.c.booth_id == booth_id, q.c.student_id == student_id)
        .order_by(q.c.id.desc())
        .limit(1)
    )
    return await fetch_one_as(conn, stmt, EntryRow)


async def open_entries(conn: AsyncConnection, booth_id: int) -> list[EntryRow]:
    """Everyone waiting, called or chatting at the booth, in the order they joined."""
    stmt = (
        sa.select(*_entry_columns())
        .join(u, u.c.id == q.c.student_id)
        .where(q.c.booth_id == booth_id, q.c.ended_at.is_(None))
        .order_by(q.c.joined_at, q.c.id)
    )
    return await fetch_all_as(conn, stmt, EntryRow)


async def waiting_entries_of_student(
    conn: AsyncConnection, student_id: int, fair_id: int
) -> list[WaitingPlace]:
    """A student's places in the queues of one fair that are not called yet."""
    b = t.booths
    stmt = (
        sa.select(q.c.id, q.c.booth_id, b.c.fair_id, b.c.company_id)
        .join(b, b.c.id == q.c.booth_id)
        .where(
            q.c.student_id == student_id,
            q.c.ended_at.is_(None),
            q.c.called_at.is_(None),
            b.c.fair_id == fair_id,
        )
    )
    return await fetch_all_as(conn, stmt, WaitingPlace)


def _kind(name: str) -> Any:
    return sa.literal(name, sa.String).label("kind")


def _none(column: Any) -> Any:
    return sa.cast(sa.null(), column.type).label(column.key)


async def queue_snapshot(
    conn: AsyncConnection,
    booth_id: int,
    company_id: int,
    student_id: int | None,
    recent: int,
) -> QueueRecord:
    """Everything the booth's queue events need, in one statement (a UNION ALL):
    open    every open entry, with the student's and the calling recruiter's names,
            in the order they joined (the queue's order: docs/decisions.md §20)
    served  (called_at, ended_at) of the booth's last `recent` served chats
    staff   the ids of the company's recruiters (whose status keys the ETA reads)
    last    the student's last entry at the booth, open or ended (when a student is given)
    """
    recruiter = u.alias("recruiter")
    columns = (
        q.c.id,
        q.c.student_id,
        u.c.display_name.label("student_name"),
        q.c.joined_at,
        q.c.called_at,
        q.c.called_by,
        recruiter.c.display_name.label("recruiter_name"),
        q.c.ended_at,
        q.c.outcome,
    )
    nulls = {c.key: _none(c) for c in columns}

    def shaped(kind: str, **given: Any) -> Any:
        return sa.select(_kind(kind), *(given.get(c.key, nulls[c.key]) for c in columns))

    open_entries = (
        sa.select(_kind("open"), *columns)
        .select_from(
            q.join(u, u.c.id == q.c.student_id).outerjoin(
                recruiter,
                sa.and_(recruiter.c.id == q.c.called_by, recruiter.c.disabled_at.is_(None)),
            )
        )
        .where(q.c.booth_id == booth_id, q.c.ended_at.is_(None))
    )
    served = (
        sa.select(q.c.called_at, q.c.ended_at)
        .where(q.c.booth_id == booth_id, q.c.outcome == "served", q.c.called_at.is_not(None))
        .order_by(q.c.ended_at.desc())
        .limit(recent)
        .subquery()
    )
    parts = [
        open_entries,
        shaped("served", called_at=served.c.called_at, ended_at=served.c.ended_at).select_from(
            served
        ),
        shaped("staff", id=u.c.id).where(u.c.company_id == company_id, u.c.role == "recruiter"),
    ]
    if student_id is not None:
        last = (
            sa.select(q.c.id, q.c.outcome)
            .where(q.c.booth_id == booth_id, q.c.student_id == student_id)
            .order_by(q.c.id.desc())
            .limit(1)
            .subquery()
        )
        parts.append(shaped("last", id=last.c.id, outcome=last.c.outcome).select_from(last))
    rows = await fetch_all(conn, sa.union_all(*parts))
    record = QueueRecord()
    last_seen: LastEntry | None = None
    for row in rows:
        kind = row.pop("kind")
        if kind == "open":
            record.open.append(OpenEntryRow(**row))
        elif kind == "served":
            record.served.append((row["ended_at"] - row["called_at"]).total_seconds())
        elif kind == "staff":
            record.staff.append(int(row["id"]))
        else:
            last_seen = LastEntry(id=int(row["id"]), outcome=row["outcome"])
    record.open.sort(key=lambda row: (row.joined_at, row.id))
    return QueueRecord(open=record.open, served=record.served, staff=record.staff, last=last_seen)


async def insert_entry_unless_open(
    conn: AsyncConnection, booth_id: int, student_id: int, joined_at: datetime
) -> int | None:
    """A new waiting entry, in one statement; None when the student has an open one."""
    already = sa.exists().where(
        q.c.booth_id == booth_id, q.c.student_id == student_id, q.c.ended_at.is_(None)
    )
    values = sa.select(
        sa.literal(booth_id, sa.Integer),
        sa.literal(student_id, sa.Integer),
        sa.literal(joined_at, q.c.joined_at.type),
    ).where(~already)
    stmt = (
        q.insert()
        .from_select([q.c.booth_id, q.c.student_id, q.c.joined_at], values)
        .returning(q.c.id)
    )
    return cast(int | None, (await conn.execute(stmt)).scalar_one_or_none())


async def mark_called(
    conn: AsyncConnection, entry_id: int, recruiter_id: int, at: datetime
) -> bool:
    result = await conn.execute(
        q.update()
        .where(q.c.id == entry_id, q.c.ended_at.is_(None), q.c.called_at.is_(None))
        .values(called_at=at, called_by=recruiter_id)
    )
    return bool(result.rowcount)


async def end_entry(
    conn: AsyncConnection, entry_id: int, outcome: str, at: datetime, *, waiting: bool = False
) -> bool:
    """Ends an open entry; False when it had ended already (someone else decided first),
    or, with `waiting`, when it is no longer waiting (the student was called meanwhile)."""
    stmt = q.update().where(q.c.id == entry_id, q.c.ended_at.is_(None))
    if waiting:
        stmt = stmt.where(q.c.called_at.is_(None))
    result = await conn.execute(stmt.values(ended_at=at, outcome=outcome))
    return bool(result.rowcount)


async def entry(conn: AsyncConnection, entry_id: int) -> EntryRow | None:
    stmt = sa.select(*_entry_columns()).join(u, u.c.id == q.c.student_id).where(q.c.id == entry_id)
    return await fetch_one_as(conn, stmt, EntryRow)


async def served_durations(conn: AsyncConnection, booth_id: int, limit: int) -> list[float]:
    """Seconds from call to end of the booth's last `limit` served chats."""
    stmt = (
        sa.select(q.c.called_at, q.c.ended_at)
        .where(q.c.booth_id == booth_id, q.c.outcome == "served", q.c.called_at.is_not(None))
        .order_by(q.c.ended_at.desc())
        .limit(limit)
    )
    rows = await fetch_all(conn, stmt)
    return [(r["ended_at"] - r["called_at"]).total_seconds() for r in rows]


async def met_at_booth(conn: AsyncConnection, booth_id: int, student_id: int) -> bool:
    """In the booth's queue, called, chatting, or served by it: the staff may see them."""
    stmt = sa.select(sa.func.count()).where(
        q.c.booth_id == booth_id,
        q.c.student_id == student_id,
        sa.or_(q.c.ended_at.is_(None), q.c.outcome == "served"),
    )
    return bool((await conn.execute(stmt)).scalar())


# --- candidates (B7) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudentProfileRow:
    user_id: int
    display_name: str
    real_name: str
    school: str
    major: str
    degree: str
    graduation_year: int
    resume: str
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class MarkRow:
    """A company's mark on a student, with its author's and hand-over colleague's names."""

    id: int
    booth_id: int | None
    interest: str | None
    note: str
    created_at: datetime
    author: str
    handed_to: int | None
    handed_to_name: str | None


@dataclass(frozen=True, slots=True)
class NewMark:
    company_id: int
    student_id: int
    author_id: int
    booth_id: int
    interest: str
    note: str
    handed_to: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Colleague:
    id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class UserBrief:
    id: int
    display_name: str
    role: str
    company_id: int | None


async def student_profile(conn: AsyncConnection, student_id: int) -> StudentProfileRow | None:
    p, s = t.student_profiles, t.schools
    stmt = (
        sa.select(
            u.c.id.label("user_id"),
            u.c.display_name,
            p.c.real_name,
            s.c.name.label("school"),
            p.c.major,
            p.c.degree,
            p.c.graduation_year,
            p.c.resume,
            p.c.verified_at,
        )
        .select_from(u.join(p, p.c.user_id == u.c.id).join(s, s.c.id == p.c.school_id))
        .where(u.c.id == student_id, u.c.role == "student")
    )
    return await fetch_one_as(conn, stmt, StudentProfileRow)


async def company_marks(conn: AsyncConnection, company_id: int, student_id: int) -> list[MarkRow]:
    m = t.candidate_marks
    author, handed = u.alias("author"), u.alias("handed")
    stmt = (
        sa.select(
            m.c.id,
            m.c.booth_id,
            m.c.interest,
            m.c.note,
            m.c.created_at,
            author.c.display_name.label("author"),
            m.c.handed_to,
            handed.c.display_name.label("handed_to_name"),
        )
        .join(author, author.c.id == m.c.author_id)
        .outerjoin(handed, handed.c.id == m.c.handed_to)
        .where(m.c.company_id == company_id, m.c.student_id == student_id)
        .order_by(m.c.id)
    )
    return await fetch_all_as(conn, stmt, MarkRow)


async def insert_mark(conn: AsyncConnection, new: NewMark) -> int:
    m = t.candidate_marks
    result = await conn.execute(m.insert().values(**asdict(new)).returning(m.c.id))
    return int(result.scalar_one())


async def colleague(conn: AsyncConnection, company_id: int, user_id: int) -> Colleague | None:
    """An active recruiter of the company."""
    stmt = sa.select(u.c.id, u.c.display_name).where(
        u.c.id == user_id,
        u.c.role == "recruiter",
        u.c.company_id == company_id,
        u.c.disabled_at.is_(None),
    )
    return await fetch_one_as(conn, stmt, Colleague)


async def user_brief(conn: AsyncConnection, user_id: int) -> UserBrief | None:
    stmt = sa.select(u.c.id, u.c.display_name, u.c.role, u.c.company_id).where(
        u.c.id == user_id, u.c.disabled_at.is_(None)
    )
    return await fetch_one_as(conn, stmt, UserBrief)
