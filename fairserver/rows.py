"""Rows that several layers share (store, permissions, services, transports), as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
class SchoolRow:
    id: int
    slug: str
    name: str
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
