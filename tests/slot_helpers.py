"""Shared set-up for the booked-slot room tests (I2, I6): services on the memory backend
with a recording notifier and a movable clock, and an interview made as a booking makes
one (store/slots.insert_booking): a booked interview_slots row, then an interview of
origin 'slot', state 'scheduled', with the candidate (not admitted) and the panel
(admitted at booking)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fairserver.auth import Actor
from fairserver.rooms.interviews import rooms
from fairserver.rooms.interviews.rooms import Seat
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import accounts
from fairserver.store import interviews as store
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.interviews import NewInterview
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world


class Stage:
    """recruiter_a's company A interviews student_a at the campus fair (School A's)."""

    def __init__(self, db: Database, world: World, worker_id: str = "w1") -> None:
        self.db, self.world = db, world
        self.time = FakeTime()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id=worker_id,
            clock=self.time.wall,
        )

    def other_worker(self, worker_id: str) -> Stage:
        """The same database and clock, seen from another worker."""
        twin = Stage(self.db, self.world, worker_id)
        twin.time = self.time
        twin.services.clock = self.time.wall
        return twin

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        company = self.world.company_a if who.startswith("recruiter_a") else None
        if who == "recruiter_b":
            company = self.world.company_b
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=company,
            verified=role == "student",
        )

    async def seat(self, who: str, interview_id: int) -> Seat:
        return await rooms.seat_of(self.services, self.actor(who), interview_id)

    def at(self, when: datetime) -> None:
        self.time.now = when

    def sent(self) -> list[tuple[str, str]]:
        events = self.notifier.events()
        self.notifier.sent.clear()
        return events


async def make_stage(db: Database) -> Stage:
    return Stage(db, await build_world(db))


async def add_recruiters(stage: Stage, count: int) -> list[str]:
    """Recruiters of company A named recruiter_a2, recruiter_a3, ... (keys into world)."""
    world, keys = stage.world, []
    async with stage.db.begin() as conn:
        for n in range(2, 2 + count):
            key = f"recruiter_a{n}"
            world.users[key] = await accounts.insert_user(
                conn,
                email=f"{key}@test.fair",
                password_hash="!",  # nobody logs in
                display_name=key,
                role="recruiter",
                company_id=world.company_a,
            )
            keys.append(key)
    return keys


async def booked_interview(
    stage: Stage,
    starts_at: datetime,
    minutes: int = 30,
    *,
    panel: tuple[str, ...] = ("recruiter_a",),
    student: str = "student_a",
    fair: str = "campus",
) -> int:
    """A booked slot of company A and its interview, as the booking makes them."""
    world, now = stage.world, stage.time.now
    fair_id, booth_id = (
        (world.campus_fair, world.booth_a_campus)
        if fair == "campus"
        else (world.open_fair, world.booth_a_open)
    )
    users = world.users
    async with stage.db.begin() as conn:
        result = await conn.execute(
            t.interview_slots.insert()
            .values(
                fair_id=fair_id,
                booth_id=booth_id,
                company_id=world.company_a,
                recruiter_id=users[panel[0]],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                state="booked",
                booked_by=users[student],
                created_at=now,
            )
            .returning(t.interview_slots.c.id)
        )
        slot_id = int(result.scalar_one())
        for who in panel:
            await conn.execute(
                t.slot_interviewers.insert().values(slot_id=slot_id, user_id=users[who])
            )
        interview_id = await store.insert_interview(
            conn,
            NewInterview(
                fair_id=fair_id,
                company_id=world.company_a,
                student_id=users[student],
                origin="slot",
                state="scheduled",
                created_at=now,
                slot_id=slot_id,
                owner_id=users[panel[0]],
            ),
        )
        await store.add_participant(conn, interview_id, users[student], "candidate", None)
        for who in panel:
            await store.add_participant(conn, interview_id, users[who], "interviewer", now)
    return interview_id
