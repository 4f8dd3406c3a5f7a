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
