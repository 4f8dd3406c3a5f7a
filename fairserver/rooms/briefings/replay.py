"""Replays (P7): who may watch a recording, and the Q&A timeline beside it.

A briefing recording is shown to whoever may see its briefing page. An interview
recording only to the recruiters of the interview's company who took part in it, and to
admins: a student, another recruiter of the company or an organiser finds nothing,
exactly as for a recording that does not exist.

The timeline puts each public question (approved or answered) at the moment it was asked,
counted from the start of the recording. Pending and dismissed questions never appear,
and an anonymous asker's name is never shown, to anyone: a replay is a publication.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from fairserver.auth import Actor
from fairserver.rooms.briefings.access import briefing_shown
from fairserver.rooms.briefings.live import PUBLIC_STATES
from fairserver.rooms.errors import NotFound
from fairserver.rooms.notify import Outbound
from fairserver.rows import RecordingRow
from fairserver.store import briefing_live as briefing_store
from fairserver.store import fairs as fair_store
from fairserver.store import recordings as store
from fairserver.store.briefing_live import QuestionRow
from fairserver.store.db import Database


class TimelineEntry(Outbound):
    question_id: int
    body: str
    # None for an anonymous question, whoever is watching.
    author: str | None
    state: str
    votes: int
    offset: float  # seconds from the start of the recording
    clock: str  # the offset as m:ss or h:mm:ss


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timeline(
    questions: Iterable[QuestionRow], started_at: datetime, ended_at: datetime | None
) -> list[TimelineEntry]:
    """Public questions asked before the recording ended, in the order they were asked.
    One asked before it started is put at 0:00 (it was on screen from the start)."""
    entries = []
    for row in questions:
        if row.state not in PUBLIC_STATES:
            continue
        if ended_at is not None and row.created_at > ended_at:
            continue
        offset = max(0.0, (row.created_at - started_at).total_seconds())
        entries.append(
            TimelineEntry(
                question_id=row.id,
                body=row.body,
                author=None if row.anonymous else row.author_name,
                state=row.state,
                votes=row.votes,
                offset=round(offset, 1),
                clock=clock(offset),
            )
        )
    entries.sort(key=lambda e: (e.offset, e.question_id))
    return entries


async def briefing_timeline(db: Database, recording: RecordingRow) -> list[TimelineEntry]:
    async with db.connect() as conn:
        rows = await briefing_store.export_questions(conn, recording.subject_id)
    return timeline(rows, recording.started_at, recording.ended_at)


async def may_watch(db: Database, actor: Actor, recording: RecordingRow) -> bool:
    async with db.connect() as conn:
        if recording.kind == "briefing":
            briefing = await briefing_store.briefing_row(conn, recording.subject_id)
            fa = await fair_store.fair_access_by_id(conn, recording.fair_id)
            return (
                briefing is not None
                and fa is not None
                and briefing.fair_id == fa.id
                and briefing_shown(actor, fa, briefing.company_id)
            )
        if actor.is_admin:
            return True
        if actor.role != "recruiter" or actor.user_id is None:
            return False
        access = await store.interview_access(conn, recording.subject_id, actor.user_id)
    return access is not None and access.role is not None and access.company_id == actor.company_id


async def playable_file(
    db: Database, recordings_dir: Path, actor: Actor, recording_id: int
) -> tuple[RecordingRow, Path]:
    """A complete recording's row and file, for a caller who may watch it; else NotFound."""
    async with db.connect() as conn:
        row = await store.recording(conn, recording_id)
    if row is None or row.state != "complete" or not await may_watch(db, actor, row):
        raise NotFound()
    name = row.file_name
    path = recordings_dir / name
    if Path(name).name != name or name.startswith(".") or not path.is_file():
        raise NotFound()
    return row, path


def duration(recording: RecordingRow) -> str:
    if recording.ended_at is None:
        return ""
    return clock((recording.ended_at - recording.started_at).total_seconds())


async def briefing_replays(db: Database, briefing_id: int) -> list[RecordingRow]:
    """A briefing's complete recordings, oldest first (the page chooses among them)."""
    async with db.connect() as conn:
        return await store.recordings_of(conn, "briefing", briefing_id)
