"""Users, student profiles and roster matching."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.clock import utcnow
from fairserver.rows import ProfileRow, SchoolRow
from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as stored (the password hash included: only log-in reads it)."""

    id: int
    email: str
    password_hash: str
    display_name: str
    role: str
    school_id: int | None
    company_id: int | None
    locale: str | None
    disabled_at: datetime | None
    created_at: datetime
    deleted_at: datetime | None = None


async def user_by_email(conn: AsyncConnection, email: str) -> UserRow | None:
    stmt = sa.select(t.users).where(sa.func.lower(t.users.c.email) == email.lower())
    return await fetch_one_as(conn, stmt, UserRow)


async def user_by_id(conn: AsyncConnection, user_id: int) -> UserRow | None:
    return await fetch_one_as(conn, sa.select(t.users).where(t.users.c.id == user_id), UserRow)


async def insert_user(
    conn: AsyncConnection,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    role: str,
    school_id: int | None = None,
    company_id: int | None = None,
    locale: str | None = None,
) -> int:
    result = await conn.execute(
        t.users.insert()
        .values(
            email=email.lower(),
            password_hash=password_hash,
            display_name=display_name,
            role=role,
            school_id=school_id,
            company_id=company_id,
            locale=locale,
            created_at=utcnow(),
        )
        .returning(t.users.c.id)
    )
    return int(result.scalar_one())


async def roster_match(
    conn: AsyncConnection, school_id: int, student_no: str, real_name: str
) -> bool:
    """A student is verified when the school's roster has their number and name."""
    r = t.roster_entries
    found = await conn.execute(
        sa.select(r.c.id).where(
            r.c.school_id == school_id, r.c.student_no == student_no, r.c.real_name == real_name
        )
    )
    return found.first() is not None


@dataclass(frozen=True, slots=True)
class NewProfile:
    school_id: int
    student_no: str
    real_name: str
    major: str
    degree: str
    graduation_year: int
    phone: str = ""
    resume: str = ""


async def add_profile(conn: AsyncConnection, user_id: int, profile: NewProfile) -> bool:
    """Stores the profile, verified when it matches the roster. Returns verified."""
    verified = await roster_match(conn, profile.school_id, profile.student_no, profile.real_name)
    await conn.execute(
        t.student_profiles.insert().values(
            user_id=user_id, verified_at=utcnow() if verified else None, **asdict(profile)
        )
    )
    return verified


async def insert_profile(conn: AsyncConnection, user_id: int, profile: dict[str, Any]) -> bool:
    """As add_profile, from fields keyed by column name (the demo's TOML, test fixtures)."""
    return await add_profile(conn, user_id, NewProfile(**profile))


async def profile(conn: AsyncConnection, user_id: int) -> ProfileRow | None:
    p, s = t.student_profiles, t.schools
    stmt = (
        sa.select(p, s.c.name.label("school_name"))
        .select_from(p.join(s, s.c.id == p.c.school_id))
        .where(p.c.user_id == user_id)
    )
    return await fetch_one_as(conn, stmt, ProfileRow)


async def verify_matching_profiles(conn: AsyncConnection, school_id: int) -> int:
    """After a roster import: verify every unverified student the roster now matches."""
    p, r = t.student_profiles, t.roster_entries
    match = (
        sa.select(r.c.id)
        .where(
            r.c.school_id == p.c.school_id,
            r.c.student_no == p.c.student_no,
            r.c.real_name == p.c.real_name,
        )
        .exists()
    )
    result = await conn.execute(
        p.update()
        .where(p.c.school_id == school_id, p.c.verified_at.is_(None), match)
        .values(verified_at=utcnow())
    )
    return int(result.rowcount or 0)


async def schools(conn: AsyncConnection) -> list[SchoolRow]:
    return await fetch_all_as(conn, sa.select(t.schools).order_by(t.schools.c.name), SchoolRow)
