"""Booth services on the memory backend with a recording notifier: exactly which events
each action emits, and to which rooms (zulip style). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.auth import Actor
from fairserver.rooms.booths import calls as booth_calls
from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths import queue as booth_queue
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import accounts
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world


class Stage:
    def __init__(self, db: Database, world: World) -> None:
        self.world = world
        self.time = FakeTime()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )
        self.booth = Booth(
            id=world.booth_a_open,
            fair_id=world.open_fair,
            company_id=world.company_a,
            company_name="Company A",
        )

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        role = "student" if role == "unverified" else role
        company = {"recruiter_a": self.world.company_a, "recruiter_b": self.world.company_b}
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=company.get(who),
        )

    def sent(self) -> list[tuple[str, str]]:
        events = self.notifier.events()
        self.notifier.sent.clear()
        return events


@pytest.fixture
async def stage(db: Database) -> Stage:
    return Stage(db, await build_world(db))


def user(stage: Stage, who: str) -> str:
    return f"user:{stage.world.users[who]}"


ROOM = "booth:{}"


async def test_entering_tells_the_booth_only_when_presence_changes(stage: Stage) -> None:
    booth, services = stage.booth, stage.services
    room = booth.room
    student = stage.actor("student_a")
    snapshot = (await booth_service.enter(services, "w1:s1", student, booth, None)).model_dump()
    assert snapshot["visitors"] == 1 and snapshot["missed"] is None
    assert stage.sent() == [(room, "booth.presence")]
    # A second tab of the same person changes nothing anyone can see.
    await booth_service.enter(services, "w1:s2", student, booth, None)
    assert stage.sent() == []
    entered = await booth_service.enter(services, "w1:r1", stage.actor("recruiter_a"), booth, 0)
    snapshot = entered.model_dump()
    assert snapshot["is_staff"] and snapshot["missed"] == []
    assert stage.sent() == [(room, "booth.presence")]
    await booth_service.set_status(services, stage.actor("recruiter_a"), booth, "away")
    assert stage.sent() == [(room, "booth.presence")]
    assert await booth_service.available_staff(services, booth) == 0


async def test_chat_goes_to_the_booth_once_and_private_lines_to_the_pair(stage: Stage) -> None:
    booth, services = stage.booth, stage.services
    student, recruiter = stage.actor("student_a"), stage.actor("recruiter_a")
    first = (await booth_service.post_message(services, student, booth, "hello", "c1")).model_dump()
    again = (await booth_service.post_message(services, student, booth, "hello", "c1")).model_dump()
    assert first["seq"] == 1 and again["duplicate"] and again["id"] == first["id"]
    assert stage.sent() == [(booth.room, "booth.message")]
    await booth_service.send_private(
        services, recruiter, booth, stage.world.users["student_a"], "hi", "d1"
    )
    assert stage.sent() == [
        (user(stage, "recruiter_a"), "booth.dm"),
        (user(stage, "student_a"), "booth.dm"),
    ]
    await booth_service.delete_message(services, recruiter, booth, first["id"])
    assert stage.sent() == [(booth.room, "booth.message_deleted")]


@pytest.mark.parametrize(
    ("position", "staff", "average", "expected"),
    [(1, 0, 300, 300), (1, 1, 300, 300), (2, 1, 300, 600), (3, 2, 240, 480), (4, 2, 240, 480)],
)
def test_eta_formula(position: int, staff: int, average: int, expected: int) -> None:
    assert booth_queue.eta_seconds(position, staff, average) == expected


async def test_joining_and_calling_tell_exactly_who_needs_to_know(stage: Stage) -> None:
    booth, services = stage.booth, stage.services
    room, staff_room = booth.room, booth.staff_room
    await booth_calls.join(services, stage.actor("student_a"), booth)
    assert stage.sent() == [
        (user(stage, "student_a"), "booth.queue_position"),
        (room, "booth.queue"),
        (staff_room, "booth.queue_list"),
    ]
    state = (await booth_calls.join(services, stage.actor("student_b"), booth)).model_dump()
    assert (state["position"], state["eta_seconds"]) == (2, 600)
    assert stage.sent() == [
        (user(stage, "student_a"), "booth.queue_position"),
        (user(stage, "student_b"), "booth.queue_position"),
        (room, "booth.queue"),
        (staff_room, "booth.queue_list"),
    ]
    called = (await booth_calls.call_next(services, stage.actor("recruiter_a"), booth)).model_dump()
    assert called["called"]["student_id"] == stage.world.users["student_a"]
    assert stage.sent() == [
        (user(stage, "student_a"), "booth.called"),
        (user(stage, "student_b"), "booth.queue_position"),
        (room, "booth.queue"),
        (staff_room, "booth.queue_list"),
    ]
    # The call runs out: the student and the staff both hear it.
    stage.time.advance(booth_queue.CALL_SECONDS + 1)
    await booth_queue.sweep(services, booth)
    assert stage.sent() == [
        (user(stage, "student_a"), "booth.call_expired"),
        (staff_room, "booth.call_expired"),
        (user(stage, "student_b"), "booth.queue_position"),
        (room, "booth.queue"),
        (staff_room, "booth.queue_list"),
    ]
    async with services.db.connect() as conn:
        rows = (
            (await conn.execute(t.queue_entries.select().order_by(t.queue_entries.c.id)))
            .mappings()
            .all()
        )
    assert [r["outcome"] for r in rows] == ["timeout", None]


async def test_a_called_student_is_not_called_by_another_booth(stage: Stage) -> None:
    services, world = stage.services, stage.world
    other = Booth(
        id=world.booth_b_open,
        fair_id=world.open_fair,
        company_id=world.company_b,
        company_name="Company B",
    )
    for booth in (stage.booth, other):
        await booth_calls.join(services, stage.actor("student_a"), booth)
    first = (
        await booth_calls.call_next(services, stage.actor("recruiter_a"), stage.booth)
    ).model_dump()
    second = (await booth_calls.call_next(services, stage.actor("recruiter_b"), other)).model_dump()
    assert first["called"] is not None and second["called"] is None
    # Still queued at the other booth, in first place.
    state = (await booth_queue.my_state(services, other, world.users["student_a"])).model_dump()
    assert (state["state"], state["position"]) == ("waiting", 1)
    await booth_calls.accept(services, stage.actor("student_a"), stage.booth)
    assert (await booth_calls.call_next(services, stage.actor("recruiter_b"), other)).called is None
    stage.time.advance(200)
    await booth_calls.end_chat(
        services, stage.actor("recruiter_a"), stage.booth, world.users["student_a"]
    )
    assert await booth_queue.average_chat_seconds(services, stage.booth) == 200
    assert (await booth_calls.call_next(services, stage.actor("recruiter_b"), other)).called


async def more_students(stage: Stage, count: int) -> list[Actor]:
    async with stage.services.db.begin() as conn:
        ids = [
            await accounts.insert_user(
                conn,
                email=f"queued{n}@test.fair",
                password_hash="!",  # nobody logs in
                display_name=f"queued {n}",
                role="student",
                school_id=stage.world.school_b,
            )
            for n in range(count)
        ]
    return [Actor(user_id=i, role="student", display_name=f"q{i}") for i in ids]


async def test_concurrent_joins_and_calls_keep_positions_whole(stage: Stage) -> None:
    booth, services = stage.booth, stage.services
    students = await more_students(stage, 8)
    # Every student twice at once (a retried join): one entry each, positions 1..8.
    replies = await asyncio.gather(
        *(booth_calls.join(services, s, booth) for s in students + students)
    )
    # The first of each pair joins; its twin, racing the join claim, may answer before
    # the insert commits ("none") but never adds a second entry.
    assert [r.state for r in replies[:8]] == ["waiting"] * 8
    listing = await booth_queue.queue_list(services, booth)
    assert [row.position for row in listing.entries] == list(range(1, 9))
    assert len({row.student_id for row in listing.entries}) == 8
    # Two tabs of the staff call at once: two different students, the rest move up.
    recruiter = stage.actor("recruiter_a")
    first, second = await asyncio.gather(
        booth_calls.call_next(services, recruiter, booth),
        booth_calls.call_next(services, recruiter, booth),
    )
    assert first.called is not None and second.called is not None
    assert first.called.student_id != second.called.student_id
    listing = await booth_queue.queue_list(services, booth)
    assert [row.position for row in listing.entries if row.state == "waiting"] == list(range(1, 7))
    assert sorted(row.state for row in listing.entries).count("called") == 2


async def test_a_join_reads_one_snapshot_whatever_the_queue_length(stage: Stage) -> None:
    booth, services = stage.booth, stage.services
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    students = await more_students(stage, 6)
    sa.event.listen(services.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for waiting, student in enumerate(students):
            statements.clear()
            stage.sent()
            await booth_calls.join(services, student, booth)
            # The insert, then one snapshot read; one position per waiting student + 2.
            assert len(statements) == 2, statements
            assert len(stage.sent()) == waiting + 1 + 2
    finally:
        sa.event.remove(services.db.engine.sync_engine, "before_cursor_execute", count)
