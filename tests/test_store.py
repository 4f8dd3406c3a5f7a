"""The store on both SQLite and PostgreSQL: migrations, constraints, job search index."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import Database, alembic_config
from tests.conftest import fresh_pg_database
from tests.factories import build_world


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert set(t.metadata.tables) <= names


async def test_migrate_twice_is_harmless(db: Database) -> None:
    await db.migrate()
    assert await db.ping()


async def test_times_round_trip_as_aware_utc(db: Database) -> None:
    world = await build_world(db)
    async with db.connect() as conn:
        fair = (
            (await conn.execute(sa.select(t.fairs).where(t.fairs.c.id == world.campus_fair)))
            .mappings()
            .one()
        )
    assert fair["starts_at"] == datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    assert fair["starts_at"].tzinfo is not None


async def test_attendance_interval_must_close_with_reason(db: Database) -> None:
    world = await build_world(db)
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(
                t.attendance.insert().values(
                    user_id=world.users["student_a"],
                    fair_id=world.campus_fair,
                    kind="fair",
                    subject_id=world.campus_fair,
                    connection_id="c1",
                    joined_at=now,
                    last_seen_at=now,
                    left_at=now,
                    close_reason=None,
                )
            )


async def test_recruiter_needs_company(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(
                t.users.insert().values(
                    email="r@x.test",
                    password_hash="x",
                    display_name="r",
                    role="recruiter",
                    created_at=datetime.now(UTC),
                )
            )


async def test_search_text_is_indexed(db: Database) -> None:
    await build_world(db)
    async with db.connect() as conn:
        if db.is_sqlite:
            stmt = sa.text("SELECT rowid FROM jobs_fts WHERE search_text LIKE '%海上操%'")
        else:
            stmt = sa.text("SELECT id FROM jobs WHERE search_text ILIKE '%海上操%'")
        rows = (await conn.execute(stmt)).all()
    assert len(rows) == 1


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_migration_0004_keeps_interviews_and_their_participants(
    dialect: str, tmp_path: Path
) -> None:
    """0004 rebuilds ``interviews`` on SQLite; the rows that reference it must survive."""
    async with AsyncExitStack() as stack:
        if dialect == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        else:
            url = await stack.enter_async_context(fresh_pg_database())
        database = Database(url)
        stack.push_async_callback(database.dispose)
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0003"))
            interview_id = await _old_interview(conn)
        await database.migrate()
        async with database.connect() as conn:
            people = (
                await conn.execute(
                    sa.select(t.interview_participants.c.user_id).where(
                        t.interview_participants.c.interview_id == interview_id
                    )
                )
            ).all()
            state = await conn.scalar(
                sa.select(t.interviews.c.state).where(t.interviews.c.id == interview_id)
            )
        assert len(people) == 2
        assert state == "live"


async def _old_interview(conn: AsyncConnection) -> int:
    """An interview with two participants, written with the columns 0003 has."""
    now = datetime.now(UTC)
    school = (
        await conn.execute(
            t.schools.insert().values(name="S", slug="s", created_at=now).returning(t.schools.c.id)
        )
    ).scalar_one()
    company = (
        await conn.execute(
            t.companies.insert()
            .values(name="C", slug="c", created_at=now)
            .returning(t.companies.c.id)
        )
    ).scalar_one()
    users = []
    for n, (role, extra) in enumerate(
        [("student", {"school_id": school}), ("recruiter", {"company_id": company})]
    ):
        users.append(
            (
                await conn.execute(
                    t.users.insert()
                    .values(
                        email=f"u{n}@x.test",
                        password_hash="x",
                        display_name=f"U{n}",
                        role=role,
                        created_at=now,
                        **extra,
                    )
                    .returning(t.users.c.id)
                )
            ).scalar_one()
        )
    fair = (
        await conn.execute(
            t.fairs.insert()
            .values(
                slug="f",
                school_id=school,
                title="F",
                starts_at=now,
                ends_at=now + timedelta(hours=1),
                timezone="UTC",
                visibility="open",
                created_at=now,
            )
            .returning(t.fairs.c.id)
        )
    ).scalar_one()
    interview = (
        await conn.execute(
            t.interviews.insert()
            .values(
                fair_id=fair,
                company_id=company,
                student_id=users[0],
                origin="chat",
                state="live",
                created_at=now,
            )
            .returning(t.interviews.c.id)
        )
    ).scalar_one()
    for user_id, role in zip(users, ("candidate", "interviewer"), strict=True):
        await conn.execute(
            t.interview_participants.insert().values(
                interview_id=interview, user_id=user_id, role=role
            )
        )
    return int(interview)
