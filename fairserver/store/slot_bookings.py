"""SQL for booked interview slots (I1): a student's bookings (their agenda), and what the
slot timers look for: reminders due and no-shows. Once-only steps are conditional UPDATEs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as

s, iv, j = t.interview_slots, t.interviews, t.jobs
LIVE_INTERVIEW = ("scheduled", "waiting")


@dataclass(frozen=True, slots=True)
class BookingRow:
    """A student's booked slot with its interview, as their agenda and reminders show it."""

    interview_id: int
    interview_state: str
    slot_id: int
    fair_id: int
    fair_slug: str
    booth_id: int
    company_name: str
    job_title: str | None
    student_id: int
    starts_at: datetime
    ends_at: datetime


def _select_bookings() -> sa.Select[Any]:
    f, c = t.fairs, t.companies
    return (
        sa.select(
            iv.c.id.label("interview_id"),
            iv.c.state.label("interview_state"),
            s.c.id.label("slot_id"),
            s.c.fair_id,
            f.c.slug.label("fair_slug"),
            s.c.booth_id,
            c.c.name.label("company_name"),
            j.c.title.label("job_title"),
            iv.c.student_id,
            s.c.starts_at,
            s.c.ends_at,
        )
        .select_from(iv)
        .join(s, s.c.id == iv.c.slot_id)
        .join(f, f.c.id == s.c.fair_id)
        .join(c, c.c.id == s.c.company_id)
        .outerjoin(j, j.c.id == s.c.job_id)
        .where(iv.c.origin == "slot", iv.c.state.in_(LIVE_INTERVIEW))
    )


async def bookings_of(conn: AsyncConnection, student_id: int, fair_id: int) -> list[BookingRow]:
    """The student's booked interviews in a fair that are still to happen, soonest first."""
    stmt = _select_bookings().where(
        iv.c.student_id == student_id, s.c.fair_id == fair_id, s.c.booked_by == student_id
    )
    return await fetch_all_as(conn, stmt.order_by(s.c.starts_at), BookingRow)


async def due_reminders(conn: AsyncConnection, until: datetime, now: datetime) -> list[BookingRow]:
    """Booked interviews starting between now and ``until`` whose reminder is not sent."""
    stmt = _select_bookings().where(
        iv.c.reminded_at.is_(None),
        s.c.booked_by == iv.c.student_id,
        s.c.starts_at > now,
        s.c.starts_at <= until,
    )
    return await fetch_all_as(conn, stmt.order_by(s.c.starts_at).limit(200), BookingRow)


async def mark_reminded(conn: AsyncConnection, interview_id: int, now: datetime) -> bool:
    """Once only: the worker whose UPDATE matches sends the reminder."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.reminded_at.is_(None))
        .values(reminded_at=now)
    )
    return result.rowcount == 1


async def no_show_candidates(conn: AsyncConnection, started_before: datetime) -> list[BookingRow]:
    """Booked interviews whose slot started before ``started_before``, with no outcome,
    whose candidate never entered the room (no interview attendance of theirs)."""
    a = t.attendance
    joined = sa.exists().where(
        a.c.kind == "interview", a.c.subject_id == iv.c.id, a.c.user_id == iv.c.student_id
    )
    stmt = _select_bookings().where(
        iv.c.outcome.is_(None), s.c.starts_at <= started_before, ~joined
    )
    return await fetch_all_as(conn, stmt.order_by(s.c.starts_at).limit(200), BookingRow)


async def end_no_show(conn: AsyncConnection, interview_id: int, now: datetime) -> bool:
    """scheduled/waiting with no outcome -> ended; False when someone got there first."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.state.in_(LIVE_INTERVIEW), iv.c.outcome.is_(None))
        .values(state="ended", ended_at=now)
    )
    return result.rowcount == 1
