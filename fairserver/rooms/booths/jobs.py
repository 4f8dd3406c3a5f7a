"""Jobs (B2): search across a fair, interest, and a booth's job postings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from fairserver.i18n import gettext as _
from fairserver.rooms.errors import Refused
from fairserver.rooms.notify import Outbound
from fairserver.rows import BoothRow, CompanyBrief, JobListing
from fairserver.store import booths as booth_store
from fairserver.store import job_search
from fairserver.store import jobs as job_store
from fairserver.store.db import Database
from fairserver.store.jobs import JobFields
from fairserver.text import Line, Text

PAGE_SIZE = 20
MAX_TERMS = 8
# Lowest to highest: filtering by a level shows jobs asking for that level or less.
EDUCATION_LEVELS = ("secondary", "diploma", "bachelor", "master", "doctorate")
Education = Literal["secondary", "diploma", "bachelor", "master", "doctorate"]
_COMPANY = re.compile(r"[0-9]{1,9}|[a-z0-9][a-z0-9_-]{0,63}")


def _empty_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class JobQuery(BaseModel):
    """The search form's query string."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: Line = Field(default="", max_length=100)
    location: Line = Field(default="", max_length=100)
    education: Literal["", "secondary", "diploma", "bachelor", "master", "doctorate"] = ""
    company: str = Field(default="", max_length=64)
    sort: Literal["newest", "salary"] = "newest"
    page: int = Field(default=1, ge=1, le=10000)

    @field_validator("company")
    @classmethod
    def _company_ref(cls, value: str) -> str:
        if value and not _COMPANY.fullmatch(value):
            raise ValueError(_("Choose a company from the list."))
        return value

    def terms(self) -> tuple[str, ...]:
        """Lower-cased, distinct, at most MAX_TERMS: each must appear in a job."""
        unique = dict.fromkeys(word.lower() for word in self.q.split())
        return tuple(unique)[:MAX_TERMS]

    def educations(self) -> tuple[str, ...]:
        if not self.education:
            return ()
        return EDUCATION_LEVELS[: EDUCATION_LEVELS.index(self.education) + 1]

    def link_params(self, page: int | None = None) -> dict[str, str]:
        """The non-default parameters, for links to other pages of the same search."""
        params = {k: str(v) for k, v in self.model_dump().items() if v not in ("", None)}
        params.pop("page", None)
        if params.get("sort") == "newest":
            params.pop("sort")
        if page is not None and page > 1:
            params["page"] = str(page)
        return params


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobListing]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


async def search(db: Database, fair_id: int, query: JobQuery, viewer_id: int | None) -> JobPage:
    company_id = int(query.company) if query.company.isdigit() else None
    company_slug = query.company if query.company and company_id is None else None
    search_filter = job_search.JobFilter(
        fair_id=fair_id,
        terms=query.terms(),
        location=query.location.lower(),
        educations=query.educations(),
        company_id=company_id,
        company_slug=company_slug,
        sort=query.sort,
        limit=PAGE_SIZE,
        offset=(query.page - 1) * PAGE_SIZE,
        viewer_id=viewer_id,
    )
    async with db.connect() as conn:
        rows, total = await job_search.search_jobs(conn, search_filter)
    return JobPage(rows, total, query.page)


class JobCompany(Outbound):
    id: int
    slug: str
    name: str


class JobJson(Outbound):
    """A job as the JSON API shows it."""

    id: int
    title: str
    location: str
    salary_min: int
    salary_max: int
    education: str
    headcount: int
    deadline: date | None
    created_at: str  # isoformat ("+00:00"), as the API has always given it
    company: JobCompany
    booth_id: int
    interested: bool
    url: str


class JobSearchReply(Outbound):
    """GET /api/fairs/{slug}/jobs: one page of the search."""

    jobs: list[JobJson]
    total: int
    page: int
    pages: int


def job_json(job: JobListing, fair_slug: str) -> JobJson:
    return JobJson(
        id=job.id,
        title=job.title,
        location=job.location,
        salary_min=job.salary_min,
        salary_max=job.salary_max,
        education=job.education,
        headcount=job.headcount,
        deadline=job.deadline,
        created_at=job.created_at.isoformat(),
        company=JobCompany(id=job.company_id, slug=job.company_slug, name=job.company_name),
        booth_id=job.booth_id,
        interested=bool(job.interested),
        url=f"/fairs/{fair_slug}/jobs/{job.id}",
    )


def search_reply(result: JobPage, fair_slug: str) -> JobSearchReply:
    return JobSearchReply(
        jobs=[job_json(job, fair_slug) for job in result.jobs],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


async def set_interest(db: Database, job_id: int, user_id: int, wanted: bool | None) -> bool:
    """Sets (or, when `wanted` is None, toggles) the student's interest; returns it."""
    async with db.begin() as conn:
        if wanted is None:
            wanted = not await job_store.is_interested(conn, job_id, user_id)
        await job_store.set_interest(conn, job_id, user_id, wanted)
    return wanted


OptionalDate = Annotated[date | None, BeforeValidator(_empty_to_none)]


class JobForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line = Field(min_length=1, max_length=200)
    location: Line = Field(min_length=1, max_length=200)
    salary_min: int = Field(ge=0, le=10_000_000)
    salary_max: int = Field(ge=0, le=10_000_000)
    education: Education
    headcount: int = Field(ge=1, le=10000)
    deadline: OptionalDate = None
    description: Text = Field(default="", max_length=5000)

    @field_validator("salary_max")
    @classmethod
    def _band(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("salary_min")
        if low is not None and value < low:
            raise ValueError(_("The highest salary must not be below the lowest."))
        return value

    @field_validator("deadline")
    @classmethod
    def _sane_deadline(cls, value: date | None) -> date | None:
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError(_("Enter a date between 2000 and 2100."))
        return value


async def add_job(db: Database, booth: BoothRow, form: JobForm) -> int:
    async with db.begin() as conn:
        return await job_store.add_job(conn, booth, JobFields(**form.model_dump()))


async def edit_job(db: Database, booth: BoothRow, job_id: int, form: JobForm) -> None:
    async with db.begin() as conn:
        if await booth_store.job_in_booth(conn, booth.id, job_id) is None:
            raise Refused("form", _("This job no longer exists."), code="job.gone")
        await job_store.update_job(conn, job_id, booth.company_id, JobFields(**form.model_dump()))


async def delete_job(db: Database, booth: BoothRow, job_id: int) -> bool:
    async with db.begin() as conn:
        return await booth_store.delete_job(conn, booth.id, job_id)


async def fair_companies(db: Database, fair_id: int) -> list[CompanyBrief]:
    """The companies whose jobs the fair's search can filter by."""
    async with db.connect() as conn:
        return await job_search.fair_companies(conn, fair_id)
