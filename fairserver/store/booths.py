"""Booth queries and writes: the booth, its documents and jobs, a company's fairs."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rows import BoothDocumentRow, BoothJobRow, BoothRow, CompanyRow, JobRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as


def interested_flag(viewer_id: int | None) -> sa.ColumnElement[bool]:
    """Whether the viewer has expressed interest in the job of the current row."""
    if viewer_id is None:
        return sa.literal(False).label("interested")
    ji = t.job_interests
    return (
        sa.exists().where(ji.c.job_id == t.jobs.c.id, ji.c.user_id == viewer_id).label("interested")
    )


async def booth_in_fair(conn: AsyncConnection, fair_id: int, booth_id: int) -> BoothRow | None:
    """The booth with its company's name, or None when it is not in this fair."""
    b, c = t.booths, t.companies
    stmt = (
        sa.select(
            b,
            c.c.name.label("company_name"),
            c.c.slug.label("company_slug"),
            c.c.website.label("company_website"),
        )
        .select_from(b.join(c, c.c.id == b.c.company_id))
        .where(b.c.id == booth_id, b.c.fair_id == fair_id)
    )
    return await fetch_one_as(conn, stmt, BoothRow)


async def documents(conn: AsyncConnection, booth_id: int) -> list[BoothDocumentRow]:
    d = t.booth_documents
    stmt = sa.select(d).where(d.c.booth_id == booth_id).order_by(d.c.position, d.c.id)
    return await fetch_all_as(conn, stmt, BoothDocumentRow)


async def booth_jobs(
    conn: AsyncConnection, booth_id: int, viewer_id: int | None = None
) -> list[BoothJobRow]:
    j = t.jobs
    stmt = (
        sa.select(j, interested_flag(viewer_id))
        .where(j.c.booth_id == booth_id)
        .order_by(j.c.created_at.desc(), j.c.id.desc())
    )
    return await fetch_all_as(conn, stmt, BoothJobRow)


async def job_in_booth(conn: AsyncConnection, booth_id: int, job_id: int) -> JobRow | None:
    j = t.jobs
    stmt = sa.select(j).where(j.c.id == job_id, j.c.booth_id == booth_id)
    return await fetch_one_as(conn, stmt, JobRow)


async def delete_job(conn: AsyncConnection, booth_id: int, job_id: int) -> bool:
    j = t.jobs
    result = await conn.execute(j.delete().where(j.c.id == job_id, j.c.booth_id == booth_id))
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class BoothChange:
    """What the booth form saves; logo None keeps the current logo ("" removes it)."""

    tagline: str
    description_md: str
    video_url: str
    logo: str | None = None


async def update_booth(conn: AsyncConnection, booth_id: int, change: BoothChange) -> None:
    values = {k: v for k, v in asdict(change).items() if v is not None}
    await conn.execute(
        t.booths.update().where(t.booths.c.id == booth_id).values(updated_at=utcnow(), **values)
    )


async def replace_documents(
    conn: AsyncConnection, booth_id: int, rows: list[tuple[str, str]]
) -> None:
    """The booth's documents become exactly `rows` (title, url), in that order."""
    d = t.booth_documents
    await conn.execute(d.delete().where(d.c.booth_id == booth_id))
    for position, (title, url) in enumerate(rows):
        await conn.execute(
            d.insert().values(booth_id=booth_id, title=title, url=url, position=position)
        )


async def company(conn: AsyncConnection, company_id: int) -> CompanyRow | None:
    stmt = sa.select(t.companies).where(t.companies.c.id == company_id)
    return await fetch_one_as(conn, stmt, CompanyRow)


async def company_booths(conn: AsyncConnection, company_id: int) -> dict[int, int]:
    """fair_id -> booth_id for every booth the company has."""
    b = t.booths
    rows = await conn.execute(sa.select(b.c.fair_id, b.c.id).where(b.c.company_id == company_id))
    return {int(fair_id): int(booth_id) for fair_id, booth_id in rows}


async def closed_booths(conn: AsyncConnection, booth_ids: set[int]) -> set[int]:
    """Of these booths, those gone or whose company is no longer approved in the fair."""
    if not booth_ids:
        return set()
    b, fc = t.booths, t.fair_companies
    stmt = (
        sa.select(b.c.id)
        .join(fc, sa.and_(fc.c.fair_id == b.c.fair_id, fc.c.company_id == b.c.company_id))
        .where(b.c.id.in_(sorted(booth_ids)), fc.c.status == "approved")
    )
    return booth_ids - set((await conn.execute(stmt)).scalars())
