"""Fair queries: access context, lists, halls, participation, announcements."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.permissions import FairAccess
from fairserver.rows import BoothCard, FairRow, HallRow, SchoolRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

HALL_ORDER = {"booth": 0, "briefing": 1, "policy": 2, "registration": 3}


async def _access_for(conn: AsyncConnection, fair: FairRow) -> FairAccess:
    schools = await conn.execute(
        sa.select(t.fair_schools.c.school_id).where(t.fair_schools.c.fair_id == fair.id)
    )
    companies = await conn.execute(
        sa.select(t.fair_companies.c.company_id, t.fair_companies.c.status).where(
            t.fair_companies.c.fair_id == fair.id
        )
    )
    school_ids = {int(r[0]) for r in schools} | {int(fair.school_id)}
    return FairAccess(
        fair=fair,
        school_ids=frozenset(school_ids),
        companies={int(r[0]): str(r[1]) for r in companies},
    )


async def fair_access(conn: AsyncConnection, slug: str) -> FairAccess | None:
    fair = await fetch_one_as(conn, sa.select(t.fairs).where(t.fairs.c.slug == slug), FairRow)
    return None if fair is None else await _access_for(conn, fair)


async def fair_access_by_id(conn: AsyncConnection, fair_id: int) -> FairAccess | None:
    fair = await fetch_one_as(conn, sa.select(t.fairs).where(t.fairs.c.id == fair_id), FairRow)
    return None if fair is None else await _access_for(conn, fair)


async def all_fair_access(conn: AsyncConnection) -> list[FairAccess]:
    """Every fair with its access context, newest first: the caller filters with can()."""
    fairs = await fetch_all_as(
        conn, sa.select(t.fairs).order_by(t.fairs.c.starts_at.desc()), FairRow
    )
    fs, fc = t.fair_schools, t.fair_companies
    schools = await conn.execute(sa.select(fs.c.fair_id, fs.c.school_id))
    companies = await conn.execute(sa.select(fc.c.fair_id, fc.c.company_id, fc.c.status))
    by_fair_schools: dict[int, set[int]] = {}
    for fair_id, school_id in schools:
        by_fair_schools.setdefault(int(fair_id), set()).add(int(school_id))
    by_fair_companies: dict[int, dict[int, str]] = {}
    for fair_id, company_id, status in companies:
        by_fair_companies.setdefault(int(fair_id), {})[int(company_id)] = str(status)
    return [
        FairAccess(
            fair=f,
            school_ids=frozenset(by_fair_schools.get(f.id, set()) | {f.school_id}),
            companies=by_fair_companies.get(f.id, {}),
        )
        for f in fairs
    ]


async def halls(conn: AsyncConnection, fair_id: int) -> list[HallRow]:
    stmt = sa.select(t.fair_halls).where(t.fair_halls.c.fair_id == fair_id)
    rows = await fetch_all_as(conn, stmt, HallRow)
    return sorted(rows, key=lambda h: (h.position, HALL_ORDER.get(h.kind, 9)))


async def school(conn: AsyncConnection, school_id: int) -> SchoolRow | None:
    stmt = sa.select(t.schools).where(t.schools.c.id == school_id)
    return await fetch_one_as(conn, stmt, SchoolRow)


async def booth_list(conn: AsyncConnection, fair_id: int) -> list[BoothCard]:
    """Approved companies' booths, with job counts, by company name."""
    b, c, fc = t.booths, t.companies, t.fair_companies
    job_count = sa.select(sa.func.count()).where(t.jobs.c.booth_id == b.c.id).scalar_subquery()
    stmt = (
        sa.select(
            b.c.id,
            b.c.tagline,
            b.c.logo,
            b.c.company_id,
            c.c.name.label("company_name"),
            c.c.slug.label("company_slug"),
            job_count.label("job_count"),
        )
        .select_from(
            b.join(c, c.c.id == b.c.company_id).join(
                fc, (fc.c.fair_id == b.c.fair_id) & (fc.c.company_id == b.c.company_id)
            )
        )
        .where(b.c.fair_id == fair_id, fc.c.status == "approved")
        .order_by(c.c.name)
    )
    return await fetch_all_as(conn, stmt, BoothCard)


@dataclass(frozen=True, slots=True)
class FairSettings:
    """What the fair form sets (an insert adds created_at)."""

    slug: str
    school_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    visibility: str  # campus | multi | open
    published: bool
    description: str = ""


async def add_fair(
    conn: AsyncConnection,
    settings: FairSettings,
    hall_titles: dict[str, str],
    school_ids: set[int] | None = None,
) -> int:
    """A fair with its halls (kind -> title) and, for multi-school fairs, its schools."""
    f = t.fairs
    result = await conn.execute(
        f.insert().values(created_at=utcnow(), **asdict(settings)).returning(f.c.id)
    )
    fair_id = int(result.scalar_one())
    await replace_halls(conn, fair_id, hall_titles)
    await replace_schools(conn, fair_id, (school_ids or set()) - {settings.school_id})
    return fair_id


async def insert_fair(
    conn: AsyncConnection,
    values: dict[str, Any],
    hall_titles: dict[str, str],
    school_ids: set[int] | None = None,
) -> int:
    """As add_fair, from settings keyed by column name (the demo's TOML, test fixtures)."""
    return await add_fair(conn, FairSettings(**values), hall_titles, school_ids)


async def replace_halls(conn: AsyncConnection, fair_id: int, hall_titles: dict[str, str]) -> None:
    await conn.execute(t.fair_halls.delete().where(t.fair_halls.c.fair_id == fair_id))
    for kind, title in hall_titles.items():
        await conn.execute(
            t.fair_halls.insert().values(
                fair_id=fair_id, kind=kind, title=title, position=HALL_ORDER[kind]
            )
        )


async def replace_schools(conn: AsyncConnection, fair_id: int, school_ids: set[int]) -> None:
    await conn.execute(t.fair_schools.delete().where(t.fair_schools.c.fair_id == fair_id))
    for school_id in sorted(school_ids):
        await conn.execute(t.fair_schools.insert().values(fair_id=fair_id, school_id=school_id))


async def set_participation(
    conn: AsyncConnection, fair_id: int, company_id: int, status: str, message: str = ""
) -> None:
    """Upserts a company's participation; approving it also opens its booth."""
    fc = t.fair_companies
    now = utcnow()
    decided = now if status in {"approved", "rejected"} else None
    # The columns this change sets, by name: a message is kept unless the company applies.
    changes: dict[str, Any] = {"status": status, "decided_at": decided}
    if status == "applied":
        changes["message"] = message
    updated = await conn.execute(
        fc.update().where(fc.c.fair_id == fair_id, fc.c.company_id == company_id).values(**changes)
    )
    if not updated.rowcount:
        await conn.execute(
            fc.insert().values(
                fair_id=fair_id,
                company_id=company_id,
                status=status,
                message=message,
                created_at=now,
                decided_at=decided,
            )
        )
    if status == "approved":
        await ensure_booth(conn, fair_id, company_id)


async def ensure_booth(conn: AsyncConnection, fair_id: int, company_id: int) -> int:
    b = t.booths
    existing = (
        await conn.execute(
            sa.select(b.c.id).where(b.c.fair_id == fair_id, b.c.company_id == company_id)
        )
    ).scalar()
    if existing is not None:
        return int(existing)
    result = await conn.execute(
        b.insert()
        .values(fair_id=fair_id, company_id=company_id, updated_at=utcnow())
        .returning(b.c.id)
    )
    return int(result.scalar_one())


async def participation_status(conn: AsyncConnection, fair_id: int, company_id: int) -> str | None:
    fc = t.fair_companies
    status = (
        await conn.execute(
            sa.select(fc.c.status).where(fc.c.fair_id == fair_id, fc.c.company_id == company_id)
        )
    ).scalar()
    return None if status is None else str(status)


# Announcements (F7).


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    """An announcement with its author's display name."""

    id: int
    body: str
    created_at: datetime
    author: str


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    fair_id: int
    author_id: int
    client_id: str
    body: str
    created_at: datetime


async def recent_announcements(
    conn: AsyncConnection, fair_id: int, limit: int
) -> list[AnnouncementRow]:
    """The fair's latest announcements, newest first."""
    an, u = t.announcements, t.users
    stmt = (
        sa.select(an.c.id, an.c.body, an.c.created_at, u.c.display_name.label("author"))
        .join(u, u.c.id == an.c.author_id)
        .where(an.c.fair_id == fair_id)
        .order_by(an.c.id.desc())
        .limit(limit)
    )
    return await fetch_all_as(conn, stmt, AnnouncementRow)


async def insert_announcement(conn: AsyncConnection, new: NewAnnouncement) -> int:
    """Raises IntegrityError when the author used this client_id before."""
    an = t.announcements
    result = await conn.execute(an.insert().values(**asdict(new)).returning(an.c.id))
    return int(result.scalar_one())


async def announcement_by_client_id(
    conn: AsyncConnection, author_id: int, client_id: str
) -> AnnouncementRow | None:
    an, u = t.announcements, t.users
    stmt = (
        sa.select(an.c.id, an.c.body, an.c.created_at, u.c.display_name.label("author"))
        .join(u, u.c.id == an.c.author_id)
        .where(an.c.author_id == author_id, an.c.client_id == client_id)
    )
    return await fetch_one_as(conn, stmt, AnnouncementRow)
