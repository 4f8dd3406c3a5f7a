"""SQL for job applications (B2): a student applies with a copy of their résumé as it
was then; the job's company invites them to book a slot. One row per student and job
(a unique constraint): applying again after a withdrawal reopens that row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

ja, j, u, p, s, f = (
    t.job_applications,
    t.jobs,
    t.users,
    t.student_profiles,
    t.schools,
    t.fairs,
)


@dataclass(frozen=True, slots=True)
class CompanyJobRow:
    """A job with what its company's pages need: its fair and booth."""

    id: int
    company_id: int
    fair_id: int
    booth_id: int
    title: str
    fair_slug: str
    fair_title: str
    fair_timezone: str


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    id: int
    job_id: int
    fair_id: int
    company_id: int
    student_id: int
    message: str
    resume: str
    state: str  # applied | invited | withdrawn
    created_at: datetime
    invited_at: datetime | None
    invited_by: int | None
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApplicantRow(ApplicationRow):
    """An application with the applicant's profile, as the company sees it."""

    display_name: str
    real_name: str
    major: str
    degree: str
    graduation_year: int
    school: str


_APPLICATION = (
    ja.c.id,
    ja.c.job_id,
    ja.c.fair_id,
    ja.c.company_id,
    ja.c.student_id,
    ja.c.message,
    ja.c.resume,
    ja.c.state,
    ja.c.created_at,
    ja.c.invited_at,
    ja.c.invited_by,
    ja.c.withdrawn_at,
)


async def company_job(conn: AsyncConnection, job_id: int) -> CompanyJobRow | None:
    stmt = (
        sa.select(
            j.c.id,
            j.c.company_id,
            j.c.fair_id,
            j.c.booth_id,
            j.c.title,
            f.c.slug.label("fair_slug"),
            f.c.title.label("fair_title"),
            f.c.timezone.label("fair_timezone"),
        )
        .join(f, f.c.id == j.c.fair_id)
        .where(j.c.id == job_id)
    )
    return await fetch_one_as(conn, stmt, CompanyJobRow)


async def application_of(
    conn: AsyncConnection, job_id: int, student_id: int
) -> ApplicationRow | None:
    stmt = sa.select(*_APPLICATION).where(ja.c.job_id == job_id, ja.c.student_id == student_id)
    return await fetch_one_as(conn, stmt, ApplicationRow)


async def application(conn: AsyncConnection, application_id: int) -> ApplicationRow | None:
    return await fetch_one_as(
        conn, sa.select(*_APPLICATION).where(ja.c.id == application_id), ApplicationRow
    )


async def resume_of(conn: AsyncConnection, student_id: int) -> str | None:
    """The student's résumé now; None without a profile."""
    found = await conn.execute(sa.select(p.c.resume).where(p.c.user_id == student_id))
    value = found.scalar_one_or_none()
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class JobRef:
    """Where an application goes: the job, its fair and its company."""

    id: int
    fair_id: int
    company_id: int


async def insert_application(
    conn: AsyncConnection,
    job: JobRef,
    student_id: int,
    message: str,
    resume: str,
    at: datetime,
) -> None:
    """Fails on the unique constraint when the student has applied before."""
    await conn.execute(
        ja.insert().values(
            job_id=job.id,
            fair_id=job.fair_id,
            company_id=job.company_id,
            student_id=student_id,
            message=message,
            resume=resume,
            state="applied",
            created_at=at,
        )
    )


async def reapply(
    conn: AsyncConnection, job_id: int, student_id: int, message: str, resume: str, at: datetime
) -> bool:
    """A withdrawn application, applied again: a fresh message, résumé and date."""
    result = await conn.execute(
        ja.update()
        .where(ja.c.job_id == job_id, ja.c.student_id == student_id, ja.c.state == "withdrawn")
        .values(
            state="applied",
            message=message,
            resume=resume,
            created_at=at,
            invited_at=None,
            invited_by=None,
            withdrawn_at=None,
        )
    )
    return result.rowcount == 1


async def withdraw(conn: AsyncConnection, job_id: int, student_id: int, at: datetime) -> bool:
    result = await conn.execute(
        ja.update()
        .where(ja.c.job_id == job_id, ja.c.student_id == student_id, ja.c.state != "withdrawn")
        .values(state="withdrawn", withdrawn_at=at)
    )
    return result.rowcount == 1


async def invite(
    conn: AsyncConnection, application_id: int, job_id: int, by: int, at: datetime
) -> bool:
    """applied -> invited, once: a second click (or a colleague's) changes nothing."""
    result = await conn.execute(
        ja.update()
        .where(ja.c.id == application_id, ja.c.job_id == job_id, ja.c.state == "applied")
        .values(state="invited", invited_at=at, invited_by=by)
    )
    return result.rowcount == 1


async def applicants(conn: AsyncConnection, job_id: int) -> list[ApplicantRow]:
    """A job's applications that are not withdrawn, oldest first."""
    stmt = (
        sa.select(
            *_APPLICATION,
            u.c.display_name,
            p.c.real_name,
            p.c.major,
            p.c.degree,
            p.c.graduation_year,
            s.c.name.label("school"),
        )
        .join(u, u.c.id == ja.c.student_id)
        .join(p, p.c.user_id == ja.c.student_id)
        .join(s, s.c.id == p.c.school_id)
        .where(ja.c.job_id == job_id, ja.c.state != "withdrawn")
        .order_by(ja.c.created_at, ja.c.id)
    )
    return await fetch_all_as(conn, stmt, ApplicantRow)
