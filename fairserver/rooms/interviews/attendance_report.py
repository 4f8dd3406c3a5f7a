"""Interview attendance (I6), from the attendance table (kind 'interview', subject_id the
interview): for each participant their first join, their time present (the intervals of
several tabs merged, in SQL: store/interviews.presence_subquery) and, for a booked slot,
how late they came against its start.

Lateness is whole minutes after the slot's start: under a minute late is on time, and
anyone who arrived before the start (even before the room opened) is on time. Shown to
the company's interviewers on the interview page, never to the student; the organiser
gets it for the whole fair in the interviews export (rooms/fairs/export.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rooms.context import Services, database_of
from fairserver.store import interviews as store
from fairserver.store.db import Database
from fairserver.store.interviews import InterviewRow


@dataclass(frozen=True, slots=True)
class ParticipantAttendance:
    user_id: int
    display_name: str
    role: str
    first_joined_at: datetime | None  # None: never came
    minutes_present: int
    minutes_late: int | None  # None: no slot, or never came; 0: on time


@dataclass(frozen=True, slots=True)
class AttendanceReport:
    interview_id: int
    slot_starts_at: datetime | None
    participants: list[ParticipantAttendance]


def minutes_late(first_joined_at: datetime | None, starts_at: datetime | None) -> int | None:
    if first_joined_at is None or starts_at is None:
        return None
    return max(0, int((first_joined_at - starts_at).total_seconds() // 60))


def minutes_present(seconds: float | None) -> int:
    return int(round(seconds or 0) // 60)  # julianday arithmetic is a float: 899.9999 s


async def report(
    source: Database | Services, interview: InterviewRow, now: datetime | None = None
) -> AttendanceReport:
    """For an interview the caller reached as one of its interviewers (access_interview)."""
    at = now or (source.clock() if isinstance(source, Services) else utcnow())
    async with database_of(source).connect() as conn:
        slot = await store.slot_times(conn, interview.id)
        rows = await store.presence(conn, interview.id, at)
    starts = slot.starts_at if slot else None
    return AttendanceReport(
        interview_id=interview.id,
        slot_starts_at=starts,
        participants=[
            ParticipantAttendance(
                user_id=row.user_id,
                display_name=row.display_name,
                role=row.role,
                first_joined_at=row.first_joined_at,
                minutes_present=minutes_present(row.seconds),
                minutes_late=minutes_late(row.first_joined_at, starts),
            )
            for row in rows
        ],
    )


async def export_rows(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    """The organiser's "interviews" export (one row per participant of each interview)."""
    rows = await store.export_attendance(conn, fair_id, utcnow())
    for row in rows:
        seconds = row.pop("seconds")
        row["minutes_present"] = minutes_present(seconds) if row["first_joined_at"] else None
        row["minutes_late"] = minutes_late(row["first_joined_at"], row["slot_starts_at"])
        if row["participant_role"] == "candidate":
            # The student is named by real_name and student_no, which the export blanks
            # for other schools' students; their display name must not name them instead.
            row["participant"] = None
    return rows
