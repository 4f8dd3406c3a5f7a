"""Briefing queries and writes: the schedule, its presenters, who may present."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all, fetch_one

BRIEFING_FIELDS = ("company_id", "title", "description", "starts_at", "ends_at", "status")


def _with_company() -> sa.Select[Any]:
    b, c = t.briefings, t.companies
    return sa.select(b, c.c.name.label("company_name")).select_from(
        b.join(c, c.c.id == b.c.company_id)
    )


async def presenters_of(
    conn: AsyncConnection, briefing_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """briefing id -> its presenters (id, display_name), by name."""
    ids = sorted(set(briefing_ids))
    if not ids:
        return {}
    bp, u = t.briefing_presenters, t.users
    rows = await fetch_all(
        conn,
        sa.select(bp.c.briefing_id, u.c.id, u.c.display_name)
        .select_from(bp.join(u, u.c.id == bp.c.user_id))
        .where(bp.c.briefing_id.in_(ids))
        .order_by(u.c.display_name, u.c.id),
    )
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        found[row["briefing_id"]].append({"id": row["id"], "display_name": row["display_name"]})
    return found


async def fair_briefings(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    """Every briefing of a fair, in time order, each with company_name and presenters."""
    b = t.briefings
    rows = await fetch_all(
        conn, _with_company().where(b.c.fair_id == fair_id).order_by(b.c.starts_at, b.c.id)
    )
    presenters = await presenters_of(conn, (row["id"] for row in rows))
    for row in rows:
        row["presenters"] = presenters.get(row["id"], [])
    return rows


async def fair_briefing(
    conn: AsyncConnection, fair_id: int, briefing_id: int
) -> dict[str, Any] | None:
    """One briefing, only if it belongs to this fair (an id from another fair is missing)."""
    b = t.briefings
    row = await fetch_one(
        conn, _with_company().where(b.c.fair_id == fair_id, b.c.id == briefing_id)
    )
    if row is not None:
        row["presenters"] = (await presenters_of(conn, [briefing_id]))[briefing_id]
    return row


async def company_recruiters(
    conn: AsyncConnection, company_ids: Iterable[int]
) -> list[dict[str, Any]]:
    """Active recruiters of these companies (id, display_name, company_id), by name."""
    ids = sorted(set(company_ids))
    if not ids:
        return []
    u = t.users
    return await fetch_all(
        conn,
        sa.select(u.c.id, u.c.display_name, u.c.company_id)
        .where(u.c.role == "recruiter", u.c.company_id.in_(ids), u.c.disabled_at.is_(None))
        .order_by(u.c.display_name, u.c.id),
    )


async def approved_companies(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    """Companies approved in a fair (id, name), by name: who may hold a briefing there."""
    c, fc = t.companies, t.fair_companies
    return await fetch_all(
        conn,
        sa.select(c.c.id, c.c.name)
        .select_from(c.join(fc, fc.c.company_id == c.c.id))
        .where(fc.c.fair_id == fair_id, fc.c.status == "approved")
        .order_by(c.c.name, c.c.id),
    )


async def _replace_presenters(
    conn: AsyncConnection, briefing_id: int, presenter_ids: Iterable[int]
) -> None:
    bp = t.briefing_presenters
    await conn.execute(bp.delete().where(bp.c.briefing_id == briefing_id))
    for user_id in sorted(set(presenter_ids)):
        await conn.execute(bp.insert().values(briefing_id=briefing_id, user_id=user_id))


async def insert_briefing(
    conn: AsyncConnection, fair_id: int, values: dict[str, Any], presenter_ids: Iterable[int]
) -> int:
    fields = {k: values[k] for k in BRIEFING_FIELDS if k in values}
    result = await conn.execute(
        t.briefings.insert()
        .values(fair_id=fair_id, created_at=utcnow(), **fields)
        .returning(t.briefings.c.id)
    )
    briefing_id = int(result.scalar_one())
    await _replace_presenters(conn, briefing_id, presenter_ids)
    return briefing_id


async def update_briefing(
    conn: AsyncConnection, briefing_id: int, values: dict[str, Any], presenter_ids: Iterable[int]
) -> None:
    fields = {k: values[k] for k in BRIEFING_FIELDS if k in values}
    await conn.execute(t.briefings.update().where(t.briefings.c.id == briefing_id).values(**fields))
    await _replace_presenters(conn, briefing_id, presenter_ids)
