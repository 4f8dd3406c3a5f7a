"""The store on both SQLite and PostgreSQL: migrations, constraints, job search index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fairserver.store import tables as t
from fairserver.store.db import Database
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
