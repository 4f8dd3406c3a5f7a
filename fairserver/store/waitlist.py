"""SQL for waitlists (I1): a student waits for a slot of a booth or a job; a freed slot is
offered to the first one waiting. Each step is a conditional UPDATE on the entry's state,
so an offer is taken, declined or expired exactly once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as
from fairserver.store.slots import same_job

w = t.waitlist_entries
ACTIVE = ("waiting", "offered")


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    fair_id: int
    booth_id: int
    job_id: int | None
    student_id: int
    state: str  # waiting | offered | booked | expired | left
    joined_at: datetime
    offered_slot_id: int | None
    offered_at: datetime | None
    offer_expires_at: datetime | None
    ended_at: datetime | None


def _select() -> sa.Select[tuple[object, ...]]:
    return sa.select(*(w.c[f.name] for f in fields(EntryRow)))


async def entry(conn: AsyncConnection, entry_id: int) -> EntryRow | None:
    return await fetch_one_as(conn, _select().where(w.c.id == entry_id), EntryRow)


async def active_entry(
    conn: AsyncConnection, student_id: int, booth_id: int, job_id: int | None
) -> EntryRow | None:
    stmt = _select().where(
        w.c.student_id == student_id,
        w.c.booth_id == booth_id,
        same_job(w.c.job_id, job_id),
        w.c.state.in_(ACTIVE),
    )
    return await fetch_one_as(conn, stmt, EntryRow)


async def join(
    conn: AsyncConnection,
    fair_id: int,
    booth_id: int,
    job_id: int | None,
    student_id: int,
    now: datetime,
) -> None:
    """Adds the student to the scope's list. The caller holds the student's lock
    (slots.lock_student) and has checked they are not waiting already; the unique index
    uq_waitlist_active stays the last word."""
    await conn.execute(
        w.insert().values(
            fair_id=fair_id,
            booth_id=booth_id,
            job_id=job_id,
            student_id=student_id,
            state="waiting",
            joined_at=now,
        )
    )


async def position(conn: AsyncConnection, found: EntryRow) -> int:
    """1 for the first one waiting in the entry's scope."""
    stmt = sa.select(sa.func.count()).where(
        w.c.booth_id == found.booth_id,
        same_job(w.c.job_id, found.job_id),
        w.c.state == "waiting",
        sa.or_(
            w.c.joined_at < found.joined_at,
            sa.and_(w.c.joined_at == found.joined_at, w.c.id <= found.id),
        ),
    )
    return int((await conn.execute(stmt)).scalar_one())


async def first_waiting(
    conn: AsyncConnection, booth_id: int, job_id: int | None, skip: set[int]
) -> EntryRow | None:
    stmt = (
        _select()
        .where(
            w.c.booth_id == booth_id,
            same_job(w.c.job_id, job_id),
            w.c.state == "waiting",
            w.c.id.not_in(skip or {0}),
        )
        .order_by(w.c.joined_at, w.c.id)
        .limit(1)
    )
    return await fetch_one_as(conn, stmt, EntryRow)


async def offer(
    conn: AsyncConnection, entry_id: int, slot_id: int, now: datetime, expires: datetime
) -> bool:
    result = await conn.execute(
        w.update()
        .where(w.c.id == entry_id, w.c.state == "waiting")
        .values(state="offered", offered_slot_id=slot_id, offered_at=now, offer_expires_at=expires)
    )
    return result.rowcount == 1


async def take(conn: AsyncConnection, entry_id: int, student_id: int, now: datetime) -> bool:
    """offered (and not lapsed) -> booked; the one UPDATE two tabs race on."""
    result = await conn.execute(
        w.update()
        .where(
            w.c.id == entry_id,
            w.c.student_id == student_id,
            w.c.state == "offered",
            w.c.offer_expires_at > now,
        )
        .values(state="booked", ended_at=now)
    )
    return result.rowcount == 1


async def end_offer(conn: AsyncConnection, entry_id: int, state: str, now: datetime) -> bool:
    """offered -> expired (lapsed) or left (declined)."""
    result = await conn.execute(
        w.update()
        .where(w.c.id == entry_id, w.c.state == "offered")
        .values(state=state, ended_at=now)
    )
    return result.rowcount == 1


async def leave(conn: AsyncConnection, entry_id: int, student_id: int, now: datetime) -> bool:
    result = await conn.execute(
        w.update()
        .where(w.c.id == entry_id, w.c.student_id == student_id, w.c.state == "waiting")
        .values(state="left", ended_at=now)
    )
    return result.rowcount == 1


async def booked_in_scope(
    conn: AsyncConnection, student_id: int, booth_id: int, job_id: int | None, now: datetime
) -> None:
    """A student who booked a slot of a scope stops waiting in it."""
    await conn.execute(
        w.update()
        .where(
            w.c.student_id == student_id,
            w.c.booth_id == booth_id,
            same_job(w.c.job_id, job_id),
            w.c.state == "waiting",
        )
        .values(state="booked", ended_at=now)
    )


async def lapsed_offers(conn: AsyncConnection, now: datetime) -> list[EntryRow]:
    stmt = (
        _select()
        .where(w.c.state == "offered", w.c.offer_expires_at <= now)
        .order_by(w.c.offer_expires_at, w.c.id)
        .limit(200)
    )
    return await fetch_all_as(conn, stmt, EntryRow)


async def offer_of_slot(conn: AsyncConnection, slot_id: int) -> EntryRow | None:
    stmt = _select().where(w.c.offered_slot_id == slot_id, w.c.state == "offered")
    return await fetch_one_as(conn, stmt, EntryRow)


async def unoffer(conn: AsyncConnection, entry_id: int) -> bool:
    """offered -> waiting again, at the same place: the company withdrew the slot."""
    result = await conn.execute(
        w.update()
        .where(w.c.id == entry_id, w.c.state == "offered")
        .values(state="waiting", offered_slot_id=None, offered_at=None, offer_expires_at=None)
    )
    return result.rowcount == 1


async def last_entry(
    conn: AsyncConnection, student_id: int, booth_id: int, job_id: int | None
) -> EntryRow | None:
    """The student's latest entry in this scope, whatever its state."""
    stmt = _select().where(
        w.c.student_id == student_id, w.c.booth_id == booth_id, same_job(w.c.job_id, job_id)
    )
    return await fetch_one_as(conn, stmt.order_by(w.c.id.desc()).limit(1), EntryRow)
