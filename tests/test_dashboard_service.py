"""The live fair dashboard's service on the memory backend with a recording notifier:
what the snapshot holds, and exactly when an update is sent. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.auth import Actor
from fairserver.rooms.booths import calls as booth_calls
from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.briefings import live as briefing_service
from fairserver.rooms.fairs import attendance, dashboard
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import briefings as briefing_store
from fairserver.store import interviews as interview_store
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world


class Stage:
    def __init__(self, db: Database, world: World, fair: Mapping[str, Any]) -> None:
        self.db, self.world, self.fair = db, world, fair
        self.time = FakeTime()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )
        self.booth_a = Booth(world.booth_a_open, world.open_fair, world.company_a, "Company A")
        self.booth_b = Booth(world.booth_b_open, world.open_fair, world.company_b, "Company B")
        self.staff_room = f"fair:{world.open_fair}:staff"

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        company = {"recruiter_a": self.world.company_a, "recruiter_b": self.world.company_b}
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=company.get(who),
            verified=role == "student",
        )

    async def in_fair(self, who: str, connection: str) -> None:
        """As fair.join does: presence in the fair and a fair visit on record."""
        await fairlive.touch(self.services, connection, self.actor(who), self.world.open_fair)
        await attendance.open_interval(
            self.services,
            connection_id=connection,
            user_id=self.world.users[who],
            fair_id=self.world.open_fair,
            kind="fair",
            subject_id=self.world.open_fair,
        )

    async def snapshot(self) -> dict[str, Any]:
        return (await dashboard.snapshot(self.services, self.fair)).model_dump(mode="json")

    def sent(self) -> list[tuple[str, str]]:
        events = self.notifier.events()
        self.notifier.sent.clear()
        return events


@pytest.fixture
async def stage(db: Database) -> Stage:
    world = await build_world(db)
    async with db.connect() as conn:
        fair = (
            (await conn.execute(sa.select(t.fairs).where(t.fairs.c.id == world.open_fair)))
            .mappings()
            .one()
        )
    return Stage(db, world, fair)


async def busy_fair(stage: Stage) -> None:
    """recruiter_a staffs booth A; booth B has nobody, a visitor and a queue."""
    services = stage.services
    await stage.in_fair("recruiter_a", "w1:r")
    await stage.in_fair("student_a", "w1:s1")
    await stage.in_fair("student_b", "w1:s2")
    await booth_service.enter(services, "w1:r", stage.actor("recruiter_a"), stage.booth_a, None)
    await booth_service.enter(services, "w1:s1", stage.actor("student_a"), stage.booth_b, None)
    await booth_calls.join(services, stage.actor("student_b"), stage.booth_b)


async def test_snapshot_flags_the_unstaffed_booth_people_wait_at(stage: Stage) -> None:
    await busy_fair(stage)
    snapshot = await stage.snapshot()
    assert snapshot["fair_id"] == stage.world.open_fair
    assert snapshot["online"] == {
        "students": 2,
        "recruiters": 1,
        "organisers": 0,
        "admins": 0,
        "total": 3,
    }
    assert snapshot["visitors_today"] == 3
    first, second = snapshot["booths"]
    assert first == {
        "booth_id": stage.booth_b.id,
        "company": "Company B",
        "visitors": 1,
        "queue": 1,
        "in_call": 0,
        "staff": [],
        "unstaffed": True,
    }
    assert second == {
        "booth_id": stage.booth_a.id,
        "company": "Company A",
        "visitors": 0,
        "queue": 0,
        "in_call": 0,
        "staff": [
            {"user_id": stage.world.users["recruiter_a"], "name": "recruiter_a", "status": "online"}
        ],
        "unstaffed": False,
    }


async def test_staff_who_are_all_away_leave_the_booth_unstaffed(stage: Stage) -> None:
    await booth_service.enter(
        stage.services, "w1:r", stage.actor("recruiter_a"), stage.booth_a, None
    )
    await booth_service.set_status(
        stage.services, stage.actor("recruiter_a"), stage.booth_a, "away"
    )
    await booth_service.enter(
        stage.services, "w1:s1", stage.actor("student_a"), stage.booth_a, None
    )
    booths = (await stage.snapshot())["booths"]
    # Booth A has a visitor and nobody available: it comes before the empty booth B.
    assert [(b["company"], b["unstaffed"], b["visitors"]) for b in booths] == [
        ("Company A", True, 1),
        ("Company B", True, 0),
    ]
    assert booths[0]["staff"][0]["status"] == "away"


async def test_a_called_student_counts_as_in_a_chat_not_in_the_queue(stage: Stage) -> None:
    await busy_fair(stage)
    await booth_service.enter(
        stage.services, "w1:r2", stage.actor("recruiter_b"), stage.booth_b, None
    )
    await booth_calls.call_next(stage.services, stage.actor("recruiter_b"), stage.booth_b)
    booth_b = next(b for b in (await stage.snapshot())["booths"] if b["company"] == "Company B")
    assert (booth_b["queue"], booth_b["in_call"], booth_b["unstaffed"]) == (0, 1, False)


async def test_live_and_upcoming_briefings_with_viewers(stage: Stage) -> None:
    now = stage.time.now
    async with stage.db.begin() as conn:

        async def briefing(title: str, status: str, start: datetime) -> int:
            return await briefing_store.insert_briefing(
                conn,
                stage.world.open_fair,
                NewBriefing(
                    company_id=stage.world.company_a,
                    title=title,
                    status=status,
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                ),
                [],
            )

        live = await briefing("On air", "live", now - timedelta(minutes=10))
        soon = await briefing("Soon", "scheduled", now + timedelta(hours=1))
        await briefing("Over", "ended", now - timedelta(hours=3))
        await briefing("Called off", "cancelled", now + timedelta(hours=2))
    for connection, who in (("w1:v1", "student_a"), ("w1:v2", "student_b")):
        await briefing_service.touch(stage.services, connection, stage.actor(who), live)
    briefings = (await stage.snapshot())["briefings"]
    assert [(b["briefing_id"], b["status"], b["viewers"]) for b in briefings] == [
        (live, "live", 2),
        (soon, "scheduled", 0),
    ]
    assert briefings[0]["title"] == "On air" and briefings[0]["company"] == "Company A"


async def test_todays_visitors_are_counted_once_from_attendance(stage: Stage) -> None:
    await stage.in_fair("student_a", "w1:s1")
    await stage.in_fair("student_a", "w1:s1b")  # a second tab
    await attendance.close_intervals(stage.services, "w1:s1", "leave")
    # A visit that ended yesterday does not count today.
    yesterday = dashboard.day_start(stage.time.now, "Asia/Shanghai") - timedelta(hours=2)
    async with stage.db.begin() as conn:
        await conn.execute(
            t.attendance.insert().values(
                user_id=stage.world.users["student_b"],
                fair_id=stage.world.open_fair,
                kind="fair",
                subject_id=stage.world.open_fair,
                connection_id="w0:old",
                joined_at=yesterday - timedelta(hours=1),
                last_seen_at=yesterday,
                left_at=yesterday,
                close_reason="leave",
            )
        )
    assert (await stage.snapshot())["visitors_today"] == 1


def test_day_start_is_midnight_in_the_fairs_time_zone() -> None:
    now = datetime(2027, 1, 10, 17, 30, tzinfo=UTC)  # 01:30 on the 11th in Shanghai
    assert dashboard.day_start(now, "Asia/Shanghai") == datetime(2027, 1, 10, 16, 0, tzinfo=UTC)
    assert dashboard.day_start(now, "Not/AZone") == datetime(2027, 1, 10, 0, 0, tzinfo=UTC)


async def test_publish_sends_to_the_staff_room_only_when_something_changed(
    stage: Stage,
) -> None:
    await busy_fair(stage)
    stage.sent()
    assert await dashboard.publish(stage.services, stage.fair)
    assert stage.sent() == [(stage.staff_room, "fair.dashboard")]
    # Within the same tick another worker (or this one) does not send again.
    assert not await dashboard.publish(stage.services, stage.fair)
    stage.time.advance(dashboard.TICK_SECONDS)
    assert not await dashboard.publish(stage.services, stage.fair)  # nothing changed
    assert stage.sent() == []
    await booth_service.enter(
        stage.services, "w1:s2", stage.actor("student_b"), stage.booth_a, None
    )
    stage.sent()
    stage.time.advance(dashboard.TICK_SECONDS)
    assert await dashboard.publish(stage.services, stage.fair)
    [update] = stage.notifier.sent
    assert update.room == stage.staff_room and update.event == "fair.dashboard"
    booth_a = next(b for b in update.data["booths"] if b["company"] == "Company A")
    assert booth_a["visitors"] == 1


async def test_the_ticker_runs_while_someone_watches_and_stops_after(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "TICK_SECONDS", 0.01)
    tickers = stage.services.dashboard_tickers
    other_app = build_services(
        db=stage.services.db, live=stage.services.live, notifier=RecordingNotifier(), worker_id="w2"
    )
    assert other_app.dashboard_tickers is not tickers  # one per Services, none module-wide
    watching = {"w1:o1": True, "w1:o2": True}
    for connection in watching:
        tickers.watch(stage.services, stage.fair, connection, lambda c=connection: watching[c])
    task = tickers.fairs[stage.world.open_fair].task
    assert task is not None
    for _ in range(200):  # bounded: the first tick sends the first snapshot
        if stage.notifier.sent:
            break
        await asyncio.sleep(0.01)
    assert stage.sent() == [(stage.staff_room, "fair.dashboard")]
    tickers.unwatch("w1:o1")
    assert tickers.watching(stage.world.open_fair) == {"w1:o2"}
    # The last watcher left the fair (fair.leave): the next tick notices and stops.
    watching["w1:o2"] = False
    await asyncio.wait_for(task, timeout=2)
    assert stage.world.open_fair not in tickers.fairs
    # A disconnect of the last watcher stops a running ticker at once.
    tickers.watch(stage.services, stage.fair, "w1:o3", lambda: True)
    task = tickers.fairs[stage.world.open_fair].task
    assert task is not None
    tickers.unwatch("w1:o3")
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    await tickers.close()


# --- interviews (F5): in progress and today's no-shows -------------------------------------


async def an_interview(stage: Stage, who: str, company: int, state: str) -> int:
    async with stage.db.begin() as conn:
        iid = await interview_store.insert_interview(
            conn,
            interview_store.NewInterview(
                fair_id=stage.world.open_fair,
                company_id=company,
                student_id=stage.world.users[who],
                origin="chat",
                state="waiting",
                created_at=stage.time.now,
            ),
        )
        if state == "live":
            await interview_store.go_live(conn, iid, stage.time.now)
    return iid


async def test_interviews_in_progress_come_and_go_with_the_snapshot(stage: Stage) -> None:
    world = stage.world
    assert (await stage.snapshot())["interviews"] == {
        "live": 0,
        "in_progress": [],
        "no_shows_today": 0,
        "no_shows": [],
    }
    assert await dashboard.publish(stage.services, stage.fair)
    waiting = await an_interview(stage, "student_b", world.company_a, "waiting")
    stage.time.advance(dashboard.TICK_SECONDS)
    assert not await dashboard.publish(stage.services, stage.fair)  # waiting is not live
    mine = await an_interview(stage, "student_b", world.company_b, "live")
    stage.time.advance(60)
    other_school = await an_interview(stage, "student_a", world.company_a, "live")
    stage.sent()
    assert await dashboard.publish(stage.services, stage.fair)  # it went live: sent
    [update] = stage.notifier.sent
    interviews = update.data["interviews"]
    assert interviews["live"] == 2
    # The fair is School B's: student_b is named, School A's student_a is only counted.
    assert [(i["interview_id"], i["company"], i["student"]) for i in interviews["in_progress"]] == [
        (mine, "Company B", "student_b"),
        (other_school, "Company A", None),
    ]
    async with stage.db.begin() as conn:
        await interview_store.end(conn, mine, stage.time.now)
    stage.time.advance(dashboard.TICK_SECONDS)
    stage.sent()
    assert await dashboard.publish(stage.services, stage.fair)  # it ended: sent
    [update] = stage.notifier.sent
    assert [i["interview_id"] for i in update.data["interviews"]["in_progress"]] == [other_school]
    assert waiting not in [i["interview_id"] for i in update.data["interviews"]["in_progress"]]


async def test_todays_no_shows_in_the_fairs_time_zone(stage: Stage) -> None:
    world = stage.world
    today = dashboard.day_start(stage.time.now, "Asia/Shanghai")
    missed = await an_interview(stage, "student_b", world.company_a, "waiting")
    yesterday = await an_interview(stage, "student_a", world.company_b, "waiting")
    async with stage.db.begin() as conn:
        await interview_store.set_outcome(conn, missed, "no_show", None, today + timedelta(hours=1))
        await interview_store.set_outcome(
            conn, yesterday, "no_show", None, today - timedelta(minutes=1)
        )
    interviews = (await stage.snapshot())["interviews"]
    assert interviews["no_shows_today"] == 1
    [only] = interviews["no_shows"]
    assert (only["interview_id"], only["student"]) == (missed, "student_b")
