"""Organiser queries: fair lists and edits, participation, the roster, students, exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rows import CompanyBrief, FairRow, SchoolRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all, fetch_all_as, fetch_one_as
from fairserver.store.fairs import FairSettings


@dataclass(frozen=True, slots=True)
class FairListRow(FairRow):
    """A fair as the organiser's list shows it, with its school's name."""

    school_name: str


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    """A company's participation in a fair, with its booth once one is opened."""

    company_id: int
    status: str
    message: str
    created_at: datetime
    decided_at: datetime | None
    company_name: str
    company_slug: str
    booth_id: int | None


@dataclass(frozen=True, slots=True)
class NewRosterEntry:
    """One line of a school's roster file, as imported."""

    student_no: str
    real_name: str
    major: str
    degree: str
    graduation_year: int


@dataclass(frozen=True, slots=True)
class StudentRow:
    user_id: int
    student_no: str
    real_name: str
    major: str
    degree: str
    graduation_year: int
    verified_at: datetime | None


async def fairs_of(conn: AsyncConnection, school_id: int | None) -> list[FairListRow]:
    """The fairs a school organises (every fair when school_id is None), newest first."""
    f, s = t.fairs, t.schools
    stmt = (
        sa.select(f, s.c.name.label("school_name"))
        .select_from(f.join(s, s.c.id == f.c.school_id))
        .order_by(f.c.starts_at.desc(), f.c.id.desc())
    )
    if school_id is not None:
        stmt = stmt.where(f.c.school_id == school_id)
    return await fetch_all_as(conn, stmt, FairListRow)


async def slug_taken(conn: AsyncConnection, slug: str, except_fair_id: int | None = None) -> bool:
    stmt = sa.select(t.fairs.c.id).where(t.fairs.c.slug == slug)
    if except_fair_id is not None:
        stmt = stmt.where(t.fairs.c.id != except_fair_id)
    return (await conn.execute(stmt)).first() is not None


async def update_fair(conn: AsyncConnection, fair_id: int, settings: FairSettings) -> None:
    await conn.execute(t.fairs.update().where(t.fairs.c.id == fair_id).values(**asdict(settings)))


async def school_ids(conn: AsyncConnection) -> set[int]:
    return {int(r[0]) for r in await conn.execute(sa.select(t.schools.c.id))}


async def companies(conn: AsyncConnection) -> list[CompanyBrief]:
    c = t.companies
    stmt = sa.select(c.c.id, c.c.name, c.c.slug).order_by(c.c.name)
    return await fetch_all_as(conn, stmt, CompanyBrief)


async def participants(conn: AsyncConnection, fair_id: int) -> list[ParticipantRow]:
    """Every company with a participation row in the fair, with its booth if opened."""
    fc, c, b = t.fair_companies, t.companies, t.booths
    stmt = (
        sa.select(
            fc.c.company_id,
            fc.c.status,
            fc.c.message,
            fc.c.created_at,
            fc.c.decided_at,
            c.c.name.label("company_name"),
            c.c.slug.label("company_slug"),
            b.c.id.label("booth_id"),
        )
        .select_from(
            fc.join(c, c.c.id == fc.c.company_id).outerjoin(
                b, (b.c.fair_id == fc.c.fair_id) & (b.c.company_id == fc.c.company_id)
            )
        )
        .where(fc.c.fair_id == fair_id)
        .order_by(c.c.name)
    )
    return await fetch_all_as(conn, stmt, ParticipantRow)


async def company_exists(conn: AsyncConnection, company_id: int) -> bool:
    stmt = sa.select(t.companies.c.id).where(t.companies.c.id == company_id)
    return (await conn.execute(stmt)).first() is not None


def _roster_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (school, student_no) DO UPDATE, in the engine's own dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(t.roster_entries)
    return stmt.on_conflict_do_update(
        index_elements=[t.roster_entries.c.school_id, t.roster_entries.c.student_no],
        set_={
            "real_name": stmt.excluded.real_name,
            "major": stmt.excluded.major,
            "degree": stmt.excluded.degree,
            "graduation_year": stmt.excluded.graduation_year,
            "imported_at": stmt.excluded.imported_at,
        },
    )


async def upsert_roster(
    conn: AsyncConnection, school_id: int, rows: Sequence[NewRosterEntry], chunk: int = 1000
) -> None:
    now = utcnow()
    stmt = _roster_upsert(conn.dialect.name)
    for start in range(0, len(rows), chunk):
        batch = [
            {"school_id": school_id, "imported_at": now, **asdict(row)}
            for row in rows[start : start + chunk]
        ]
        await conn.execute(stmt, batch)


async def students(
    conn: AsyncConnection, school_id: int, verified: bool | None, limit: int, offset: int
) -> tuple[list[StudentRow], int]:
    """One page of a school's active students, by student number, and the total count."""
    p, u = t.student_profiles, t.users
    where = [p.c.school_id == school_id, u.c.disabled_at.is_(None)]
    if verified is not None:
        where.append(p.c.verified_at.is_not(None) if verified else p.c.verified_at.is_(None))
    joined = p.join(u, u.c.id == p.c.user_id)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))
    ).scalar_one()
    rows = await fetch_all_as(
        conn,
        sa.select(
            p.c.user_id,
            p.c.student_no,
            p.c.real_name,
            p.c.major,
            p.c.degree,
            p.c.graduation_year,
            p.c.verified_at,
        )
        .select_from(joined)
        .where(*where)
        .order_by(p.c.student_no)
        .limit(limit)
        .offset(offset),
        StudentRow,
    )
    return rows, int(total)


async def school_by_id(conn: AsyncConnection, school_id: int) -> SchoolRow | None:
    stmt = sa.select(t.schools).where(t.schools.c.id == school_id)
    return await fetch_one_as(conn, stmt, SchoolRow)


# Exports. Rows carry ids and raw times; rooms/fairs/export.py decides what is shown.
# They stay dicts keyed by column name: the CSV is column-keyed by design (each kind's
# columns are listed in export.py, and _shown blanks or adds cells by name).


async def export_companies(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    fc, c, j = t.fair_companies, t.companies, t.jobs
    job_count = (
        sa.select(sa.func.count())
        .where(j.c.fair_id == fc.c.fair_id, j.c.company_id == fc.c.company_id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            c.c.name.label("company"),
            c.c.slug.label("company_slug"),
            fc.c.status,
            fc.c.message,
            fc.c.created_at,
            fc.c.decided_at,
            job_count.label("jobs"),
        )
        .select_from(fc.join(c, c.c.id == fc.c.company_id))
        .where(fc.c.fair_id == fair_id)
        .order_by(c.c.name)
    )
    return await fetch_all(conn, stmt)


async def export_jobs(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    j, c, ji = t.jobs, t.companies, t.job_interests
    interested = sa.select(sa.func.count()).where(ji.c.job_id == j.c.id).scalar_subquery()
    stmt = (
        sa.select(
            j.c.id.label("job_id"),
            c.c.name.label("company"),
            j.c.title,
            j.c.location,
            j.c.salary_min,
            j.c.salary_max,
            j.c.education,
            j.c.headcount,
            j.c.deadline,
            j.c.created_at,
            interested.label("interested"),
        )
        .select_from(j.join(c, c.c.id == j.c.company_id))
        .where(j.c.fair_id == fair_id)
        .order_by(c.c.name, j.c.id)
    )
    return await fetch_all(conn, stmt)


async def export_interest(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    j, c, ji, p, s = t.jobs, t.companies, t.job_interests, t.student_profiles, t.schools
    stmt = (
        sa.select(
            j.c.id.label("job_id"),
            j.c.title.label("job_title"),
            c.c.name.label("company"),
            p.c.school_id.label("student_school_id"),
            s.c.name.label("school"),
            p.c.student_no,
            p.c.real_name,
            p.c.major,
            p.c.degree,
            p.c.graduation_year,
            ji.c.created_at,
        )
        .select_from(
            ji.join(j, j.c.id == ji.c.job_id)
            .join(c, c.c.id == j.c.company_id)
            .outerjoin(p, p.c.user_id == ji.c.user_id)
            .outerjoin(s, s.c.id == p.c.school_id)
        )
        .where(j.c.fair_id == fair_id)
        .order_by(c.c.name, j.c.id, ji.c.created_at)
    )
    return await fetch_all(conn, stmt)


async def export_attendance(conn: AsyncConnection, fair_id: int) -> list[dict[str, Any]]:
    a, u, p, s, c = t.attendance, t.users, t.student_profiles, t.schools, t.companies
    stmt = (
        sa.select(
            a.c.id.label("attendance_id"),
            a.c.kind,
            a.c.subject_id,
            u.c.role,
            c.c.name.label("company"),
            p.c.school_id.label("student_school_id"),
            s.c.name.label("school"),
            p.c.student_no,
            p.c.real_name,
            a.c.joined_at,
            a.c.left_at,
            a.c.close_reason,
        )
        .select_from(
            a.join(u, u.c.id == a.c.user_id)
            .outerjoin(c, c.c.id == u.c.company_id)
            .outerjoin(p, p.c.user_id == a.c.user_id)
            .outerjoin(s, s.c.id == p.c.school_id)
        )
        .where(a.c.fair_id == fair_id)
        .order_by(a.c.joined_at, a.c.id)
    )
    return await fetch_all(conn, stmt)
