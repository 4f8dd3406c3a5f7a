"""SQL for interview rooms (I2, I3): interviews, their participants, and what opens one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

iv, ip, u, c = t.interviews, t.interview_participants, t.users, t.companies
f, b = t.fairs, t.booths
CLOSED_STATES = ("ended", "cancelled")


@dataclass(frozen=True, slots=True)
class InterviewRow:
    """An interview with the names its pages and events show; ``booth_id`` is the
    company's booth in the fair, if it has one."""

    id: int
    fair_id: int
    company_id: int
    student_id: int
    origin: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    company_name: str
    student_name: str
    fair_slug: str
    fair_title: str
    booth_id: int | None
    slot_id: int | None
    job_id: int | None
    follows_id: int | None
    owner_id: int | None
    outcome: str | None
    outcome_at: datetime | None
    released_at: datetime | None
    student_message: str


@dataclass(frozen=True, slots=True)
class MyInterviewRow(InterviewRow):
    """An interview in a user's list: their own role in it and the fair's time zone."""

    role: str
    fair_timezone: str


@dataclass(frozen=True, slots=True)
class NewInterview:
    fair_id: int
    company_id: int
    student_id: int
    origin: str
    state: str
    created_at: datetime
    slot_id: int | None = None
    job_id: int | None = None
    follows_id: int | None = None
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    user_id: int
    role: str  # candidate or interviewer
    admitted_at: datetime | None
    consented_at: datetime | None
    display_name: str


@dataclass(frozen=True, slots=True)
class ColleagueRow:
    """A recruiter of the interview's company."""

    id: int
    display_name: str


def _select_interviews() -> sa.Select[Any]:
    student = u.alias("student")
    return (
        sa.select(
            iv.c.id,
            iv.c.fair_id,
            iv.c.company_id,
            iv.c.student_id,
            iv.c.origin,
            iv.c.state,
            iv.c.started_at,
            iv.c.ended_at,
            iv.c.created_at,
            c.c.name.label("company_name"),
            student.c.display_name.label("student_name"),
            f.c.slug.label("fair_slug"),
            f.c.title.label("fair_title"),
            b.c.id.label("booth_id"),
            iv.c.slot_id,
            iv.c.job_id,
            iv.c.follows_id,
            iv.c.owner_id,
            iv.c.outcome,
            iv.c.outcome_at,
            iv.c.released_at,
            iv.c.student_message,
        )
        .join(c, c.c.id == iv.c.company_id)
        .join(student, student.c.id == iv.c.student_id)
        .join(f, f.c.id == iv.c.fair_id)
        .outerjoin(b, sa.and_(b.c.fair_id == iv.c.fair_id, b.c.company_id == iv.c.company_id))
    )


async def interview(conn: AsyncConnection, interview_id: int) -> InterviewRow | None:
    return await fetch_one_as(
        conn, _select_interviews().where(iv.c.id == interview_id), InterviewRow
    )


async def open_interview(
    conn: AsyncConnection, fair_id: int, company_id: int, student_id: int
) -> InterviewRow | None:
    """The company's interview with the student in this fair that has not ended."""
    stmt = (
        _select_interviews()
        .where(
            iv.c.fair_id == fair_id,
            iv.c.company_id == company_id,
            iv.c.student_id == student_id,
            iv.c.state.not_in(CLOSED_STATES),
        )
        .order_by(iv.c.id.desc())
        .limit(1)
    )
    return await fetch_one_as(conn, stmt, InterviewRow)


async def open_interviews_of(
    conn: AsyncConnection, user_id: int, fair_id: int, company_id: int
) -> list[InterviewRow]:
    """The company's interviews in this fair, not ended, that the user takes part in."""
    stmt = (
        _select_interviews()
        .join(ip, ip.c.interview_id == iv.c.id)
        .where(
            ip.c.user_id == user_id,
            iv.c.fair_id == fair_id,
            iv.c.company_id == company_id,
            iv.c.state.not_in(CLOSED_STATES),
        )
        .order_by(iv.c.id)
    )
    return await fetch_all_as(conn, stmt, InterviewRow)


async def interviews_of(conn: AsyncConnection, user_id: int) -> list[MyInterviewRow]:
    """Every interview the user takes part in (as candidate or interviewer), newest first."""
    stmt = (
        _select_interviews()
        .add_columns(ip.c.role, f.c.timezone.label("fair_timezone"))
        .join(ip, ip.c.interview_id == iv.c.id)
        .where(ip.c.user_id == user_id)
        .order_by(iv.c.created_at.desc(), iv.c.id.desc())
        .limit(200)
    )
    return await fetch_all_as(conn, stmt, MyInterviewRow)


async def insert_interview(conn: AsyncConnection, new: NewInterview) -> int:
    result = await conn.execute(iv.insert().values(**asdict(new)).returning(iv.c.id))
    return int(result.scalar_one())


async def add_participant(
    conn: AsyncConnection, interview_id: int, user_id: int, role: str, admitted_at: datetime | None
) -> None:
    await conn.execute(
        ip.insert().values(
            interview_id=interview_id, user_id=user_id, role=role, admitted_at=admitted_at
        )
    )


async def participants(conn: AsyncConnection, interview_id: int) -> list[ParticipantRow]:
    stmt = (
        sa.select(
            ip.c.user_id,
            ip.c.role,
            ip.c.admitted_at,
            ip.c.consented_at,
            u.c.display_name,
        )
        .join(u, u.c.id == ip.c.user_id)
        .where(ip.c.interview_id == interview_id)
        .order_by(ip.c.role, u.c.display_name, ip.c.user_id)
    )
    return await fetch_all_as(conn, stmt, ParticipantRow)


async def participant(
    conn: AsyncConnection, interview_id: int, user_id: int
) -> ParticipantRow | None:
    stmt = (
        sa.select(ip.c.user_id, ip.c.role, ip.c.admitted_at, ip.c.consented_at, u.c.display_name)
        .join(u, u.c.id == ip.c.user_id)
        .where(ip.c.interview_id == interview_id, ip.c.user_id == user_id)
    )
    return await fetch_one_as(conn, stmt, ParticipantRow)


async def admit(conn: AsyncConnection, interview_id: int, user_id: int, at: datetime) -> bool:
    """False when already admitted."""
    result = await conn.execute(
        ip.update()
        .where(
            ip.c.interview_id == interview_id,
            ip.c.user_id == user_id,
            ip.c.admitted_at.is_(None),
        )
        .values(admitted_at=at)
    )
    return bool(result.rowcount)


async def set_consent(
    conn: AsyncConnection, interview_id: int, user_id: int, at: datetime | None
) -> None:
    await conn.execute(
        ip.update()
        .where(ip.c.interview_id == interview_id, ip.c.user_id == user_id)
        .values(consented_at=at)
    )


async def go_live(conn: AsyncConnection, interview_id: int, at: datetime) -> bool:
    """waiting -> live; False when it was not waiting."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.state == "waiting")
        .values(state="live", started_at=sa.func.coalesce(iv.c.started_at, at))
    )
    return bool(result.rowcount)


async def end(conn: AsyncConnection, interview_id: int, at: datetime) -> bool:
    """False when it had ended already."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.state.not_in(CLOSED_STATES))
        .values(state="ended", ended_at=at)
    )
    return bool(result.rowcount)


async def has_private_chat(conn: AsyncConnection, booth_room: str, student_id: int) -> bool:
    """A private message between the booth's staff and the student, either way."""
    cm = t.chat_messages
    stmt = sa.select(sa.func.count()).where(
        cm.c.room == booth_room,
        cm.c.recipient_id.is_not(None),
        sa.or_(cm.c.author_id == student_id, cm.c.recipient_id == student_id),
    )
    return bool((await conn.execute(stmt)).scalar())


async def queued_at(conn: AsyncConnection, booth_id: int, student_id: int) -> bool:
    """Any queue entry of the student at the booth, open or ended."""
    q = t.queue_entries
    stmt = sa.select(sa.func.count()).where(q.c.booth_id == booth_id, q.c.student_id == student_id)
    return bool((await conn.execute(stmt)).scalar())


async def colleagues(conn: AsyncConnection, company_id: int) -> list[ColleagueRow]:
    """The company's active recruiters, who may join its interviews' panels."""
    stmt = (
        sa.select(u.c.id, u.c.display_name)
        .where(u.c.company_id == company_id, u.c.role == "recruiter", u.c.disabled_at.is_(None))
        .order_by(u.c.display_name, u.c.id)
    )
    return await fetch_all_as(conn, stmt, ColleagueRow)


async def set_outcome(
    conn: AsyncConnection, interview_id: int, outcome: str, by: int | None, at: datetime
) -> bool:
    """Records the outcome (unreleased: a new outcome withdraws an earlier release)."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id)
        .values(outcome=outcome, outcome_at=at, outcome_by=by, released_at=None)
    )
    return result.rowcount == 1
