"""Reports (F6): the figures of one statement, worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import accounts
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.reports import ReportFair, ReportRow, report, report_fairs
from tests.factories import World, build_world

T0 = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=40)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Scene:
    world: World
    briefing: int
    tourism: int  # a third student: school A, major Tourism

    def student(self, key: str) -> int:
        return self.tourism if key == "tourism" else self.world.users[key]


async def insert(conn: AsyncConnection, table: Any, **values: Any) -> int:
    result = await conn.execute(table.insert().values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def build_scene(db: Database, world: World | None = None) -> Scene:
    """The open fair (school B) as students of both schools lived it.

    Briefing X (company A): student_a in three tabs, [0, 10] [5, 15] [15, 20], one island of
    20 minutes; student_b [12, 30]; tourism [18, still open at 40]. Three watch at 18-20.
    """
    w = world or await build_world(db)
    async with db.begin() as conn:
        tourism = await accounts.insert_user(
            conn,
            email="tourism@test.fair",
            password_hash="x",
            display_name="tourism",
            role="student",
            school_id=w.school_a,
        )
        await accounts.insert_profile(
            conn,
            tourism,
            {
                "school_id": w.school_a,
                "student_no": "A077",
                "real_name": "Tourism Student",
                "major": "Tourism",
                "degree": "diploma",
                "graduation_year": 2027,
            },
        )
        briefing = await insert(
            conn,
            t.briefings,
            fair_id=w.open_fair,
            company_id=w.company_a,
            title="X",
            starts_at=at(0),
            ends_at=at(60),
            created_at=T0,
        )
        scene = Scene(w, briefing, tourism)

        async def attend(
            key: str, kind: str, subject: int, start: float, end: float | None
        ) -> None:
            closed = end is not None
            await insert(
                conn,
                t.attendance,
                user_id=scene.student(key),
                fair_id=w.open_fair,
                kind=kind,
                subject_id=subject,
                connection_id=f"{key}-{start}",
                joined_at=at(start),
                last_seen_at=at(end if end is not None else start),
                left_at=at(end) if end is not None else None,
                close_reason="leave" if closed else None,
            )

        await attend("student_a", "fair", w.open_fair, 0, 40)
        await attend("student_a", "briefing", briefing, 0, 10)
        await attend("student_a", "briefing", briefing, 5, 15)
        await attend("student_a", "briefing", briefing, 15, 20)
        await attend("student_b", "briefing", briefing, 12, 30)
        await attend("tourism", "briefing", briefing, 18, None)
        await attend("student_a", "booth", w.booth_a_open, 0, 5)
        await attend("student_a", "booth", w.booth_b_open, 5, 6)
        await attend("student_b", "booth", w.booth_b_open, 1, 2)
        # Nothing at the campus fair counts towards the open fair.
        await conn.execute(
            t.attendance.insert().values(
                user_id=w.users["student_a"],
                fair_id=w.campus_fair,
                kind="fair",
                subject_id=w.campus_fair,
                connection_id="elsewhere",
                joined_at=at(0),
                last_seen_at=at(1),
                left_at=at(1),
                close_reason="leave",
            )
        )

        for n, (key, state) in enumerate(
            (("student_a", "answered"), ("student_a", "approved"), ("student_b", "pending"))
        ):
            await insert(
                conn,
                t.questions,
                briefing_id=briefing,
                author_id=scene.student(key),
                client_id=f"q{n}",
                body="Question?",
                state=state,
                created_at=T0,
                updated_at=T0,
            )

        # Booth B's queue: waits of 10, 20, 30 and 40 seconds, and one who left uncalled.
        for key, wait in (
            ("student_a", 10),
            ("student_b", 20),
            ("tourism", 30),
            ("student_a", 40),
            ("student_b", None),
        ):
            await insert(
                conn,
                t.queue_entries,
                booth_id=w.booth_b_open,
                student_id=scene.student(key),
                joined_at=at(0),
                called_at=at(0) + timedelta(seconds=wait) if wait is not None else None,
            )

        async def interview(
            key: str, company: int, started: bool, outcome: str | None, released: bool
        ) -> int:
            return await insert(
                conn,
                t.interviews,
                fair_id=w.open_fair,
                company_id=company,
                student_id=scene.student(key),
                origin="queue",
                state="ended" if started else "cancelled",
                started_at=at(10) if started else None,
                outcome=outcome,
                released_at=at(30) if released else None,
                created_at=T0,
            )

        offer = await interview("student_a", w.company_a, True, "offer", True)
        await interview("student_b", w.company_b, True, "reject", False)
        await interview("tourism", w.company_a, False, "no_show", True)
        pending = await interview("student_a", w.company_b, True, None, False)

        async def agreement(
            interview_id: int, company: int, state: str, countersigned: bool
        ) -> None:
            await insert(
                conn,
                t.agreements,
                fair_id=w.open_fair,
                interview_id=interview_id,
                company_id=company,
                student_id=w.users["student_a"],
                school_id=w.school_a,
                position="Operator",
                location="Tianjin",
                salary=6000,
                start_date=T0.date(),
                term_years=3,
                text="...",
                text_sha256="0" * 64,
                state=state,
                sent_at=at(30),
                sent_by=w.users["recruiter_a"],
                countersigned_at=at(35) if countersigned else None,
            )

        await agreement(offer, w.company_a, "accepted", True)
        await agreement(pending, w.company_b, "sent", False)
    return scene


async def run(db: Database, by: Any, fairs: list[int], school: int | None) -> list[ReportRow]:
    async with db.connect() as conn:
        return await report(conn, by, fairs, school, NOW)


def figures(row: ReportRow, *names: str) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


ATTENDANCE = ("attendees", "booth_visits")
BRIEFINGS = ("briefing_attendances", "watch_seconds", "peak_concurrency", "briefing_students")
QUESTIONS = ("questions_asked", "questions_answered", "question_students")
QUEUE = ("queue_entries", "wait_p50", "wait_p90", "queue_students")
INTERVIEWS = ("interviews_held", "no_shows", "outcomes_released", "offers")
AGREEMENTS = ("agreements_signed", "agreements_countersigned", "agreement_students")


async def test_per_fair_every_student(db: Database) -> None:
    scene = await build_scene(db)
    w = scene.world
    rows = await run(db, "fair", [w.campus_fair, w.open_fair], None)
    assert [row.key for row in rows] == [*sorted([w.campus_fair, w.open_fair]), None]
    by_key = {row.key: row for row in rows}
    fair = by_key[w.open_fair]
    assert fair.label == "Open fair"
    assert figures(fair, *ATTENDANCE) == (3, 3)
    # 20 + 18 + 22 minutes; the three tabs of student_a are one stay.
    assert figures(fair, *BRIEFINGS) == (3, 3600, 3, 3)
    assert figures(fair, *QUESTIONS) == (3, 1, 2)
    # Nearest rank of 10, 20, 30, 40: p50 is the 2nd, p90 the 4th.
    assert figures(fair, *QUEUE) == (5, 20, 40, 3)
    assert figures(fair, *INTERVIEWS) == (3, 1, 2, 1)
    assert figures(fair, *AGREEMENTS) == (1, 1, 1)

    campus = by_key[w.campus_fair]
    assert (campus.label, campus.attendees, campus.booth_visits) == ("Campus fair", 1, 0)
    assert (campus.peak_concurrency, campus.wait_p50, campus.wait_p90) == (None, None, None)
    total = rows[-1]
    assert total.is_total and total.label is None
    # Student_a attended both fairs: one attendee of the two.
    assert figures(total, *ATTENDANCE) == (3, 3)
    assert figures(total, *BRIEFINGS) == (3, 3600, 3, 3)
    assert figures(total, *QUEUE) == (5, 20, 40, 3)


async def test_per_fair_one_schools_students(db: Database) -> None:
    scene = await build_scene(db)
    w = scene.world
    [fair, total] = await run(db, "fair", [w.open_fair], w.school_a)
    assert fair.key == w.open_fair
    # student_a and tourism; student_b studies at school B.
    assert figures(fair, *ATTENDANCE) == (2, 2)
    assert figures(fair, *BRIEFINGS) == (2, 1200 + 1320, 2, 2)
    assert figures(fair, *QUESTIONS) == (2, 1, 1)
    assert figures(fair, *QUEUE) == (3, 30, 40, 2)
    assert figures(fair, *INTERVIEWS) == (2, 1, 2, 1)
    assert figures(fair, *AGREEMENTS) == (1, 1, 1)
    assert figures(total, *ATTENDANCE, *BRIEFINGS, *QUEUE) == figures(
        fair, *ATTENDANCE, *BRIEFINGS, *QUEUE
    )


async def test_per_company(db: Database) -> None:
    scene = await build_scene(db)
    w = scene.world
    rows = await run(db, "company", [w.open_fair], None)
    # Most attendees first, the total last.
    assert [(row.key, row.label) for row in rows] == [
        (w.company_a, "Company A"),
        (w.company_b, "Company B"),
        (None, None),
    ]
    a, b, total = rows
    assert figures(a, *ATTENDANCE) == (3, 1)
    assert figures(a, *BRIEFINGS) == (3, 3600, 3, 3)
    assert figures(a, *QUESTIONS) == (3, 1, 2)
    assert figures(a, *QUEUE) == (0, None, None, 0)
    assert figures(a, *INTERVIEWS) == (1, 1, 2, 1)
    assert figures(a, *AGREEMENTS) == (1, 1, 1)
    assert figures(b, *ATTENDANCE) == (2, 2)
    assert figures(b, *BRIEFINGS) == (0, 0, None, 0)
    assert figures(b, *QUEUE) == (5, 20, 40, 3)
    assert figures(b, *INTERVIEWS) == (2, 0, 0, 0)
    assert figures(b, *AGREEMENTS) == (0, 0, 1)
    # The fair's own attendance belongs to no company yet counts in the total.
    assert figures(total, *ATTENDANCE) == (3, 3)
    assert figures(total, *INTERVIEWS) == (3, 1, 2, 1)


async def test_per_major(db: Database) -> None:
    scene = await build_scene(db)
    w = scene.world
    rows = await run(db, "major", [w.open_fair], None)
    assert [row.key for row in rows] == ["Petrochemistry", "Tourism", None]
    petro, tourism, total = rows
    assert petro.label == "Petrochemistry"
    assert figures(petro, *ATTENDANCE) == (2, 3)
    assert figures(petro, *BRIEFINGS) == (2, 1200 + 1080, 2, 2)
    assert figures(tourism, *ATTENDANCE) == (1, 0)
    # An open interval runs to now: 18 to 40 minutes.
    assert figures(tourism, *BRIEFINGS) == (1, 1320, 1, 1)
    assert figures(tourism, *QUEUE) == (1, 30, 30, 1)
    assert figures(tourism, *INTERVIEWS) == (0, 1, 1, 0)
    assert figures(total, *BRIEFINGS) == (3, 3600, 3, 3)


async def test_touching_stays_are_not_two_people_at_once(db: Database) -> None:
    scene = await build_scene(db)
    w = scene.world
    async with db.begin() as conn:
        # A new student arrives the moment student_b leaves: the audience is 1 then, not 2.
        later = await insert(
            conn,
            t.briefings,
            fair_id=w.open_fair,
            company_id=w.company_b,
            title="Y",
            starts_at=at(0),
            ends_at=at(60),
            created_at=T0,
        )
        for key, start, end in (("student_b", 0, 10), ("student_a", 10, 20)):
            await conn.execute(
                t.attendance.insert().values(
                    user_id=w.users[key],
                    fair_id=w.open_fair,
                    kind="briefing",
                    subject_id=later,
                    connection_id=f"y-{key}",
                    joined_at=at(start),
                    last_seen_at=at(end),
                    left_at=at(end),
                    close_reason="leave",
                )
            )
    rows = {row.key: row for row in await run(db, "company", [w.open_fair], None)}
    assert figures(rows[w.company_b], *BRIEFINGS) == (2, 1200, 1, 2)


async def test_no_fairs_no_figures(db: Database) -> None:
    await build_world(db)
    [total] = await run(db, "fair", [], None)
    assert total.is_total
    assert (total.attendees, total.watch_seconds, total.wait_p50) == (0, 0, None)


async def ids(fairs: Awaitable[list[ReportFair]]) -> list[int]:
    return sorted(fair.id for fair in await fairs)


async def test_which_fairs_a_school_may_report(db: Database) -> None:
    w = await build_world(db)
    async with db.connect() as conn:
        every = await ids(report_fairs(conn, None, guest=False))
        own_a = await ids(report_fairs(conn, w.school_a, guest=False))
        guest_a = await ids(report_fairs(conn, w.school_a, guest=True))
        own_b = await ids(report_fairs(conn, w.school_b, guest=False))
    assert every == sorted([w.campus_fair, w.open_fair, w.draft_fair])
    assert own_a == sorted([w.campus_fair, w.draft_fair])
    # School B's open fair admits school A's students.
    assert guest_a == sorted([w.campus_fair, w.open_fair, w.draft_fair])
    assert own_b == [w.open_fair]
