"""Queries behind the live fair dashboard (F5): briefings, queues and calls, visitors today."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as

LIVE_OR_UPCOMING = ("live", "scheduled")


@dataclass(frozen=True, slots=True)
class CurrentBriefingRow:
    id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    company: str


async def current_briefings(
    conn: AsyncConnection, fair_id: int, now: datetime, limit: int
) -> list[CurrentBriefingRow]:
    """Live briefings, then scheduled ones that have not ended, in time order."""
    b, c = t.briefings, t.companies
    stmt = (
        sa.select(
            b.c.id, b.c.title, b.c.status, b.c.starts_at, b.c.ends_at, c.c.name.label("company")
        )
        .select_from(b.join(c, c.c.id == b.c.company_id))
        .where(b.c.fair_id == fair_id, b.c.status.in_(LIVE_OR_UPCOMING), b.c.ends_at > now)
        .order_by(sa.case((b.c.status == "live", 0), else_=1), b.c.starts_at, b.c.id)
        .limit(limit)
    )
    return await fetch_all_as(conn, stmt, CurrentBriefingRow)


async def queue_counts(
    conn: AsyncConnection, booth_ids: Iterable[int]
) -> dict[int, tuple[int, int]]:
    """booth id -> (open entries waiting, open entries called or chatting): the queue's
    record is its order (docs/decisions.md §20), so the counts come from it."""
    ids = sorted(set(booth_ids))
    if not ids:
        return {}
    q = t.queue_entries
    called = q.c.called_at.is_not(None)
    stmt = (
        sa.select(
            q.c.booth_id,
            sa.func.sum(sa.case((called, 0), else_=1)).label("waiting"),
            sa.func.sum(sa.case((called, 1), else_=0)).label("calls"),
        )
        .where(q.c.booth_id.in_(ids), q.c.ended_at.is_(None))
        .group_by(q.c.booth_id)
    )
    return {
        int(booth_id): (int(waiting), int(calls))
        for booth_id, waiting, calls in await conn.execute(stmt)
    }


async def visitors_since(conn: AsyncConnection, fair_id: int, since: datetime) -> int:
    """Distinct people with a fair visit that overlaps [since, now]."""
    a = t.attendance
    stmt = sa.select(sa.func.count(sa.distinct(a.c.user_id))).where(
        a.c.kind == "fair",
        a.c.subject_id == fair_id,
        sa.or_(a.c.joined_at >= since, a.c.left_at.is_(None), a.c.left_at >= since),
    )
    return int((await conn.execute(stmt)).scalar() or 0)


# --- interviews (F5): in progress, and today's no-shows ------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardInterviewRow:
    """A live interview or a no-show. ``student_school_id`` says whether the fair's
    organiser may see the student's name (only their own school's students)."""

    id: int
    company: str
    student_name: str
    student_school_id: int | None
    at: datetime  # started_at of a live one; outcome_at of a no-show


def _interviews(at: sa.ColumnElement[datetime]) -> sa.Select[Any]:
    iv, c, u, p = t.interviews, t.companies, t.users, t.student_profiles
    return sa.select(
        iv.c.id,
        c.c.name.label("company"),
        u.c.display_name.label("student_name"),
        p.c.school_id.label("student_school_id"),
        at.label("at"),
    ).select_from(
        iv.join(c, c.c.id == iv.c.company_id)
        .join(u, u.c.id == iv.c.student_id)
        .outerjoin(p, p.c.user_id == iv.c.student_id)
    )


async def live_interviews(
    conn: AsyncConnection, fair_id: int, limit: int
) -> tuple[int, list[DashboardInterviewRow]]:
    """(how many are live, the longest-running ``limit`` of them)."""
    iv = t.interviews
    live = sa.and_(iv.c.fair_id == fair_id, iv.c.state == "live")
    count = (await conn.execute(sa.select(sa.func.count()).where(live))).scalar() or 0
    stmt = (
        _interviews(sa.func.coalesce(iv.c.started_at, iv.c.created_at))
        .where(live)
        .order_by(iv.c.started_at, iv.c.id)
        .limit(limit)
    )
    return int(count), await fetch_all_as(conn, stmt, DashboardInterviewRow)


async def no_shows_since(
    conn: AsyncConnection, fair_id: int, since: datetime, limit: int
) -> tuple[int, list[DashboardInterviewRow]]:
    """(how many no-shows were recorded since ``since``, the latest ``limit`` of them)."""
    iv = t.interviews
    missed = sa.and_(iv.c.fair_id == fair_id, iv.c.outcome == "no_show", iv.c.outcome_at >= since)
    count = (await conn.execute(sa.select(sa.func.count()).where(missed))).scalar() or 0
    stmt = (
        _interviews(iv.c.outcome_at)
        .where(missed)
        .order_by(iv.c.outcome_at.desc(), iv.c.id.desc())
        .limit(limit)
    )
    return int(count), await fetch_all_as(conn, stmt, DashboardInterviewRow)
