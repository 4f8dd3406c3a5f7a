"""Attendance intervals merged per person (gaps and islands), for presence and reports.

Two tabs open on one briefing give two overlapping intervals; a person was there once.
An interval starts a new island when it begins after every earlier one (in the same
partition) has ended; an island runs from its first start to its last end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fairserver.store import tables as t


def open_end(now: datetime) -> Any:
    """attendance.left_at, with an open interval ending at ``now``. Another worker's clock
    may be a little behind: an open interval never ends before it began."""
    a = t.attendance
    at = sa.literal(now, t.TS)
    return sa.case(
        (a.c.left_at.is_not(None), a.c.left_at), (a.c.joined_at > at, a.c.joined_at), else_=at
    )


def islands(source: sa.Subquery | sa.CTE, partition: Sequence[str], cte: str | None = None) -> Any:
    """The merged intervals of ``source`` (columns: ``partition``, id, joined_at, left_at)
    as (``partition``..., start, end), one row per island; a CTE of that name when ``cte``
    is given (computed once where it is read twice)."""
    keys = [source.c[name] for name in partition]
    base = sa.select(
        *keys,
        source.c.joined_at,
        source.c.left_at,
        source.c.id,
        sa.func.max(source.c.left_at)
        .over(partition_by=keys, order_by=(source.c.joined_at, source.c.id), rows=(None, -1))
        .label("before_end"),
    ).subquery()
    starts = sa.case(
        (sa.or_(base.c.before_end.is_(None), base.c.joined_at > base.c.before_end), 1), else_=0
    )
    base_keys = [base.c[name] for name in partition]
    numbered = sa.select(
        *base_keys,
        base.c.joined_at,
        base.c.left_at,
        sa.func.sum(starts)
        .over(partition_by=base_keys, order_by=(base.c.joined_at, base.c.id))
        .label("island"),
    ).subquery()
    numbered_keys = [numbered.c[name] for name in partition]
    merged = sa.select(
        *numbered_keys,
        sa.func.min(numbered.c.joined_at).label("start"),
        sa.func.max(numbered.c.left_at).label("end"),
    ).group_by(*numbered_keys, numbered.c.island)
    return merged.cte(cte) if cte else merged.subquery()
