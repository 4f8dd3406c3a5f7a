"""Recordings (P7 briefings, I3 interviews): one row per file under the recordings dir."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.rows import RecordingRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

r = t.recordings


@dataclass(frozen=True, slots=True)
class NewRecording:
    fair_id: int
    kind: str
    subject_id: int
    started_by: int
    file_name: str
    state: str
    started_at: datetime
    ended_at: datetime | None = None
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class InterviewAccess:
    """An interview's fair and company, and the caller's role in it (None: not a participant)."""

    id: int
    fair_id: int
    company_id: int
    role: str | None


async def insert_recording(conn: AsyncConnection, new: NewRecording) -> int:
    result = await conn.execute(r.insert().values(**asdict(new)).returning(r.c.id))
    return int(result.scalar_one())


async def finish_recording(
    conn: AsyncConnection, recording_id: int, *, state: str, ended_at: datetime, size: int
) -> bool:
    """Closes a running recording; False when it was already closed (nothing changes)."""
    result = await conn.execute(
        r.update()
        .where(r.c.id == recording_id, r.c.state == "recording")
        .values(state=state, ended_at=ended_at, bytes=size)
    )
    return bool(result.rowcount)


async def recording(conn: AsyncConnection, recording_id: int) -> RecordingRow | None:
    return await fetch_one_as(conn, sa.select(r).where(r.c.id == recording_id), RecordingRow)


async def recordings_of(
    conn: AsyncConnection, kind: str, subject_id: int, *, states: tuple[str, ...] = ("complete",)
) -> list[RecordingRow]:
    """A briefing's or an interview's recordings in these states, oldest first."""
    return await fetch_all_as(
        conn,
        sa.select(r)
        .where(r.c.kind == kind, r.c.subject_id == subject_id, r.c.state.in_(states))
        .order_by(r.c.started_at, r.c.id),
        RecordingRow,
    )


async def running(conn: AsyncConnection) -> list[RecordingRow]:
    """Rows still marked as recording (at start-up: left behind by a crash)."""
    return await fetch_all_as(
        conn, sa.select(r).where(r.c.state == "recording").order_by(r.c.id), RecordingRow
    )


async def interview_access(
    conn: AsyncConnection, interview_id: int, user_id: int
) -> InterviewAccess | None:
    """The interview's company and the caller's role in it (None when not a participant)."""
    i, ip = t.interviews, t.interview_participants
    return await fetch_one_as(
        conn,
        sa.select(i.c.id, i.c.fair_id, i.c.company_id, ip.c.role)
        .select_from(i.outerjoin(ip, sa.and_(ip.c.interview_id == i.c.id, ip.c.user_id == user_id)))
        .where(i.c.id == interview_id),
        InterviewAccess,
    )
