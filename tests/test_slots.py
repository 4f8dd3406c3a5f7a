"""Interview slots (I1) on the memory backend with a recording notifier and a movable
clock, on SQLite and PostgreSQL: publishing, the booking window, booking (and its race),
cancelling, rescheduling, withdrawing, reminders, no-shows and "continue later"."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.auth import Actor
from fairserver.rooms.errors import FormRefused, NotFound, ServiceError
from fairserver.rooms.interviews import slot_publish, slots
from fairserver.rooms.interviews.access import access_interview
from fairserver.rooms.interviews.slot_publish import FollowUpForm, SeriesForm
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world

FAIR_DAY = date(2027, 1, 10)  # the test fairs' day; 10:00 in Shanghai is 02:00 UTC
FIRST = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


class Desk:
    """The open fair (school B; companies A and B), company A's booth, and the services."""

    def __init__(self, db: Database, world: World) -> None:
        self.db, self.world = db, world
        self.time = FakeTime()
        self.time.now = FIRST - timedelta(days=1)
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )
        self.booth = world.booth_a_open

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        companies = {"recruiter_a": self.world.company_a, "recruiter_b": self.world.company_b}
        schools = {"student_a": self.world.school_a, "student_b": self.world.school_b}
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=companies.get(who),
            school_id=schools.get(who),
            verified=role == "student",
        )

    async def open_window(self, hours: float = 48) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                t.fairs.update()
                .where(t.fairs.c.id == self.world.open_fair)
                .values(
                    booking_opens_at=self.time.now - timedelta(hours=1),
                    booking_closes_at=self.time.now + timedelta(hours=hours),
                )
            )

    async def publish(self, count: int = 2, **form: Any) -> list[int]:
        cf = await slot_publish.access_company_fair(self.db, self.actor("recruiter_a"), "open")
        values: dict[str, Any] = {
            "day": FAIR_DAY,
            "start": time(10, 0),
            "count": count,
            "length": 20,
            "buffer": 10,
            "interviewers": [self.world.users["recruiter_a"]],
            **form,
        }
        return await slot_publish.publish_series(
            self.services, self.actor("recruiter_a"), cf, SeriesForm(**values)
        )

    async def scope(self, who: str, job_id: int | None = None) -> slots.Scope:
        return await slots.access_scope(self.db, self.actor(who), "open", self.booth, job_id)

    async def book(self, who: str, slot_id: int) -> slots.SlotBooked:
        return await slots.book(self.services, self.actor(who), await self.scope(who), slot_id)

    async def slot(self, slot_id: int) -> dict[str, Any]:
        async with self.db.connect() as conn:
            row = await conn.execute(
                sa.select(t.interview_slots).where(t.interview_slots.c.id == slot_id)
            )
            return dict(row.mappings().one())

    async def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        async with self.db.connect() as conn:
            result = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            return [dict(r) for r in result.mappings()]

    def sent(self) -> list[tuple[str, str]]:
        events = self.notifier.events()
        self.notifier.sent.clear()
        return events

    def user_room(self, who: str) -> str:
        return f"user:{self.world.users[who]}"


@pytest.fixture
async def desk(db: Database) -> Desk:
    return Desk(db, await build_world(db))


async def test_a_series_is_spaced_by_length_and_buffer_and_refuses_overlaps(desk: Desk) -> None:
    ids = await desk.publish(count=3)
    starts = [(await desk.slot(i))["starts_at"] for i in ids]
    assert starts == [FIRST, FIRST + timedelta(minutes=30), FIRST + timedelta(minutes=60)]
    assert (await desk.slot(ids[0]))["ends_at"] == FIRST + timedelta(minutes=20)
    panel = await desk.rows(t.slot_interviewers)
    assert {(p["slot_id"], p["user_id"]) for p in panel} == {
        (i, desk.world.users["recruiter_a"]) for i in ids
    }
    # The same interviewer at 10:45 overlaps the third slot (11:00-11:20, plus its buffer
    # from the new series' side).
    with pytest.raises(FormRefused) as refused:
        await desk.publish(count=1, start=time(10, 45))
    assert refused.value.code == "slot.overlap"
    assert len(await desk.rows(t.interview_slots)) == 3
    # A recruiter of another company cannot be on the panel; other fairs' staff see nothing.
    with pytest.raises(FormRefused):
        await desk.publish(
            count=1, start=time(14, 0), interviewers=[desk.world.users["recruiter_b"]]
        )
    with pytest.raises(NotFound):
        await slot_publish.access_company_fair(desk.db, desk.actor("recruiter_b"), "campus")
    with pytest.raises(NotFound):
        await slot_publish.access_company_fair(desk.db, desk.actor("student_a"), "open")


async def test_bookings_are_refused_outside_the_window(desk: Desk) -> None:
    [slot_id] = await desk.publish(count=1)
    with pytest.raises(ServiceError) as closed:
        await desk.book("student_b", slot_id)
    assert closed.value.code == "slot.closed" and "closed" in closed.value.message
    async with desk.db.begin() as conn:
        await conn.execute(
            t.fairs.update()
            .where(t.fairs.c.id == desk.world.open_fair)
            .values(
                booking_opens_at=desk.time.now + timedelta(hours=2),
                booking_closes_at=desk.time.now + timedelta(hours=4),
            )
        )
    with pytest.raises(ServiceError) as early:
        await desk.book("student_b", slot_id)
    # 2 hours after the clock, in the fair's zone (UTC+8), with the zone's name.
    opens = (desk.time.now + timedelta(hours=10)).strftime("%H:%M")
    assert early.value.code == "slot.closed"
    assert "Asia/Shanghai" in early.value.message and opens in early.value.message
    desk.time.advance(5 * 3600)
    with pytest.raises(ServiceError) as late:
        await desk.book("student_b", slot_id)
    assert "closed at" in late.value.message
    assert (await desk.slot(slot_id))["state"] == "open"
    assert await desk.rows(t.interviews) == []


async def test_a_booking_makes_the_interview_and_one_per_scope(desk: Desk) -> None:
    await desk.open_window()
    first, second = await desk.publish(count=2)
    booked = await desk.book("student_b", first)
    [interview] = await desk.rows(t.interviews)
    assert (interview["origin"], interview["state"], interview["slot_id"]) == (
        "slot",
        "scheduled",
        first,
    )
    assert interview["owner_id"] == desk.world.users["recruiter_a"]
    assert (
        booked.interview_id == interview["id"]
        and booked.room_url == f"/interviews/{booked.interview_id}"
    )
    people = {p["user_id"]: p for p in await desk.rows(t.interview_participants)}
    student, recruiter = desk.world.users["student_b"], desk.world.users["recruiter_a"]
    assert people[student]["role"] == "candidate" and people[student]["admitted_at"] is None
    assert people[recruiter]["admitted_at"] is not None
    assert [h["kind"] for h in await desk.rows(t.interview_history)] == ["booked"]
    assert desk.sent() == [(desk.user_room("student_b"), "slot.booked")]
    with pytest.raises(ServiceError) as again:
        await desk.book("student_b", second)
    assert again.value.code == "slot.already_booked"
    # Recruiters and organisers look, but do not book.
    with pytest.raises(NotFound):
        await desk.book("recruiter_a", second)


async def test_two_students_racing_for_the_last_slot_leave_one_booking(desk: Desk) -> None:
    await desk.open_window()
    [slot_id] = await desk.publish(count=1)
    scopes = [await desk.scope(who) for who in ("student_a", "student_b")]
    results = await asyncio.gather(
        *(
            slots.book(desk.services, desk.actor(who), scope, slot_id)
            for who, scope in zip(("student_a", "student_b"), scopes, strict=True)
        ),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, slots.SlotBooked)]
    lost = [r for r in results if isinstance(r, ServiceError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "slot.taken"
    assert len(await desk.rows(t.interviews)) == 1
    row = await desk.slot(slot_id)
    assert row["state"] == "booked" and row["booked_by"] in {
        desk.world.users["student_a"],
        desk.world.users["student_b"],
    }


async def test_one_student_booking_two_slots_from_two_tabs_books_one(desk: Desk) -> None:
    await desk.open_window()
    first, second = await desk.publish(count=2)
    results = await asyncio.gather(
        desk.book("student_b", first), desk.book("student_b", second), return_exceptions=True
    )
    assert sum(isinstance(r, slots.SlotBooked) for r in results) == 1
    assert [r.code for r in results if isinstance(r, ServiceError)] == ["slot.already_booked"]
    assert len(await desk.rows(t.interviews)) == 1


async def test_a_student_cannot_cancel_another_students_booking(desk: Desk) -> None:
    await desk.open_window()
    [slot_id] = await desk.publish(count=1)
    await desk.book("student_b", slot_id)
    with pytest.raises(NotFound):
        await slots.cancel(
            desk.services, desk.actor("student_a"), await desk.scope("student_a"), slot_id
        )
    with pytest.raises(NotFound):  # nor move it
        await slots.reschedule(
            desk.services, desk.actor("student_a"), await desk.scope("student_a"), slot_id, slot_id
        )
    assert (await desk.slot(slot_id))["booked_by"] == desk.world.users["student_b"]
    desk.sent()
    cancelled = await slots.cancel(
        desk.services, desk.actor("student_b"), await desk.scope("student_b"), slot_id
    )
    assert cancelled.by == "student"
    assert (await desk.slot(slot_id))["state"] == "open"
    [interview] = await desk.rows(t.interviews)
    assert interview["state"] == "cancelled"
    assert [h["kind"] for h in await desk.rows(t.interview_history)] == ["booked", "cancelled"]
    assert desk.sent() == [(desk.user_room("student_b"), "slot.cancelled")]


async def test_reschedule_frees_the_old_slot(desk: Desk) -> None:
    await desk.open_window()
    first, second = await desk.publish(count=2)
    await desk.book("student_b", first)
    scope = await desk.scope("student_b")
    moved = await slots.reschedule(desk.services, desk.actor("student_b"), scope, first, second)
    assert moved.slot_id == second
    assert (await desk.slot(first))["state"] == "open"
    assert (await desk.slot(second))["booked_by"] == desk.world.users["student_b"]
    old, new = await desk.rows(t.interviews)
    assert (old["state"], new["state"], new["slot_id"]) == ("cancelled", "scheduled", second)
    kinds = [(h["interview_id"], h["kind"]) for h in await desk.rows(t.interview_history)]
    assert kinds == [(old["id"], "booked"), (old["id"], "rescheduled"), (new["id"], "rescheduled")]
    # Student A can book the freed slot now.
    await desk.book("student_a", first)


async def test_withdrawing_a_booked_slot_tells_the_student(desk: Desk) -> None:
    await desk.open_window()
    first, second = await desk.publish(count=2)
    await desk.book("student_b", first)
    desk.sent()
    recruiter = desk.actor("recruiter_a")
    cf = await slot_publish.access_company_fair(desk.db, recruiter, "open")
    await slot_publish.withdraw(desk.services, recruiter, cf, first)
    await slot_publish.withdraw(desk.services, recruiter, cf, second)
    assert [(await desk.slot(i))["state"] for i in (first, second)] == ["withdrawn", "withdrawn"]
    [interview] = await desk.rows(t.interviews)
    assert interview["state"] == "cancelled"
    assert desk.notifier.sent[0].data["by"] == "company"
    assert desk.sent() == [(desk.user_room("student_b"), "slot.cancelled")]
    # Company B's recruiter cannot withdraw company A's slots (they find no such fair).
    with pytest.raises(NotFound):
        other = await slot_publish.access_company_fair(desk.db, desk.actor("recruiter_b"), "open")
        await slot_publish.withdraw(desk.services, desk.actor("recruiter_b"), other, first)


async def test_reminders_are_sent_once(desk: Desk) -> None:
    await desk.open_window()
    [slot_id] = await desk.publish(count=1)
    await desk.book("student_b", slot_id)
    desk.sent()
    timers = desk.services.slot_timers
    assert (await timers.sweep()).reminded == 0  # a day before: too early
    desk.time.now = FIRST - timedelta(minutes=desk.services.settings.reminder_minutes - 1)
    swept = await asyncio.gather(timers.remind(), timers.remind())
    assert sorted(swept) == [0, 1]
    assert (await timers.sweep()).reminded == 0
    assert desk.sent() == [(desk.user_room("student_b"), "slot.reminder")]
    [interview] = await desk.rows(t.interviews)
    assert interview["reminded_at"] == desk.time.now


async def test_a_no_show_is_recorded_and_a_candidate_who_came_is_not(desk: Desk) -> None:
    await desk.open_window()
    first, second = await desk.publish(count=2)
    await desk.book("student_b", first)
    await desk.book("student_a", second)
    async with desk.db.connect() as conn:
        ids = {r.slot_id: r.id for r in (await conn.execute(sa.select(t.interviews))).all()}
    async with desk.db.begin() as conn:  # student A entered their room
        await conn.execute(
            t.attendance.insert().values(
                user_id=desk.world.users["student_a"],
                fair_id=desk.world.open_fair,
                kind="interview",
                subject_id=ids[second],
                connection_id="c1",
                joined_at=FIRST,
                last_seen_at=FIRST,
            )
        )
    desk.sent()
    timers = desk.services.slot_timers
    desk.time.now = FIRST + timedelta(minutes=desk.services.settings.no_show_minutes - 1)
    assert (await timers.sweep()).no_shows == 0
    desk.time.now = FIRST + timedelta(minutes=desk.services.settings.no_show_minutes + 1)
    assert (await timers.sweep()).no_shows == 1
    assert (await timers.sweep()).no_shows == 0
    missed = {r["id"]: r for r in await desk.rows(t.interviews)}[ids[first]]
    assert (missed["state"], missed["outcome"]) == ("ended", "no_show")
    [history] = [h for h in await desk.rows(t.interview_history) if h["kind"] == "no_show"]
    assert history["actor_id"] is None and history["interview_id"] == ids[first]
    assert (await desk.slot(first))["state"] == "open"  # it runs till 10:20: freed
    staff = f"fair:{desk.world.open_fair}:staff"
    assert desk.sent() == [
        (f"interview:{ids[first]}", "interview.no_show"),
        (staff, "interview.no_show"),
    ]


async def test_continue_later_books_a_follow_up_with_the_same_panel(desk: Desk) -> None:
    await desk.open_window()
    [slot_id] = await desk.publish(count=1)
    booked = await desk.book("student_b", slot_id)
    desk.sent()
    recruiter = desk.actor("recruiter_a")
    interview, me = await access_interview(desk.db, recruiter, booked.interview_id)
    form = FollowUpForm(day=FAIR_DAY, start=time(15, 0), length=30)
    new_id = await slot_publish.follow_up(desk.services, recruiter, interview, me, form)
    rows = {r["id"]: r for r in await desk.rows(t.interviews)}
    assert rows[new_id]["follows_id"] == booked.interview_id
    assert (
        rows[new_id]["state"] == "scheduled"
        and rows[new_id]["student_id"] == desk.world.users["student_b"]
    )
    new_slot = await desk.slot(rows[new_id]["slot_id"])
    assert new_slot["state"] == "booked" and new_slot["starts_at"] == FIRST + timedelta(hours=5)
    kinds = {(h["interview_id"], h["kind"]) for h in await desk.rows(t.interview_history)}
    assert {(booked.interview_id, "follow_up"), (new_id, "follow_up")} <= kinds
    assert desk.sent() == [(desk.user_room("student_b"), "slot.booked")]
    # The candidate cannot make one.
    student = desk.actor("student_b")
    interview, me = await access_interview(desk.db, student, booked.interview_id)
    with pytest.raises(NotFound):
        await slot_publish.follow_up(desk.services, student, interview, me, form)
