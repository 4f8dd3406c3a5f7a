"""A booked slot's interview room (I2): it opens at the slot's start (interviewers a few
minutes early), the snapshot carries the slot's times for the timer, the wrap-up warning
goes out once across workers, and an interviewer hands the interview to a colleague.
Services on the memory backend with a recording notifier and a movable clock, on SQLite
and PostgreSQL; the last tests go over a real socket."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import handoff, opening, rooms
from fairserver.rooms.interviews.timing import INTERVIEWERS_EARLY
from fairserver.store import history
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import World
from tests.interview_helpers import code, ok
from tests.slot_helpers import Stage, add_recruiters, booked_interview, make_stage
from tests.sockets import connected


@pytest.fixture
async def stage(db: Database) -> Stage:
    return await make_stage(db)


async def interview_row(stage: Stage, interview_id: int) -> dict[str, Any]:
    async with stage.db.connect() as conn:
        stmt = sa.select(t.interviews).where(t.interviews.c.id == interview_id)
        return dict((await conn.execute(stmt)).mappings().one())


def candidate_present(event: dict[str, Any]) -> bool:
    return any(p["role"] == "candidate" and p["present"] for p in event["participants"])


# --- opening at the start ------------------------------------------------------------------


async def test_the_room_opens_at_the_slots_start(stage: Stage) -> None:
    start = stage.time.now + timedelta(minutes=30)
    iid = await booked_interview(stage, start)
    services, room = stage.services, f"interview:{iid}"
    stage.at(start - timedelta(minutes=10))
    # The candidate comes early: told when it opens, on record as arrived, not knocking.
    seat = await stage.seat("student_a", iid)
    early = await rooms.join(services, "w1:s", stage.actor("student_a"), seat, [])
    assert early.slot is not None and early.slot.open is False
    assert early.slot.opens_at == start.isoformat() and early.slot.minutes == 30
    assert early.state == "scheduled" and early.ice_servers == [] and early.messages == []
    assert not any(p.present for p in early.participants)
    assert stage.notifier.to(room) == []  # nobody hears a knock
    async with stage.db.connect() as conn:
        arrived = (await conn.execute(sa.select(t.attendance.c.joined_at))).scalars().all()
    assert arrived == [start - timedelta(minutes=10)]
    # The interviewer, too early even to set up; then inside the early window.
    recruiter = await stage.seat("recruiter_a", iid)
    assert recruiter.open is False
    with pytest.raises(ServiceError) as refused:
        rooms.require_admitted(recruiter)  # no media or chat before it opens
    assert refused.value.code == "interview.not_open"
    stage.at(start - INTERVIEWERS_EARLY + timedelta(seconds=1))
    recruiter = await stage.seat("recruiter_a", iid)
    setup = await rooms.join(services, "w1:r", stage.actor("recruiter_a"), recruiter, [])
    assert setup.slot is not None and setup.slot.open is True and setup.state == "scheduled"
    rooms.require_admitted(recruiter)  # camera and chat among the panel
    # Nobody can be admitted before the start, and the candidate still cannot knock.
    with pytest.raises(ServiceError) as refused:
        await rooms.admit(services, recruiter)
    assert refused.value.code == "interview.not_open"
    assert refused.value.details["opens_at"] == start.isoformat()
    seat = await stage.seat("student_a", iid)
    assert seat.open is False
    # From the start on: the waiting room works as for any interview.
    stage.at(start + timedelta(seconds=5))
    stage.sent()
    seat = await stage.seat("student_a", iid)
    knocking = await rooms.join(services, "w1:s", stage.actor("student_a"), seat, [])
    assert knocking.state == "waiting" and knocking.slot is not None and knocking.slot.open
    [heard] = stage.notifier.sent
    assert (heard.room, heard.event) == (room, "interview.participants")
    assert candidate_present(heard.data) and heard.data["state"] == "waiting"
    admitted = await rooms.admit(services, await stage.seat("recruiter_a", iid))
    assert admitted.state == "live"
    row = await interview_row(stage, iid)
    assert row["state"] == "live" and row["started_at"] == start + timedelta(seconds=5)


async def test_the_knock_is_heard_only_from_the_start(stage: Stage) -> None:
    start = stage.time.now + timedelta(minutes=5)
    iid = await booked_interview(stage, start)
    stage.at(start - timedelta(minutes=1))
    recruiter = await stage.seat("recruiter_a", iid)
    await rooms.join(stage.services, "w1:r", stage.actor("recruiter_a"), recruiter, [])
    student = await stage.seat("student_a", iid)
    await rooms.join(stage.services, "w1:s", stage.actor("student_a"), student, [])
    heard = [s.data for s in stage.notifier.to(f"interview:{iid}")]
    assert heard and not any(candidate_present(e) for e in heard)
    stage.at(start)
    student = await stage.seat("student_a", iid)  # the page joins again at the opening
    await rooms.join(stage.services, "w1:s", stage.actor("student_a"), student, [])
    assert candidate_present(stage.notifier.to(f"interview:{iid}")[-1].data)


async def test_an_escalation_makes_its_own_room_beside_a_booked_one(stage: Stage) -> None:
    world = stage.world
    start = stage.time.now + timedelta(hours=1)
    booked = await booked_interview(stage, start)
    async with stage.db.begin() as conn:
        await conn.execute(
            t.queue_entries.insert().values(
                booth_id=world.booth_a_campus,
                student_id=world.users["student_a"],
                joined_at=stage.time.now,
            )
        )
    booth = Booth(world.booth_a_campus, world.campus_fair, world.company_a, "Company A")
    opened = await opening.open_for_booth(
        stage.services, stage.actor("recruiter_a"), booth, world.users["student_a"]
    )
    assert opened.created is True and opened.interview_id != booked
    again = await opening.open_for_booth(
        stage.services, stage.actor("recruiter_a"), booth, world.users["student_a"]
    )
    assert again.interview_id == opened.interview_id and again.created is False
    assert (await interview_row(stage, booked))["state"] == "scheduled"


async def test_a_snapshot_has_the_slots_times_and_no_slot_means_no_times(stage: Stage) -> None:
    start = stage.time.now - timedelta(minutes=12)
    iid = await booked_interview(stage, start, minutes=30)
    seat = await stage.seat("recruiter_a", iid)
    snap = await rooms.join(stage.services, "w1:r", stage.actor("recruiter_a"), seat, [])
    assert snap.now == stage.time.now.isoformat()
    assert snap.slot is not None
    assert (snap.slot.starts_at, snap.slot.ends_at) == (
        start.isoformat(),
        (start + timedelta(minutes=30)).isoformat(),
    )
    assert snap.slot.wrap_up_at is None and snap.owner_id == stage.world.users["recruiter_a"]


@pytest.mark.parametrize("who", ["student_b", "recruiter_b", "organiser_a", "admin"])
async def test_nobody_else_joins_someone_elses_slot(stage: Stage, who: str) -> None:
    """Issue 9: nobody can join someone else's slot. Another student, another company's
    recruiter, even the school's organiser and an admin: the same NotFound as a missing id,
    before the start and after it."""
    start = stage.time.now + timedelta(minutes=5)
    iid = await booked_interview(stage, start)
    for when in (start - timedelta(minutes=1), start + timedelta(minutes=1)):
        stage.at(when)
        with pytest.raises(NotFound):
            await stage.seat(who, iid)
    with pytest.raises(NotFound):
        await stage.seat("student_a", iid + 1000)  # a missing id answers alike


# --- the wrap-up warning ---------------------------------------------------------------------


async def test_wrap_up_is_sent_once_before_the_end(stage: Stage) -> None:
    start = stage.time.now
    iid = await booked_interview(stage, start, minutes=30)
    wrap = stage.services.wrap_ups
    minutes = stage.services.settings.wrap_up_minutes
    stage.at(start + timedelta(minutes=30 - minutes - 1))
    assert await wrap.round() == 0
    stage.at(start + timedelta(minutes=30 - minutes, seconds=1))
    assert await wrap.round() == 1
    [sent] = stage.notifier.sent
    assert (sent.room, sent.event) == (f"interview:{iid}", "interview.wrap_up")
    assert sent.data["interview_id"] == iid and sent.data["minutes_left"] == minutes
    assert datetime.fromisoformat(sent.data["ends_at"]) == start + timedelta(minutes=30)
    stage.at(start + timedelta(minutes=29))
    assert await wrap.round() == 0  # once
    # A page opened late shows it from the snapshot.
    seat = await stage.seat("student_a", iid)
    snap = await rooms.join(stage.services, "w1:s", stage.actor("student_a"), seat, [])
    assert snap.slot is not None and snap.slot.wrap_up_at is not None
    # After the end nobody is warned (nor cut off): a slot already over is left alone.
    late = await booked_interview(stage, start - timedelta(minutes=40), minutes=30)
    assert await wrap.round() == 0
    assert (await interview_row(stage, late))["wrap_up_at"] is None


async def test_two_workers_send_the_wrap_up_once(stage: Stage) -> None:
    start = stage.time.now
    iids = [await booked_interview(stage, start, minutes=20) for _ in range(3)]
    twin = stage.other_worker("w2")
    stage.at(start + timedelta(minutes=16))
    first, second = await asyncio.gather(
        stage.services.wrap_ups.round(), twin.services.wrap_ups.round()
    )
    assert first + second == 3
    heard = stage.notifier.events() + twin.notifier.events()
    assert sorted(heard) == sorted((f"interview:{i}", "interview.wrap_up") for i in iids)


async def test_ended_interviews_get_no_wrap_up(stage: Stage) -> None:
    start = stage.time.now
    iid = await booked_interview(stage, start, minutes=30)
    stage.at(start + timedelta(minutes=1))
    await rooms.end(stage.services, await stage.seat("recruiter_a", iid))
    stage.sent()
    stage.at(start + timedelta(minutes=27))
    assert await stage.services.wrap_ups.round() == 0 and stage.sent() == []


# --- hand-off --------------------------------------------------------------------------------


async def test_an_interviewer_hands_the_interview_to_a_colleague(stage: Stage) -> None:
    [colleague] = await add_recruiters(stage, 1)
    users = stage.world.users
    iid = await booked_interview(stage, stage.time.now)
    seat = await stage.seat("recruiter_a", iid)
    stage.sent()
    event = await handoff.hand_off(
        stage.services, stage.actor("recruiter_a"), seat, users[colleague]
    )
    assert event.owner_id == users[colleague]
    panel = {p.user_id: p for p in event.participants}
    assert panel[users[colleague]].role == "interviewer" and panel[users[colleague]].admitted
    assert stage.sent() == [
        (f"user:{users[colleague]}", "interview.invited"),
        (f"interview:{iid}", "interview.participants"),
    ]
    assert (await interview_row(stage, iid))["owner_id"] == users[colleague]
    async with stage.db.connect() as conn:
        [row] = await history.history(conn, iid)
    assert (row.kind, row.actor_id) == ("hand_off", users["recruiter_a"])
    assert row.details == {"from_user_id": users["recruiter_a"], "to_user_id": users[colleague]}
    # Handing it back: the colleague is on the panel already, nobody is added.
    back = await handoff.hand_off(
        stage.services,
        stage.actor(colleague),
        await stage.seat(colleague, iid),
        users["recruiter_a"],
    )
    assert back.owner_id == users["recruiter_a"] and len(back.participants) == 3


async def test_a_hand_off_to_anyone_but_a_colleague_is_not_found(stage: Stage) -> None:
    users = stage.world.users
    iid = await booked_interview(stage, stage.time.now)
    seat = await stage.seat("recruiter_a", iid)
    for who in ("recruiter_b", "student_a", "student_b", "organiser_a", "admin"):
        with pytest.raises(NotFound):
            await handoff.hand_off(stage.services, stage.actor("recruiter_a"), seat, users[who])
    with pytest.raises(NotFound):  # a missing user looks the same
        await handoff.hand_off(stage.services, stage.actor("recruiter_a"), seat, 10**6)
    with pytest.raises(NotFound):  # the candidate cannot hand it off
        await handoff.hand_off(
            stage.services, stage.actor("student_a"), await stage.seat("student_a", iid), 1
        )
    assert (await interview_row(stage, iid))["owner_id"] == users["recruiter_a"]


async def test_a_hand_off_respects_the_four_interviewer_panel(stage: Stage) -> None:
    colleagues = await add_recruiters(stage, 4)
    iid = await booked_interview(stage, stage.time.now, panel=("recruiter_a", *colleagues[:3]))
    seat = await stage.seat("recruiter_a", iid)
    with pytest.raises(ServiceError) as full:
        await handoff.hand_off(
            stage.services, stage.actor("recruiter_a"), seat, stage.world.users[colleagues[3]]
        )
    assert full.value.code == "interview.full"
    done = await handoff.hand_off(
        stage.services, stage.actor("recruiter_a"), seat, stage.world.users[colleagues[0]]
    )
    assert done.owner_id == stage.world.users[colleagues[0]]


async def test_two_hand_offs_at_once_leave_one_owner_and_one_history_row(stage: Stage) -> None:
    second, third, fourth = await add_recruiters(stage, 3)
    users = stage.world.users
    iid = await booked_interview(stage, stage.time.now, panel=("recruiter_a", second))
    seats = [await stage.seat(who, iid) for who in ("recruiter_a", second)]
    results = await asyncio.gather(
        handoff.hand_off(stage.services, stage.actor("recruiter_a"), seats[0], users[third]),
        handoff.hand_off(stage.services, stage.actor(second), seats[1], users[fourth]),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, rooms.Participants)]
    lost = [r for r in results if isinstance(r, ServiceError)]
    assert len(won) == 1 and [e.code for e in lost] == ["interview.handed_off"]
    owner = (await interview_row(stage, iid))["owner_id"]
    assert owner == won[0].owner_id and owner in (users[third], users[fourth])
    async with stage.db.connect() as conn:
        rows = await history.history(conn, iid)
        panel = (
            (
                await conn.execute(
                    sa.select(t.interview_participants.c.user_id).where(
                        t.interview_participants.c.interview_id == iid
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [r.kind for r in rows] == ["hand_off"] and rows[0].details["to_user_id"] == owner
    loser = users[fourth] if owner == users[third] else users[third]
    assert loser not in panel  # the refused hand-off added nobody


# --- over a real socket ----------------------------------------------------------------------


async def test_a_booked_room_before_its_start_over_the_socket(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    stage = Stage(client.app[DB], world)
    start = stage.time.now + timedelta(hours=1)
    iid = await booked_interview(stage, start)
    me = {"interview_id": iid}
    student = await stack.enter_async_context(connected(client, world, "student_a"))
    recruiter = await stack.enter_async_context(connected(client, world, "recruiter_a"))
    snap = ok(await student.call("interview.join", me))
    assert snap["slot"]["open"] is False and snap["slot"]["opens_at"] == start.isoformat()
    ok(await recruiter.call("interview.join", me))
    refused = await recruiter.call("interview.admit", me)
    assert code(refused) == "interview.not_open" and refused["error"]["opens_at"]
    chat = {**me, "text": "hello", "client_id": "c1"}
    assert code(await recruiter.call("interview.chat", chat)) == "interview.not_open"
