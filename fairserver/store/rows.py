"""Rows that several layers share, as typed values (the store makes them, nobody else)."""

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
