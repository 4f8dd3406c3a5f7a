"""Attendance (P6): one interval per visit to a fair, booth, briefing or interview.

An interval is opened, and committed, before the join is acknowledged. It is closed
on leave, on disconnect, on graceful shutdown, by the sweeper when its worker stopped
sending heartbeats, and at start-up after a crash (at its last heartbeat, the last
moment we know the person was there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fairserver.rooms.context import Services
from fairserver.store import tables as t
from fairserver.store.db import Database

# A worker refreshes last_seen_at of its open intervals this often...
HEARTBEAT_SECONDS = 15
# ...so an interval not refreshed for this long belongs to a worker that died.
STALE_AFTER = timedelta(seconds=45)

a = t.attendance


async def open_interval(
    services: Services,
    *,
    connection_id: str,
    user_id: int,
    fair_id: int,
    kind: str,
    subject_id: int,
) -> int:
    now = services.clock()
    async with services.db.begin() as conn:
        existing = (
            await conn.execute(
                sa.select(a.c.id).where(
                    a.c.connection_id == connection_id,
                    a.c.kind == kind,
                    a.c.subject_id == subject_id,
                    a.c.left_at.is_(None),
                )
            )
        ).scalar()
        if existing is not None:  # a repeated join on the same connection
            return int(existing)
        result = await conn.execute(
            a.insert()
            .values(
                user_id=user_id,
                fair_id=fair_id,
                kind=kind,
                subject_id=subject_id,
                connection_id=connection_id,
                joined_at=now,
                last_seen_at=now,
            )
            .returning(a.c.id)
        )
        return int(result.scalar_one())


async def close_intervals(
    services: Services,
    connection_id: str,
    reason: str,
    *,
    kind: str | None = None,
    subject_id: int | None = None,
) -> int:
    """Closes this connection's open intervals (all, or one kind/subject)."""
    conditions = [a.c.connection_id == connection_id, a.c.left_at.is_(None)]
    if kind is not None:
        conditions.append(a.c.kind == kind)
    if subject_id is not None:
        conditions.append(a.c.subject_id == subject_id)
    now = services.clock()
    async with services.db.begin() as conn:
        result = await conn.execute(
            a.update().where(*conditions).values(left_at=now, last_seen_at=now, close_reason=reason)
        )
    return int(result.rowcount or 0)


async def heartbeat(services: Services) -> int:
    """One statement refreshes every open interval of this worker's connections."""
    async with services.db.begin() as conn:
        result = await conn.execute(
            a.update()
            .where(a.c.left_at.is_(None), a.c.connection_id.startswith(f"{services.worker_id}:"))
            .values(last_seen_at=services.clock())
        )
    return int(result.rowcount or 0)


async def close_stale(db: Database, now: datetime, reason: str, older_than: timedelta) -> int:
    """Closes intervals whose worker stopped heartbeating, at their last heartbeat."""
    async with db.begin() as conn:
        result = await conn.execute(
            a.update()
            .where(a.c.left_at.is_(None), a.c.last_seen_at < now - older_than)
            .values(left_at=a.c.last_seen_at, close_reason=reason)
        )
    return int(result.rowcount or 0)


async def close_after_crash(db: Database, now: datetime) -> int:
    """Single-process start-up: every open interval was left by the previous process."""
    return await close_stale(db, now, "crash", timedelta(0))


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    unique_viewers: int
    watch_seconds: int
    peak_concurrency: int


async def summary(db: Database, kind: str, subject_id: int) -> AttendanceSummary:
    """Watch time, unique viewers and peak concurrency, computed in SQL."""
    closed = sa.and_(a.c.kind == kind, a.c.subject_id == subject_id, a.c.left_at.is_not(None))
    seconds = _seconds_between(db, a.c.joined_at, a.c.left_at)
    totals = sa.select(
        sa.func.count(sa.distinct(a.c.user_id)).label("unique_viewers"),
        sa.func.coalesce(sa.func.sum(seconds), 0).label("watch_seconds"),
    ).where(closed)
    # Peak concurrency: +1 at each join, -1 at each leave, the highest running sum.
    edges = sa.union_all(
        sa.select(a.c.joined_at.label("at"), sa.literal(1).label("delta")).where(closed),
        sa.select(a.c.left_at.label("at"), sa.literal(-1).label("delta")).where(closed),
    ).subquery()
    running = sa.select(
        sa.func.sum(edges.c.delta).over(order_by=(edges.c.at, edges.c.delta)).label("level")
    ).subquery()
    peak = sa.select(sa.func.coalesce(sa.func.max(running.c.level), 0))
    async with db.connect() as conn:
        row = (await conn.execute(totals)).mappings().one()
        peak_value = (await conn.execute(peak)).scalar()
    return AttendanceSummary(
        unique_viewers=int(row["unique_viewers"]),
        watch_seconds=round(float(row["watch_seconds"])),
        peak_concurrency=int(peak_value or 0),
    )


def _seconds_between(db: Database, start: Any, end: Any) -> Any:
    if db.is_sqlite:
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.func.extract("epoch", end - start)
