"""SQL for interview slots (I1): publishing, booking, freeing, holding, and the timers' finds.

Every change of a slot's state is one conditional UPDATE, so that two callers racing for
the same slot (two students, two tabs, two workers' sweeps) leave exactly one winner: the
other's UPDATE matches no row and the service answers accordingly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import history, interviews
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as
from fairserver.store.interviews import NewInterview

s, si, iv, u, j = t.interview_slots, t.slot_interviewers, t.interviews, t.users, t.jobs
LIVE_INTERVIEW = ("scheduled", "waiting")


@dataclass(frozen=True, slots=True)
class SlotRow:
    id: int
    fair_id: int
    booth_id: int
    company_id: int
    job_id: int | None
    job_title: str | None
    recruiter_id: int
    starts_at: datetime
    ends_at: datetime
    buffer_minutes: int
    state: str  # open | held | booked | withdrawn
    booked_by: int | None
    booked_name: str | None
    held_for: int | None
    held_until: datetime | None


@dataclass(frozen=True, slots=True)
class NewSlot:
    fair_id: int
    booth_id: int
    company_id: int
    job_id: int | None
    recruiter_id: int
    starts_at: datetime
    ends_at: datetime
    buffer_minutes: int
    created_at: datetime
    state: str = "open"
    booked_by: int | None = None


def _select_slots() -> sa.Select[Any]:
    student = u.alias("booked_student")
    return (
        sa.select(
            s.c.id,
            s.c.fair_id,
            s.c.booth_id,
            s.c.company_id,
            s.c.job_id,
            j.c.title.label("job_title"),
            s.c.recruiter_id,
            s.c.starts_at,
            s.c.ends_at,
            s.c.buffer_minutes,
            s.c.state,
            s.c.booked_by,
            student.c.display_name.label("booked_name"),
            s.c.held_for,
            s.c.held_until,
        )
        .outerjoin(j, j.c.id == s.c.job_id)
        .outerjoin(student, student.c.id == s.c.booked_by)
    )


def same_job(column: sa.ColumnElement[Any], job_id: int | None) -> sa.ColumnElement[bool]:
    """A scope's job: one job, or the booth itself (NULL)."""
    return column.is_(None) if job_id is None else column == job_id


async def slot(conn: AsyncConnection, slot_id: int) -> SlotRow | None:
    return await fetch_one_as(conn, _select_slots().where(s.c.id == slot_id), SlotRow)


async def scope_slots(
    conn: AsyncConnection, booth_id: int, job_id: int | None, after: datetime
) -> list[SlotRow]:
    """A booth's (or one of its jobs') slots that start after ``after``, not withdrawn."""
    stmt = (
        _select_slots()
        .where(
            s.c.booth_id == booth_id,
            same_job(s.c.job_id, job_id),
            s.c.starts_at > after,
            s.c.state != "withdrawn",
        )
        .order_by(s.c.starts_at, s.c.id)
    )
    return await fetch_all_as(conn, stmt, SlotRow)


async def company_slots(conn: AsyncConnection, fair_id: int, company_id: int) -> list[SlotRow]:
    stmt = (
        _select_slots()
        .where(s.c.fair_id == fair_id, s.c.company_id == company_id)
        .order_by(s.c.starts_at, s.c.id)
        .limit(500)
    )
    return await fetch_all_as(conn, stmt, SlotRow)


async def insert_slot(conn: AsyncConnection, new: NewSlot, interviewer_ids: list[int]) -> int:
    result = await conn.execute(s.insert().values(**asdict(new)).returning(s.c.id))
    slot_id = int(result.scalar_one())
    await conn.execute(si.insert(), [{"slot_id": slot_id, "user_id": i} for i in interviewer_ids])
    return slot_id


async def interviewers(conn: AsyncConnection, slot_id: int) -> list[int]:
    stmt = sa.select(si.c.user_id).where(si.c.slot_id == slot_id).order_by(si.c.user_id)
    return [int(v) for v in (await conn.execute(stmt)).scalars()]


async def overlapping(
    conn: AsyncConnection, user_ids: list[int], starts: datetime, ends: datetime
) -> bool:
    """Any live slot of these interviewers that meets [starts, ends) (buffers included by
    the caller in ``ends``; an existing slot's buffer is added here on the database side
    by comparing with its end: slots of a series never leave less than their buffer)."""
    stmt = (
        sa.select(sa.func.count())
        .select_from(s.join(si, si.c.slot_id == s.c.id))
        .where(
            si.c.user_id.in_(user_ids),
            s.c.state != "withdrawn",
            s.c.starts_at < ends,
            s.c.ends_at > starts,
        )
    )
    return bool((await conn.execute(stmt)).scalar())


async def lock_users(conn: AsyncConnection, *user_ids: int) -> None:
    """Serialises one student's bookings (or one panel's publishing): a no-op write on their
    user rows. On PostgreSQL it takes the rows' locks until commit, on SQLite the database's
    write lock, so two tabs booking two slots of one scope at once cannot both pass the
    one-booking check, and two series for one interviewer cannot both pass the overlap one.
    Called first in its transaction: on SQLite a transaction that read before it writes can
    fail to take the write lock instead of waiting for it."""
    await conn.execute(u.update().where(u.c.id.in_(user_ids)).values(display_name=u.c.display_name))


async def insert_booking(
    conn: AsyncConnection,
    slot: SlotRow,
    student_id: int,
    actor_id: int,
    now: datetime,
    kind: str,
    follows_id: int | None = None,
) -> int:
    """The interview a booking makes (docs: /work agreed names): origin 'slot', scheduled,
    owned by the slot's publisher (or its first interviewer), the panel admitted, the
    candidate waiting to be let in, and the history row ``kind``."""
    panel = await interviewers(conn, slot.id)
    owner = slot.recruiter_id if slot.recruiter_id in panel or not panel else panel[0]
    interview_id = await interviews.insert_interview(
        conn,
        NewInterview(
            fair_id=slot.fair_id,
            company_id=slot.company_id,
            student_id=student_id,
            origin="slot",
            state="scheduled",
            created_at=now,
            slot_id=slot.id,
            job_id=slot.job_id,
            follows_id=follows_id,
            owner_id=owner,
        ),
    )
    await interviews.add_participant(conn, interview_id, student_id, "candidate", None)
    for user_id in panel:
        await interviews.add_participant(conn, interview_id, user_id, "interviewer", now)
    detail = {"slot_id": slot.id, "starts_at": slot.starts_at.isoformat()}
    if follows_id is not None:
        detail["follows_id"] = follows_id
    await history.record(conn, interview_id, actor_id, now, kind, **detail)
    return interview_id


async def book(conn: AsyncConnection, slot_id: int, student_id: int, now: datetime) -> bool:
    """open (or held for this student, or a hold that has lapsed) -> booked by them."""
    result = await conn.execute(
        s.update()
        .where(
            s.c.id == slot_id,
            s.c.starts_at > now,
            sa.or_(
                s.c.state == "open",
                sa.and_(
                    s.c.state == "held",
                    sa.or_(s.c.held_for == student_id, s.c.held_until <= now),
                ),
            ),
        )
        .values(state="booked", booked_by=student_id, held_for=None, held_until=None)
    )
    return result.rowcount == 1


async def take_hold(conn: AsyncConnection, slot_id: int, student_id: int) -> bool:
    """held for this student -> booked by them (a waitlist offer taken)."""
    result = await conn.execute(
        s.update()
        .where(s.c.id == slot_id, s.c.state == "held", s.c.held_for == student_id)
        .values(state="booked", booked_by=student_id, held_for=None, held_until=None)
    )
    return result.rowcount == 1


async def free(conn: AsyncConnection, slot_id: int, student_id: int) -> bool:
    """booked by this student -> open."""
    result = await conn.execute(
        s.update()
        .where(s.c.id == slot_id, s.c.state == "booked", s.c.booked_by == student_id)
        .values(state="open", booked_by=None)
    )
    return result.rowcount == 1


async def hold(conn: AsyncConnection, slot_id: int, student_id: int, until: datetime) -> bool:
    """open -> held for a waitlisted student until ``until``."""
    result = await conn.execute(
        s.update()
        .where(s.c.id == slot_id, s.c.state == "open")
        .values(state="held", held_for=student_id, held_until=until)
    )
    return result.rowcount == 1


async def release_hold(conn: AsyncConnection, slot_id: int, student_id: int) -> bool:
    """held for this student -> open (their offer was declined or lapsed)."""
    result = await conn.execute(
        s.update()
        .where(s.c.id == slot_id, s.c.state == "held", s.c.held_for == student_id)
        .values(state="open", held_for=None, held_until=None)
    )
    return result.rowcount == 1


async def withdraw(conn: AsyncConnection, slot_id: int) -> bool:
    """open or held -> withdrawn (a booked one is freed first by the service)."""
    result = await conn.execute(
        s.update()
        .where(s.c.id == slot_id, s.c.state.in_(("open", "held")))
        .values(state="withdrawn", held_for=None, held_until=None)
    )
    return result.rowcount == 1


async def student_booking(
    conn: AsyncConnection, student_id: int, booth_id: int, job_id: int | None, now: datetime
) -> SlotRow | None:
    """The student's booked slot in this scope that has not started yet."""
    stmt = _select_slots().where(
        s.c.booth_id == booth_id,
        same_job(s.c.job_id, job_id),
        s.c.state == "booked",
        s.c.booked_by == student_id,
        s.c.ends_at > now,
    )
    return await fetch_one_as(conn, stmt.order_by(s.c.starts_at).limit(1), SlotRow)


async def bookings_in_scope(
    conn: AsyncConnection, student_id: int, booth_id: int, job_id: int | None, now: datetime
) -> int:
    stmt = sa.select(sa.func.count()).where(
        s.c.booth_id == booth_id,
        same_job(s.c.job_id, job_id),
        s.c.state == "booked",
        s.c.booked_by == student_id,
        s.c.ends_at > now,
    )
    return int((await conn.execute(stmt)).scalar_one())


async def free_in_scope(
    conn: AsyncConnection, booth_id: int, job_id: int | None, now: datetime
) -> int:
    """Slots anyone may book now (open, or a hold that has lapsed)."""
    stmt = sa.select(sa.func.count()).where(
        s.c.booth_id == booth_id,
        same_job(s.c.job_id, job_id),
        s.c.starts_at > now,
        sa.or_(s.c.state == "open", sa.and_(s.c.state == "held", s.c.held_until <= now)),
    )
    return int((await conn.execute(stmt)).scalar_one())


async def slot_interview(conn: AsyncConnection, slot_id: int, student_id: int) -> int | None:
    """The booking's interview: the slot's, the student's, not cancelled or ended."""
    stmt = (
        sa.select(iv.c.id)
        .where(
            iv.c.slot_id == slot_id,
            iv.c.student_id == student_id,
            iv.c.state.in_(LIVE_INTERVIEW),
        )
        .order_by(iv.c.id.desc())
        .limit(1)
    )
    value = (await conn.execute(stmt)).scalar()
    return None if value is None else int(value)


async def cancel_interview(conn: AsyncConnection, interview_id: int, now: datetime) -> bool:
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.state.in_(LIVE_INTERVIEW))
        .values(state="cancelled", ended_at=now)
    )
    return result.rowcount == 1


async def set_booking_window(
    conn: AsyncConnection, fair_id: int, opens: datetime | None, closes: datetime | None
) -> None:
    await conn.execute(
        t.fairs.update()
        .where(t.fairs.c.id == fair_id)
        .values(booking_opens_at=opens, booking_closes_at=closes)
    )


async def booth_job(conn: AsyncConnection, booth_id: int, job_id: int) -> str | None:
    """The title of a job posted at this booth, or None."""
    stmt = sa.select(j.c.title).where(j.c.id == job_id, j.c.booth_id == booth_id)
    value = (await conn.execute(stmt)).scalar()
    return None if value is None else str(value)


async def booth_jobs(conn: AsyncConnection, booth_id: int) -> list[tuple[int, str]]:
    stmt = sa.select(j.c.id, j.c.title).where(j.c.booth_id == booth_id).order_by(j.c.id)
    return [(int(r.id), str(r.title)) for r in (await conn.execute(stmt))]


async def fair_slug(conn: AsyncConnection, fair_id: int) -> str:
    stmt = sa.select(t.fairs.c.slug).where(t.fairs.c.id == fair_id)
    return str((await conn.execute(stmt)).scalar_one())


async def fair_zone(conn: AsyncConnection, fair_id: int) -> str:
    stmt = sa.select(t.fairs.c.timezone).where(t.fairs.c.id == fair_id)
    return str((await conn.execute(stmt)).scalar_one())
