"""Rows that several layers share (store, permissions, services, transports), as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class FairRow:
    """A fair as stored."""

    id: int
    slug: str
    school_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    visibility: str  # campus | multi | open
    published: bool
    created_at: datetime
    # I1's booking window, set by the organiser; None: interview bookings are closed.
    booking_opens_at: datetime | None
    booking_closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class BoothRow:
    """A booth as stored, with its company's name, slug and website."""

    id: int
    fair_id: int
    company_id: int
    tagline: str
    description_md: str
    video_url: str
    logo: str
    updated_at: datetime
    company_name: str
    company_slug: str
    company_website: str


@dataclass(frozen=True, slots=True)
class PresenterRow:
    """A briefing's presenter: a recruiter of its company."""

    id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class BriefingRow:
    """A briefing as its pages show it, with its company's name and its presenters (by name)."""

    id: int
    fair_id: int
    company_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    status: str  # scheduled | live | ended | cancelled
    created_at: datetime
    company_name: str
    presenters: tuple[PresenterRow, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordingRow:
    """A recording (P7 briefings, I3 interviews): one file under the recordings dir."""

    id: int
    fair_id: int
    kind: str  # briefing | interview
    subject_id: int  # the briefing's or the interview's id
    started_by: int
    file_name: str
    state: str  # recording | complete | failed
    started_at: datetime
    ended_at: datetime | None
    bytes: int


@dataclass(frozen=True, slots=True)
class SchoolRow:
    id: int
    slug: str
    name: str
    enrols_students: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HallRow:
    """One hall of a fair (booth, briefing, policy, registration), with its title."""

    id: int
    fair_id: int
    kind: str
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class BoothCard:
    """A booth as the fair's booth list shows it: an approved company's, with job count."""

    id: int
    tagline: str
    logo: str
    company_id: int
    company_name: str
    company_slug: str
    job_count: int


@dataclass(frozen=True, slots=True)
class CompanyBrief:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """A student's profile, with their school's name."""

    user_id: int
    school_id: int
    student_no: str
    real_name: str
    major: str
    degree: str
    graduation_year: int
    phone: str
    resume: str
    verified_at: datetime | None
    school_name: str


@dataclass(frozen=True, slots=True)
class CompanyRow:
    id: int
    slug: str
    name: str
    website: str
    about: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BoothDocumentRow:
    id: int
    booth_id: int
    title: str
    url: str
    position: int


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as stored."""

    id: int
    booth_id: int
    fair_id: int
    company_id: int
    title: str
    location: str
    salary_min: int
    salary_max: int
    education: str
    headcount: int
    deadline: date | None
    description: str
    search_text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BoothJobRow(JobRow):
    """A job of a booth, and whether the viewer has expressed interest in it."""

    interested: bool


@dataclass(frozen=True, slots=True)
class JobListing:
    """A job as the fair's job search lists it, with its company."""

    id: int
    booth_id: int
    company_id: int
    title: str
    location: str
    salary_min: int
    salary_max: int
    education: str
    headcount: int
    deadline: date | None
    created_at: datetime
    company_name: str
    company_slug: str
    interested: bool


@dataclass(frozen=True, slots=True)
class JobDetail(JobListing):
    """A job's own page: the listing with its description."""

    description: str
