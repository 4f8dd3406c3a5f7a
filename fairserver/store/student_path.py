"""One student's path through the fairs (F6 ★): first visit, booths, briefings, queues,
interviews, released outcomes and agreements, each as a step with its time.

A handful of small statements on one connection, each read through an index on the
student: a path is a few dozen rows, not a report. Only what the student's school may
see: outcomes once released, the agreement's latest version, never a company's notes or
scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import seconds_between
from fairserver.store.intervals import islands, open_end

Stage = Literal[
    "fair", "booth", "briefing", "queue", "interview", "outcome", "agreement", "countersigned"
]
STAGES: tuple[Stage, ...] = (
    "fair",
    "booth",
    "briefing",
    "queue",
    "interview",
    "outcome",
    "agreement",
    "countersigned",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the student did, or that happened to them, at ``at``."""

    at: datetime
    stage: Stage
    fair_id: int
    fair_title: str
    timezone: str  # the fair's, for the time shown
    company: str | None
    subject: str | None  # the briefing's title, the job's, the agreement's position
    count: int | None = None  # visits to a booth, a fair
    seconds: int | None = None  # watch time, a wait
    state: str | None = None  # the queue's outcome, the interview's, the agreement's
    link_id: int | None = None  # the agreement's id


async def _rows(conn: AsyncConnection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def student_path(conn: AsyncConnection, student_id: int, now: datetime) -> list[Step]:
    """Every step of ``student_id``'s path, oldest first (ties in the stages' order)."""
    steps = [
        *await _fairs(conn, student_id),
        *await _booths(conn, student_id),
        *await _briefings(conn, student_id, now),
        *await _queue(conn, student_id),
        *await _interviews(conn, student_id),
        *await _agreements(conn, student_id),
    ]
    steps.sort(key=lambda s: (s.at, STAGES.index(s.stage)))
    return steps


async def _fairs(conn: AsyncConnection, sid: int) -> list[Step]:
    a, f = t.attendance, t.fairs
    stmt = (
        sa.select(
            f.c.id,
            f.c.title,
            f.c.timezone,
            sa.func.min(a.c.joined_at).label("at"),
            sa.func.count().label("visits"),
        )
        .select_from(a.join(f, f.c.id == a.c.fair_id))
        .where(a.c.user_id == sid, a.c.kind == "fair")
        .group_by(f.c.id, f.c.title, f.c.timezone)
    )
    return [
        Step(r["at"], "fair", r["id"], r["title"], r["timezone"], None, None, count=r["visits"])
        for r in await _rows(conn, stmt)
    ]


async def _booths(conn: AsyncConnection, sid: int) -> list[Step]:
    a, f, bo, c = t.attendance, t.fairs, t.booths, t.companies
    stmt = (
        sa.select(
            f.c.id,
            f.c.title,
            f.c.timezone,
            c.c.name,
            sa.func.min(a.c.joined_at).label("at"),
            sa.func.count().label("visits"),
        )
        .select_from(
            a.join(bo, bo.c.id == a.c.subject_id)
            .join(f, f.c.id == bo.c.fair_id)
            .join(c, c.c.id == bo.c.company_id)
        )
        .where(a.c.user_id == sid, a.c.kind == "booth")
        .group_by(f.c.id, f.c.title, f.c.timezone, bo.c.id, c.c.name)
    )
    return [
        Step(
            r["at"], "booth", r["id"], r["title"], r["timezone"], r["name"], None, count=r["visits"]
        )
        for r in await _rows(conn, stmt)
    ]


async def _briefings(conn: AsyncConnection, sid: int, now: datetime) -> list[Step]:
    a, f, br, c = t.attendance, t.fairs, t.briefings, t.companies
    source = (
        sa.select(a.c.subject_id, a.c.id, a.c.joined_at, open_end(now).label("left_at"))
        .where(a.c.user_id == sid, a.c.kind == "briefing")
        .subquery()
    )
    merged = islands(source, ("subject_id",))
    watched = (
        sa.select(
            merged.c.subject_id,
            sa.func.min(merged.c.start).label("at"),
            sa.func.sum(seconds_between(conn, merged.c.start, merged.c.end)).label("seconds"),
        )
        .group_by(merged.c.subject_id)
        .subquery()
    )
    stmt = sa.select(
        f.c.id,
        f.c.title,
        f.c.timezone,
        c.c.name,
        br.c.title.label("briefing"),
        watched.c.at,
        watched.c.seconds,
    ).select_from(
        watched.join(br, br.c.id == watched.c.subject_id)
        .join(f, f.c.id == br.c.fair_id)
        .join(c, c.c.id == br.c.company_id)
    )
    return [
        Step(
            r["at"],
            "briefing",
            r["id"],
            r["title"],
            r["timezone"],
            r["name"],
            r["briefing"],
            seconds=round(r["seconds"] or 0),
        )
        for r in await _rows(conn, stmt)
    ]


async def _queue(conn: AsyncConnection, sid: int) -> list[Step]:
    qe, f, bo, c = t.queue_entries, t.fairs, t.booths, t.companies
    wait = sa.case(
        (qe.c.called_at.is_not(None), seconds_between(conn, qe.c.joined_at, qe.c.called_at))
    )
    stmt = (
        sa.select(f.c.id, f.c.title, f.c.timezone, c.c.name, qe.c.joined_at, qe.c.outcome)
        .add_columns(qe.c.ended_at, qe.c.called_at, wait.label("wait"))
        .select_from(
            qe.join(bo, bo.c.id == qe.c.booth_id)
            .join(f, f.c.id == bo.c.fair_id)
            .join(c, c.c.id == bo.c.company_id)
        )
        .where(qe.c.student_id == sid)
    )
    return [
        Step(
            r["joined_at"],
            "queue",
            r["id"],
            r["title"],
            r["timezone"],
            r["name"],
            None,
            seconds=None if r["wait"] is None else round(r["wait"]),
            # Still in the queue: "waiting"; called and not finished: the wait says it.
            state=r["outcome"]
            or ("waiting" if r["ended_at"] is None and r["called_at"] is None else None),
        )
        for r in await _rows(conn, stmt)
    ]


async def _interviews(conn: AsyncConnection, sid: int) -> list[Step]:
    iv, f, c, j, sl = t.interviews, t.fairs, t.companies, t.jobs, t.interview_slots
    stmt = (
        sa.select(f.c.id, f.c.title, f.c.timezone, c.c.name, j.c.title.label("job"), iv.c.state)
        .add_columns(iv.c.started_at, iv.c.created_at, sl.c.starts_at.label("slot_at"))
        .add_columns(iv.c.outcome, iv.c.released_at)
        .select_from(
            iv.join(f, f.c.id == iv.c.fair_id)
            .join(c, c.c.id == iv.c.company_id)
            .outerjoin(j, j.c.id == iv.c.job_id)
            .outerjoin(sl, sl.c.id == iv.c.slot_id)
        )
        .where(iv.c.student_id == sid)
    )
    steps: list[Step] = []
    for r in await _rows(conn, stmt):
        # A no-show is an outcome too, but the school sees it only once released, as
        # every other outcome.
        at = r["started_at"] or r["slot_at"] or r["created_at"]
        steps.append(
            Step(
                at,
                "interview",
                r["id"],
                r["title"],
                r["timezone"],
                r["name"],
                r["job"],
                state=r["state"],
            )
        )
        if r["released_at"] is not None:
            steps.append(
                Step(
                    r["released_at"],
                    "outcome",
                    r["id"],
                    r["title"],
                    r["timezone"],
                    r["name"],
                    r["job"],
                    state=r["outcome"],
                )
            )
    return steps


async def _agreements(conn: AsyncConnection, sid: int) -> list[Step]:
    ag, f, c = t.agreements, t.fairs, t.companies
    later = sa.alias(ag, "later")
    latest = ~sa.select(later.c.id).where(later.c.supersedes_id == ag.c.id).exists()
    stmt = (
        sa.select(
            f.c.id, f.c.title, f.c.timezone, c.c.name, ag.c.id.label("agreement_id"), ag.c.position
        )
        .add_columns(ag.c.state, ag.c.sent_at, ag.c.responded_at, ag.c.countersigned_at)
        .select_from(ag.join(f, f.c.id == ag.c.fair_id).join(c, c.c.id == ag.c.company_id))
        .where(ag.c.student_id == sid, latest)
    )
    steps: list[Step] = []
    for r in await _rows(conn, stmt):
        common = (r["id"], r["title"], r["timezone"], r["name"], r["position"])
        # The step is the student's answer when there is one, otherwise the sending.
        at = r["responded_at"] or r["sent_at"]
        steps.append(Step(at, "agreement", *common, state=r["state"], link_id=r["agreement_id"]))
        if r["countersigned_at"] is not None:
            steps.append(
                Step(
                    r["countersigned_at"],
                    "countersigned",
                    *common,
                    state=r["state"],
                    link_id=r["agreement_id"],
                )
            )
    return steps
