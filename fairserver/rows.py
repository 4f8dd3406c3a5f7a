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
