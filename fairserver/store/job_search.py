"""Job search across a fair, in SQL: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Terms are ANDed; each matches as a substring of jobs.search_text (lower-cased
title, location, company and description), which works for Chinese, where
words have no spaces, as well as for English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.rows import CompanyBrief, JobDetail, JobListing
from fairserver.store import tables as t
from fairserver.store.booths import interested_flag
from fairserver.store.db import fetch_all_as, fetch_one_as

# The FTS5 table is created by the migration; this is only enough of it to query.
jobs_fts = sa.table("jobs_fts", sa.column("rowid", sa.Integer), sa.column("search_text", sa.Text))

_LIKE_SPECIALS = ("\\", "%", "_")


@dataclass(frozen=True)
class JobFilter:
    fair_id: int
    terms: tuple[str, ...] = ()  # lower-cased, non-empty
    location: str = ""
    educations: tuple[str, ...] = ()  # allowed values; empty means any
    company_id: int | None = None
    company_slug: str | None = None
    sort: str = "newest"  # newest | salary
    limit: int = 20
    offset: int = 0
    viewer_id: int | None = None


def contains_pattern(term: str) -> str:
    """A LIKE pattern matching `term` literally anywhere (escape character: backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def term_condition(dialect: str, term: str) -> sa.ColumnElement[bool]:
    j = t.jobs
    if dialect == "postgresql":
        return j.c.search_text.ilike(contains_pattern(term), escape="\\")
    # FTS5 answers LIKE from its trigram index only for a pattern of 3+ characters
    # and without an ESCAPE clause (with one, it scans; for shorter CJK terms it
    # even returns nothing). Those terms match on the jobs table instead.
    if len(term) >= 3 and not any(ch in term for ch in _LIKE_SPECIALS):
        matching = sa.select(jobs_fts.c.rowid).where(jobs_fts.c.search_text.like(f"%{term}%"))
        return j.c.id.in_(matching)
    return j.c.search_text.like(contains_pattern(term), escape="\\")


def _from_clause() -> sa.FromClause:
    j, c, fc = t.jobs, t.companies, t.fair_companies
    return j.join(c, c.c.id == j.c.company_id).join(
        fc, (fc.c.fair_id == j.c.fair_id) & (fc.c.company_id == j.c.company_id)
    )


def _with_company() -> sa.FromClause:
    return t.jobs.join(t.companies, t.companies.c.id == t.jobs.c.company_id)


def _conditions(dialect: str, f: JobFilter) -> list[sa.ColumnElement[bool]]:
    j, c, fc = t.jobs, t.companies, t.fair_companies
    conditions = [j.c.fair_id == f.fair_id, fc.c.status == "approved"]
    conditions += [term_condition(dialect, term) for term in f.terms]
    if f.location:
        conditions.append(j.c.location.ilike(contains_pattern(f.location), escape="\\"))
    if f.educations:
        conditions.append(j.c.education.in_(f.educations))
    if f.company_id is not None:
        conditions.append(j.c.company_id == f.company_id)
    if f.company_slug is not None:
        conditions.append(c.c.slug == f.company_slug)
    return conditions


def _columns(viewer_id: int | None) -> list[Any]:
    j, c = t.jobs, t.companies
    return [
        j.c.id,
        j.c.booth_id,
        j.c.company_id,
        j.c.title,
        j.c.location,
        j.c.salary_min,
        j.c.salary_max,
        j.c.education,
        j.c.headcount,
        j.c.deadline,
        j.c.created_at,
        c.c.name.label("company_name"),
        c.c.slug.label("company_slug"),
        interested_flag(viewer_id),
    ]


async def search_jobs(conn: AsyncConnection, f: JobFilter) -> tuple[list[JobListing], int]:
    """One page of matching jobs of approved booths, and the total number of matches."""
    j = t.jobs
    conditions = _conditions(conn.dialect.name, f)
    order = (
        (j.c.salary_max.desc(), j.c.id.desc())
        if f.sort == "salary"
        else (j.c.created_at.desc(), j.c.id.desc())
    )
    page = (
        sa.select(*_columns(f.viewer_id))
        .select_from(_from_clause())
        .where(*conditions)
        .order_by(*order)
        .limit(f.limit)
        .offset(f.offset)
    )
    count = sa.select(sa.func.count()).select_from(_from_clause()).where(*conditions)
    rows = await fetch_all_as(conn, page, JobListing)
    total = int((await conn.execute(count)).scalar_one())
    return rows, total


async def job_in_fair(
    conn: AsyncConnection, fair_id: int, job_id: int, viewer_id: int | None = None
) -> JobDetail | None:
    """One job of the fair with its company, whatever the booth's status (callers check)."""
    j = t.jobs
    stmt = (
        sa.select(*_columns(viewer_id), j.c.description)
        .select_from(_with_company())
        .where(j.c.id == job_id, j.c.fair_id == fair_id)
    )
    return await fetch_one_as(conn, stmt, JobDetail)


async def fair_companies(conn: AsyncConnection, fair_id: int) -> list[CompanyBrief]:
    """Approved companies of the fair, for the search form's company filter."""
    c, fc = t.companies, t.fair_companies
    stmt = (
        sa.select(c.c.id, c.c.slug, c.c.name)
        .select_from(c.join(fc, fc.c.company_id == c.c.id))
        .where(fc.c.fair_id == fair_id, fc.c.status == "approved")
        .order_by(c.c.name)
    )
    return await fetch_all_as(conn, stmt, CompanyBrief)
