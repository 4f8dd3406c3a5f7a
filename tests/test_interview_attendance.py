"""Interview attendance (I6): first join, time present with several tabs' overlapping
intervals merged (in SQL), lateness against a booked slot's start; the company's page
shows it to interviewers only, and the organiser's export has it for the whole fair.
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.rooms.fairs import attendance
from fairserver.rooms.fairs.export import export_fair_csv
from fairserver.rooms.interviews import attendance_report
from fairserver.store import interviews as store
from fairserver.store.db import Database
from tests.factories import World
from tests.slot_helpers import Stage, add_recruiters, booked_interview, make_stage


@pytest.fixture
async def stage(db: Database) -> Stage:
    return await make_stage(db)


async def visit(stage: Stage, who: str, iid: int, connection: str, start: datetime) -> None:
    stage.at(start)
    await attendance.open_interval(
        stage.services,
        connection_id=connection,
        user_id=stage.world.users[who],
        fair_id=stage.world.campus_fair,
        kind="interview",
        subject_id=iid,
    )


async def leave(stage: Stage, connection: str, iid: int, at: datetime) -> None:
    stage.at(at)
    await attendance.close_intervals(
        stage.services, connection, "leave", kind="interview", subject_id=iid
    )


async def a_morning(stage: Stage) -> tuple[int, datetime]:
    """The interviewer comes 3 minutes early and stays 23; the candidate comes 2 minutes
    late in one tab, opens a second that overlaps it, and later a third still open."""
    start = stage.time.now
    [colleague] = await add_recruiters(stage, 1)
    iid = await booked_interview(stage, start, panel=("recruiter_a", colleague))
    minute = timedelta(minutes=1)
    await visit(stage, "recruiter_a", iid, "w1:r", start - 3 * minute)
    await visit(stage, "student_a", iid, "w1:s1", start + 2 * minute)
    await visit(stage, "student_a", iid, "w1:s2", start + 5 * minute)
    await leave(stage, "w1:s1", iid, start + 10 * minute)
    await leave(stage, "w1:s2", iid, start + 12 * minute)
    await visit(stage, "student_a", iid, "w1:s3", start + 20 * minute)
    await leave(stage, "w1:r", iid, start + 20 * minute)
    stage.at(start + 25 * minute)
    return iid, start


async def test_time_present_merges_tabs_and_lateness_counts_from_the_start(stage: Stage) -> None:
    iid, start = await a_morning(stage)
    async with stage.db.connect() as conn:
        row = await store.interview(conn, iid)
    assert row is not None
    report = await attendance_report.report(stage.services, row)
    assert report.slot_starts_at == start
    people = {p.display_name: p for p in report.participants}
    candidate = people["student_a"]
    assert candidate.first_joined_at == start + timedelta(minutes=2)
    assert candidate.minutes_present == 10 + 5  # 2..12 merged, and 20..now
    assert candidate.minutes_late == 2
    interviewer = people["recruiter_a"]
    assert (interviewer.minutes_present, interviewer.minutes_late) == (23, 0)
    absent = people["recruiter_a2"]
    assert (absent.first_joined_at, absent.minutes_present, absent.minutes_late) == (None, 0, None)


async def test_without_a_slot_nobody_is_late(stage: Stage) -> None:
    world = stage.world
    async with stage.db.begin() as conn:
        iid = await store.insert_interview(
            conn,
            store.NewInterview(
                fair_id=world.campus_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                origin="chat",
                state="waiting",
                created_at=stage.time.now,
            ),
        )
        await store.add_participant(conn, iid, world.users["student_a"], "candidate", None)
    await visit(stage, "student_a", iid, "w1:s", stage.time.now + timedelta(minutes=30))
    async with stage.db.connect() as conn:
        row = await store.interview(conn, iid)
    assert row is not None
    [only] = (await attendance_report.report(stage.services, row)).participants
    assert only.minutes_late is None and only.first_joined_at is not None


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_organisers_export_has_every_participant(stage: Stage) -> None:
    iid, start = await a_morning(stage)
    await leave(stage, "w1:s3", iid, start + timedelta(minutes=25))
    rows = parse(await export_fair_csv(stage.db, stage.world.campus_fair, "interviews"))
    assert {r["interview_id"] for r in rows} == {str(iid)}
    by_role = {(r["participant_role"], r["participant"]): r for r in rows}
    candidate = by_role[("candidate", "")]  # named by real_name and student_no only
    assert (candidate["real_name"], candidate["student_no"], candidate["school"]) == (
        "Student A",
        "A001",
        "School A",
    )
    assert (candidate["origin"], candidate["state"], candidate["outcome"]) == (
        "slot",
        "scheduled",
        "",
    )
    # Times in the fair's zone (Asia/Shanghai, UTC+8).
    local = (start + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert candidate["slot_starts_at"] == local
    assert candidate["minutes_late"] == "2"
    assert candidate["minutes_present"] == "15"  # 2..12 merged, and 20..25
    interviewer = by_role[("interviewer", "recruiter_a")]
    assert (interviewer["minutes_present"], interviewer["minutes_late"]) == ("23", "0")
    assert interviewer["real_name"] == "Student A" and interviewer["company"] == "Company A"
    never = by_role[("interviewer", "recruiter_a2")]
    assert (never["first_joined_at"], never["minutes_present"], never["minutes_late"]) == (
        "",
        "",
        "",
    )


async def test_the_export_does_not_name_another_schools_student(stage: Stage) -> None:
    # The open fair is School B's; student_a is of School A.
    iid = await booked_interview(stage, stage.time.now, fair="open")
    rows = parse(await export_fair_csv(stage.db, stage.world.open_fair, "interviews"))
    assert {r["interview_id"] for r in rows} == {str(iid)}
    for row in rows:
        assert row["real_name"] == row["student_no"] == ""
        assert "student_a" not in row.values() and "Student A" not in row.values()


# --- on the page -------------------------------------------------------------------------------


async def test_interviewers_see_attendance_on_the_page_and_the_student_does_not(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    stage = Stage(client.app[DB], world)
    iid = await booked_interview(stage, stage.time.now - timedelta(minutes=1))
    await visit(stage, "student_a", iid, "w1:s", stage.time.now)
    await world.login(client, "recruiter_a")
    page = await (await client.get(f"/interviews/{iid}")).text()
    assert "data-attendance" in page and "1 min late" in page
    await world.login(client, "student_a")
    page = await (await client.get(f"/interviews/{iid}")).text()
    assert "data-attendance" not in page and "min late" not in page


async def test_the_interviews_export_is_the_fairs_managers_only(
    client: TestClient[Any, Any], world: World
) -> None:
    stage = Stage(client.app[DB], world)
    iid = await booked_interview(stage, stage.time.now)
    await world.login(client, "organiser_a")
    page = await client.get("/organiser/fairs/campus")
    assert "/organiser/fairs/campus/export/interviews.csv" in await page.text()
    response = await client.get("/organiser/fairs/campus/export/interviews.csv")
    assert response.status == 200
    text = await response.text()
    assert text.startswith("\ufeff")  # the BOM for Excel
    rows = parse(text.removeprefix("\ufeff"))
    assert {r["interview_id"] for r in rows} == {str(iid)} and len(rows) == 2
    for who in ("organiser_b", "recruiter_a", "student_a"):
        await world.login(client, who)
        refused = await client.get(
            "/organiser/fairs/campus/export/interviews.csv", allow_redirects=False
        )
        assert refused.status == 404, who
