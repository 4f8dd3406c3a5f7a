"""An interview's history (I4): every change to its booking, panel, scorecards, notes,
outcome, release and agreements, appended in the transaction that makes the change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as

h, u = t.interview_history, t.users


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    interview_id: int
    actor_id: int | None
    actor_name: str | None  # None: the server did it
    at: datetime
    kind: str
    detail: str  # JSON

    @property
    def details(self) -> dict[str, Any]:
        value = json.loads(self.detail)
        return value if isinstance(value, dict) else {}


async def record(
    conn: AsyncConnection,
    interview_id: int,
    actor_id: int | None,
    at: datetime,
    kind: str,
    **detail: Any,
) -> None:
    """Appends one change. ``detail`` must be JSON-serialisable (ids, strings, numbers)."""
    await conn.execute(
        h.insert().values(
            interview_id=interview_id,
            actor_id=actor_id,
            at=at,
            kind=kind,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )


async def history(conn: AsyncConnection, interview_id: int) -> list[HistoryRow]:
    """Oldest first."""
    stmt = (
        sa.select(
            h.c.id,
            h.c.interview_id,
            h.c.actor_id,
            u.c.display_name.label("actor_name"),
            h.c.at,
            h.c.kind,
            h.c.detail,
        )
        .outerjoin(u, u.c.id == h.c.actor_id)
        .where(h.c.interview_id == interview_id)
        .order_by(h.c.id)
    )
    return await fetch_all_as(conn, stmt, HistoryRow)
