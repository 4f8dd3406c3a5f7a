"""The demo content in booths/ loads on both databases and means what it says."""

from __future__ import annotations

import sqlalchemy as sa

from fairserver.auth import Passwords
from fairserver.demo import is_loaded, load_demo
from fairserver.settings import PROJECT_ROOT
from fairserver.store import tables as t
from fairserver.store.db import Database


async def _count(db: Database, stmt: sa.Select[tuple[int]]) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_demo_loads(db: Database) -> None:
    assert not await is_loaded(db)
    loaded = await load_demo(db, Passwords(1, 64), PROJECT_ROOT / "booths")
    assert await is_loaded(db)
    assert {"student", "recruiter", "organiser", "admin"} <= {role for role, _ in loaded.logins}
    count = sa.select(sa.func.count())
    assert await _count(db, count.select_from(t.fairs)) == 2
    assert await _count(db, count.select_from(t.jobs)) >= 40
    assert await _count(db, count.select_from(t.briefings)) >= 4
    # The demo student is on the roster, the unverified one is not.
    p = t.student_profiles
    for email, expected in (("student@demo.fair", True), ("unverified@demo.fair", False)):
        stmt = (
            sa.select(p.c.verified_at)
            .join(t.users, t.users.c.id == p.c.user_id)
            .where(t.users.c.email == email)
        )
        async with db.connect() as conn:
            value = (await conn.execute(stmt)).scalar_one()
        assert (value is not None) is expected, email
    # The seed's briefing: ten subsidiaries in one campus fair, diploma-level jobs.
    campus = sa.select(t.fairs.c.id).where(t.fairs.c.visibility == "campus").scalar_subquery()
    approved = count.select_from(t.fair_companies).where(
        t.fair_companies.c.fair_id == campus, t.fair_companies.c.status == "approved"
    )
    assert await _count(db, approved) == 10
    diploma = count.select_from(t.jobs).where(
        t.jobs.c.fair_id == campus, t.jobs.c.education == "diploma"
    )
    assert await _count(db, diploma) >= 10


async def test_demo_company_has_scorecard_criteria(db: Database) -> None:
    await load_demo(db, Passwords(1, 64), PROJECT_ROOT / "booths")
    c, sc = t.companies, t.score_criteria
    stmt = (
        sa.select(sc.c.name, sc.c.scale)
        .join(c, c.c.id == sc.c.company_id)
        .where(c.c.slug == "cnooc-tianjin")
        .order_by(sc.c.position)
    )
    async with db.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(stmt)).all()]
    assert [name.split(" / ")[0] for name, _ in rows] == [
        "Technical knowledge",
        "Communication",
        "Safety awareness",
    ]
    assert {scale for _, scale in rows} == {5}


async def test_the_demo_fair_has_interview_slots_to_book(db: Database) -> None:
    """I1: the campus fair's booking window is around the fair, and CNOOC Tianjin Branch
    has published a series with recruiter@demo.fair on the panel."""
    await load_demo(db, Passwords(1, 64), PROJECT_ROOT / "booths")
    s, f = t.interview_slots, t.fairs
    async with db.connect() as conn:
        fair = (await conn.execute(sa.select(f).where(f.c.visibility == "campus"))).one()
        rows = (
            await conn.execute(
                sa.select(s.c.state, t.companies.c.slug, t.users.c.email)
                .join(t.companies, t.companies.c.id == s.c.company_id)
                .join(t.slot_interviewers, t.slot_interviewers.c.slot_id == s.c.id)
                .join(t.users, t.users.c.id == t.slot_interviewers.c.user_id)
                .where(s.c.fair_id == fair.id)
            )
        ).all()
    assert fair.booking_opens_at < fair.starts_at < fair.booking_closes_at < fair.ends_at
    assert {r.slug for r in rows} == {"cnooc-tianjin"} and {r.state for r in rows} == {"open"}
    assert sum(r.email == "recruiter@demo.fair" for r in rows) == 6


async def test_the_employment_service_is_no_school_to_register_with(db: Database) -> None:
    await load_demo(db, Passwords(1, 64), PROJECT_ROOT / "booths")
    async with db.connect() as conn:
        rows = dict(
            (await conn.execute(sa.select(t.schools.c.slug, t.schools.c.enrols_students))).all()
        )
    assert rows["xz-hrss"] is False
    assert rows["tvtc"] is True
