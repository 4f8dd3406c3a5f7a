"""Briefing queries and writes: the schedule, its presenters, who may present."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rows import BriefingRow, PresenterRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as


@dataclass(frozen=True, slots=True)
class _PresenterOf:
    briefing_id: int
    id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class RecruiterRow:
    """An active recruiter who may present a briefing of their company."""

    id: int
    display_name: str
    company_id: int  # NULL only for non-recruiters, whom the query leaves out


@dataclass(frozen=True, slots=True)
class CompanyChoice:
    """A company approved in a fair: it may hold a briefing there."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class NewBriefing:
    company_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    status: str = "scheduled"


@dataclass(frozen=True, slots=True)
class BriefingChange:
    """What an edit sets on a briefing; None leaves a column as it is."""

    company_id: int | None = None
    title: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    status: str | None = None

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _with_company() -> sa.Select[Any]:
    b, c = t.briefings, t.companies
    return sa.select(b, c.c.name.label("company_name")).select_from(
        b.join(c, c.c.id == b.c.company_id)
    )


async def presenters_of(
    conn: AsyncConnection, briefing_ids: Iterable[int]
) -> dict[int, tuple[PresenterRow, ...]]:
    """briefing id -> its presenters, by name."""
    ids = sorted(set(briefing_ids))
    if not ids:
        return {}
    bp, u = t.briefing_presenters, t.users
    rows = await fetch_all_as(
        conn,
        sa.select(bp.c.briefing_id, u.c.id, u.c.display_name)
        .select_from(bp.join(u, u.c.id == bp.c.user_id))
        .where(bp.c.briefing_id.in_(ids))
        .order_by(u.c.display_name, u.c.id),
        _PresenterOf,
    )
    found: dict[int, list[PresenterRow]] = {i: [] for i in ids}
    for row in rows:
        found[row.briefing_id].append(PresenterRow(id=row.id, display_name=row.display_name))
    return {i: tuple(people) for i, people in found.items()}


async def fair_briefings(conn: AsyncConnection, fair_id: int) -> list[BriefingRow]:
    """Every briefing of a fair, in time order, each with company_name and presenters."""
    b = t.briefings
    rows = await fetch_all_as(
        conn,
        _with_company().where(b.c.fair_id == fair_id).order_by(b.c.starts_at, b.c.id),
        BriefingRow,
    )
    presenters = await presenters_of(conn, (row.id for row in rows))
    return [dataclasses.replace(row, presenters=presenters.get(row.id, ())) for row in rows]


async def fair_briefing(
    conn: AsyncConnection, fair_id: int, briefing_id: int
) -> BriefingRow | None:
    """One briefing, only if it belongs to this fair (an id from another fair is missing)."""
    b = t.briefings
    row = await fetch_one_as(
        conn, _with_company().where(b.c.fair_id == fair_id, b.c.id == briefing_id), BriefingRow
    )
    if row is None:
        return None
    presenters = (await presenters_of(conn, [briefing_id]))[briefing_id]
    return dataclasses.replace(row, presenters=presenters)


async def company_recruiters(
    conn: AsyncConnection, company_ids: Iterable[int]
) -> list[RecruiterRow]:
    """Active recruiters of these companies, by name."""
    ids = sorted(set(company_ids))
    if not ids:
        return []
    u = t.users
    return await fetch_all_as(
        conn,
        sa.select(u.c.id, u.c.display_name, u.c.company_id)
        .where(u.c.role == "recruiter", u.c.company_id.in_(ids), u.c.disabled_at.is_(None))
        .order_by(u.c.display_name, u.c.id),
        RecruiterRow,
    )


async def approved_companies(conn: AsyncConnection, fair_id: int) -> list[CompanyChoice]:
    """Companies approved in a fair, by name: who may hold a briefing there."""
    c, fc = t.companies, t.fair_companies
    return await fetch_all_as(
        conn,
        sa.select(c.c.id, c.c.name)
        .select_from(c.join(fc, fc.c.company_id == c.c.id))
        .where(fc.c.fair_id == fair_id, fc.c.status == "approved")
        .order_by(c.c.name, c.c.id),
        CompanyChoice,
    )


async def _replace_presenters(
    conn: AsyncConnection, briefing_id: int, presenter_ids: Iterable[int]
) -> None:
    bp = t.briefing_presenters
    await conn.execute(bp.delete().where(bp.c.briefing_id == briefing_id))
    for user_id in sorted(set(presenter_ids)):
        await conn.execute(bp.insert().values(briefing_id=briefing_id, user_id=user_id))


async def insert_briefing(
    conn: AsyncConnection, fair_id: int, new: NewBriefing, presenter_ids: Iterable[int]
) -> int:
    result = await conn.execute(
        t.briefings.insert()
        .values(fair_id=fair_id, created_at=utcnow(), **asdict(new))
        .returning(t.briefings.c.id)
    )
    briefing_id = int(result.scalar_one())
    await _replace_presenters(conn, briefing_id, presenter_ids)
    return briefing_id


async def update_briefing(
    conn: AsyncConnection, briefing_id: int, change: BriefingChange, presenter_ids: Iterable[int]
) -> None:
    values = change.values()
    if values:
        await conn.execute(
            t.briefings.update().where(t.briefings.c.id == briefing_id).values(**values)
        )
    await _replace_presenters(conn, briefing_id, presenter_ids)
