"""SQL for interview rooms (I2, I3): interviews, their participants, and what opens one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as, seconds_between
from fairserver.store.intervals import islands, open_end

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
    conn: AsyncConnection,
    interview_id: int,
    outcome: str,
    by: int | None,
    at: datetime,
    message: str | None = None,
) -> bool:
    """Records the outcome, and the student's message when given. A new outcome is
    unreleased: the student sees it only after a new release."""
    values: dict[str, Any] = {
        "outcome": outcome,
        "outcome_at": at,
        "outcome_by": by,
        "released_at": None,
    }
    if message is not None:
        values["student_message"] = message
    result = await conn.execute(iv.update().where(iv.c.id == interview_id).values(**values))
    return result.rowcount == 1


# --- booked slots in the room (I2): opening, wrap-up, hand-off ---------------------------
# Added for the room of a booked slot; the functions above keep their meaning.


@dataclass(frozen=True, slots=True)
class SlotTimesRow:
    """A slot interview's times, and whether its wrap-up warning went out."""

    slot_id: int
    starts_at: datetime
    ends_at: datetime
    wrap_up_at: datetime | None
    fair_timezone: str


async def slot_times(conn: AsyncConnection, interview_id: int) -> SlotTimesRow | None:
    """None for an interview without a slot (from the queue or an escalated chat)."""
    s = t.interview_slots
    stmt = (
        sa.select(
            s.c.id.label("slot_id"),
            s.c.starts_at,
            s.c.ends_at,
            iv.c.wrap_up_at,
            f.c.timezone.label("fair_timezone"),
        )
        .select_from(iv.join(s, s.c.id == iv.c.slot_id).join(f, f.c.id == iv.c.fair_id))
        .where(iv.c.id == interview_id)
    )
    return await fetch_one_as(conn, stmt, SlotTimesRow)


async def open_scheduled(conn: AsyncConnection, interview_id: int) -> bool:
    """scheduled -> waiting, once its slot has started; False when it was not scheduled."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.state == "scheduled")
        .values(state="waiting")
    )
    return bool(result.rowcount)


async def open_escalation(
    conn: AsyncConnection, fair_id: int, company_id: int, student_id: int
) -> InterviewRow | None:
    """As open_interview, but never a booked slot's interview: an escalation from a booth
    has its own room, and a slot's room keeps its own time and panel."""
    stmt = (
        _select_interviews()
        .where(
            iv.c.fair_id == fair_id,
            iv.c.company_id == company_id,
            iv.c.student_id == student_id,
            iv.c.origin != "slot",
            iv.c.state.not_in(CLOSED_STATES),
        )
        .order_by(iv.c.id.desc())
        .limit(1)
    )
    return await fetch_one_as(conn, stmt, InterviewRow)


async def hand_owner(
    conn: AsyncConnection, interview_id: int, previous: int | None, owner_id: int
) -> bool:
    """Moves the interview to a new owner if ``previous`` still owns it (a concurrent
    hand-off by a colleague wins, and this one is refused instead of silently undone)."""
    result = await conn.execute(
        iv.update()
        .where(
            iv.c.id == interview_id,
            iv.c.owner_id.is_not_distinct_from(previous),
            iv.c.state.not_in(CLOSED_STATES),
        )
        .values(owner_id=owner_id)
    )
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class WrapUpDueRow:
    id: int
    ends_at: datetime


async def wrap_up_due(
    conn: AsyncConnection, now: datetime, within: timedelta
) -> list[WrapUpDueRow]:
    """Open slot interviews whose slot ends within ``within`` and that were not warned."""
    s = t.interview_slots
    stmt = (
        sa.select(iv.c.id, s.c.ends_at)
        .select_from(iv.join(s, s.c.id == iv.c.slot_id))
        .where(
            iv.c.state.not_in(CLOSED_STATES),
            iv.c.wrap_up_at.is_(None),
            s.c.ends_at > now,
            s.c.ends_at <= now + within,
        )
        .order_by(s.c.ends_at, iv.c.id)
        .limit(500)
    )
    return await fetch_all_as(conn, stmt, WrapUpDueRow)


async def mark_wrap_up(conn: AsyncConnection, interview_id: int, at: datetime) -> bool:
    """Once across workers: only the UPDATE that finds wrap_up_at NULL sends the warning."""
    result = await conn.execute(
        iv.update().where(iv.c.id == interview_id, iv.c.wrap_up_at.is_(None)).values(wrap_up_at=at)
    )
    return bool(result.rowcount)


# --- attendance in interviews (I6) --------------------------------------------------------


def presence_subquery(conn: AsyncConnection, now: datetime, *where: Any) -> sa.Subquery:
    """Per (interview, user): the first join and the seconds present, with the overlapping
    intervals of several tabs merged (store/intervals.py). An open interval counts up to
    ``now``."""
    a = t.attendance
    source = (
        sa.select(
            a.c.subject_id.label("interview_id"),
            a.c.user_id,
            a.c.id,
            a.c.joined_at,
            open_end(now).label("left_at"),
        )
        .where(a.c.kind == "interview", *where)
        .subquery()
    )
    merged = islands(source, ("interview_id", "user_id"))
    return (
        sa.select(
            merged.c.interview_id,
            merged.c.user_id,
            sa.func.min(merged.c.start).label("first_joined_at"),
            sa.func.sum(seconds_between(conn, merged.c.start, merged.c.end)).label("seconds"),
        )
        .group_by(merged.c.interview_id, merged.c.user_id)
        .subquery()
    )


@dataclass(frozen=True, slots=True)
class PresenceRow:
    """One participant of an interview and their time in it (None: never joined)."""

    user_id: int
    role: str
    display_name: str
    first_joined_at: datetime | None
    seconds: float | None


async def presence(conn: AsyncConnection, interview_id: int, now: datetime) -> list[PresenceRow]:
    a = t.attendance
    times = presence_subquery(conn, now, a.c.subject_id == interview_id)
    stmt = (
        sa.select(
            ip.c.user_id,
            ip.c.role,
            u.c.display_name,
            times.c.first_joined_at,
            times.c.seconds,
        )
        .select_from(
            ip.join(u, u.c.id == ip.c.user_id).outerjoin(
                times,
                sa.and_(times.c.interview_id == ip.c.interview_id, times.c.user_id == ip.c.user_id),
            )
        )
        .where(ip.c.interview_id == interview_id)
        .order_by(ip.c.role, u.c.display_name, ip.c.user_id)
    )
    return await fetch_all_as(conn, stmt, PresenceRow)


async def export_attendance(
    conn: AsyncConnection, fair_id: int, now: datetime
) -> list[dict[str, Any]]:
    """The organiser's interviews export: one row per participant of each interview in the
    fair, with the slot's start and their presence (column-keyed, as every export)."""
    a, s, p = t.attendance, t.interview_slots, t.student_profiles
    times = presence_subquery(conn, now, a.c.fair_id == fair_id)
    person = u.alias("person")
    stmt = (
        sa.select(
            iv.c.id.label("interview_id"),
            c.c.name.label("company"),
            p.c.school_id.label("student_school_id"),
            t.schools.c.name.label("school"),
            p.c.student_no,
            p.c.real_name,
            iv.c.origin,
            s.c.starts_at.label("slot_starts_at"),
            iv.c.state,
            iv.c.outcome,
            ip.c.role.label("participant_role"),
            person.c.display_name.label("participant"),
            times.c.first_joined_at,
            times.c.seconds,
        )
        .select_from(
            iv.join(c, c.c.id == iv.c.company_id)
            .outerjoin(p, p.c.user_id == iv.c.student_id)
            .outerjoin(t.schools, t.schools.c.id == p.c.school_id)
            .outerjoin(s, s.c.id == iv.c.slot_id)
            .join(ip, ip.c.interview_id == iv.c.id)
            .join(person, person.c.id == ip.c.user_id)
            .outerjoin(
                times,
                sa.and_(times.c.interview_id == iv.c.id, times.c.user_id == ip.c.user_id),
            )
        )
        .where(iv.c.fair_id == fair_id)
        .order_by(iv.c.id, ip.c.role, ip.c.user_id)
    )
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]
