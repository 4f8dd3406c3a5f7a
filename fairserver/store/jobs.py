"""Job writes. search_text is kept here, so every write path indexes the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rows import BoothRow
from fairserver.store import tables as t

JOB_FIELDS = (
    "title",
    "location",
    "salary_min",
    "salary_max",
    "education",
    "headcount",
    "deadline",
    "description",
)


@dataclass(frozen=True, slots=True)
class JobFields:
    """What a job posting sets (the booth, fair, company and search_text come apart)."""

    title: str
    location: str
    salary_min: int
    salary_max: int
    education: str
    headcount: int
    deadline: date | None = None
    description: str = ""


def search_text(job: JobFields, company_name: str) -> str:
    parts = (job.title, job.location, company_name, job.description)
    return " ".join(str(p) for p in parts).lower()


async def _company_name(conn: AsyncConnection, company_id: int) -> str:
    name = (
        await conn.execute(sa.select(t.companies.c.name).where(t.companies.c.id == company_id))
    ).scalar_one()
    return str(name)


async def add_job(
    conn: AsyncConnection,
    booth: BoothRow,
    job: JobFields,
    created_at: datetime | None = None,
) -> int:
    result = await conn.execute(
        t.jobs.insert()
        .values(
            booth_id=booth.id,
            fair_id=booth.fair_id,
            company_id=booth.company_id,
            created_at=created_at or utcnow(),
            search_text=search_text(job, await _company_name(conn, booth.company_id)),
            **asdict(job),
        )
        .returning(t.jobs.c.id)
    )
    return int(result.scalar_one())


async def insert_job(
    conn: AsyncConnection, booth: Mapping[str, Any], job: Mapping[str, Any]
) -> int:
    """A job from data keyed by column name (the demo's TOML, test fixtures): keys
    outside JOB_FIELDS are ignored, except created_at."""
    fields = JobFields(**{k: job[k] for k in JOB_FIELDS if k in job})
    result = await conn.execute(
        t.jobs.insert()
        .values(
            booth_id=booth["id"],
            fair_id=booth["fair_id"],
            company_id=booth["company_id"],
            created_at=job.get("created_at") or utcnow(),
            search_text=search_text(fields, await _company_name(conn, booth["company_id"])),
            **asdict(fields),
        )
        .returning(t.jobs.c.id)
    )
    return int(result.scalar_one())


async def update_job(conn: AsyncConnection, job_id: int, company_id: int, job: JobFields) -> None:
    text = search_text(job, await _company_name(conn, company_id))
    await conn.execute(
        t.jobs.update().where(t.jobs.c.id == job_id).values(search_text=text, **asdict(job))
    )


async def set_interest(conn: AsyncConnection, job_id: int, user_id: int, interested: bool) -> None:
    """Idempotent: expressing interest twice, or withdrawing it twice, is one change."""
    ji = t.job_interests
    await conn.execute(ji.delete().where(ji.c.job_id == job_id, ji.c.user_id == user_id))
    if interested:
        await conn.execute(ji.insert().values(job_id=job_id, user_id=user_id, created_at=utcnow()))


async def is_interested(conn: AsyncConnection, job_id: int, user_id: int) -> bool:
    ji = t.job_interests
    found = await conn.execute(
        sa.select(ji.c.job_id).where(ji.c.job_id == job_id, ji.c.user_id == user_id)
    )
    return found.first() is not None
