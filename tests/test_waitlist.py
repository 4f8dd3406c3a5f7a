"""Waitlists for interview slots (I1), on SQLite and PostgreSQL with a movable clock: a
freed slot is offered to the first one waiting, the offer lapses and moves on, a take from
two tabs books once, and another student's offer is not there for anyone else."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest

from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import slot_publish, slots, waitlist
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import build_world
from tests.test_slots import FIRST, Desk


@pytest.fixture
async def desk(db: Database) -> Desk:
    return Desk(db, await build_world(db))


async def _add_student(desk: Desk, key: str) -> None:
    """A third student (the world has two), for a list with two people waiting."""
    async with desk.db.begin() as conn:
        result = await conn.execute(
            t.users.insert()
            .values(
                email=f"{key}@test.fair",
                password_hash="x",
                display_name=key,
                role="student",
                school_id=desk.world.school_b,
                created_at=desk.time.now,
            )
            .returning(t.users.c.id)
        )
        desk.world.users[key] = int(result.scalar_one())


async def _full_booth(desk: Desk) -> int:
    """One slot, booked by student_c; returns it."""
    await desk.open_window()
    await _add_student(desk, "student_c")
    [slot_id] = await desk.publish(count=1)
    await desk.book("student_c", slot_id)
    return slot_id


async def _join(desk: Desk, who: str) -> waitlist.Waiting:
    return await slots.join_waitlist(desk.services, desk.actor(who), await desk.scope(who))


async def _cancel(desk: Desk, who: str, slot_id: int) -> None:
    await slots.cancel(desk.services, desk.actor(who), await desk.scope(who), slot_id)


async def test_waiting_is_only_for_a_full_scope_and_shows_the_position(desk: Desk) -> None:
    await desk.open_window()
    [slot_id] = await desk.publish(count=1)
    with pytest.raises(ServiceError) as free:
        await _join(desk, "student_a")
    assert free.value.code == "slot.available"
    await _add_student(desk, "student_c")
    await desk.book("student_c", slot_id)
    with pytest.raises(ServiceError) as booked:
        await _join(desk, "student_c")
    assert booked.value.code == "slot.already_booked"
    first = await _join(desk, "student_a")
    desk.time.advance(1)
    second = await _join(desk, "student_b")
    assert (first.position, second.position, first.state) == (1, 2, "waiting")
    again = await _join(desk, "student_a")
    assert again.entry_id == first.entry_id and again.position == 1


async def test_a_cancellation_is_offered_in_turn_and_a_lapsed_offer_moves_on(
    desk: Desk,
) -> None:
    slot_id = await _full_booth(desk)
    a = await _join(desk, "student_a")
    desk.time.advance(1)
    b = await _join(desk, "student_b")
    desk.sent()
    await _cancel(desk, "student_c", slot_id)
    assert desk.sent() == [
        (desk.user_room("student_c"), "slot.cancelled"),
        (desk.user_room("student_a"), "slot.offered"),
    ]
    held = await desk.slot(slot_id)
    assert (held["state"], held["held_for"]) == ("held", desk.world.users["student_a"])
    minutes = desk.services.settings.waitlist_offer_minutes
    assert held["held_until"] == desk.time.now + timedelta(minutes=minutes)
    # Nobody else can book a slot held for student A; student B still waits.
    with pytest.raises(ServiceError) as taken:
        await desk.book("student_b", slot_id)
    assert taken.value.code == "slot.taken"
    timers = desk.services.slot_timers
    desk.time.advance(minutes * 60 - 1)
    assert (await timers.sweep()).expired == 0
    desk.time.advance(2)
    assert (await timers.sweep()).expired == 1
    assert desk.sent() == [
        (desk.user_room("student_a"), "slot.offer_expired"),
        (desk.user_room("student_b"), "slot.offered"),
    ]
    entries = {e["id"]: e for e in await desk.rows(t.waitlist_entries)}
    assert (entries[a.entry_id]["state"], entries[b.entry_id]["state"]) == ("expired", "offered")
    # Each sees where they stand on the page: A's offer lapsed, B's is held with its time.
    a_page = await slots.slot_page(
        desk.services, desk.actor("student_a"), await desk.scope("student_a")
    )
    assert a_page.lapsed and a_page.entry is None
    b_page = await slots.slot_page(
        desk.services, desk.actor("student_b"), await desk.scope("student_b")
    )
    assert b_page.entry is not None and b_page.entry.state == "offered"
    assert b_page.offered is not None and b_page.offered.id == slot_id
    assert b_page.offer_expires_at == desk.time.now + timedelta(minutes=minutes)
    assert (await desk.slot(slot_id))["held_for"] == desk.world.users["student_b"]
    # Student A's old offer is gone; student B takes theirs.
    with pytest.raises(ServiceError):
        await waitlist.take_offer(desk.services, desk.actor("student_a"), a.entry_id)
    booked = await waitlist.take_offer(desk.services, desk.actor("student_b"), b.entry_id)
    assert booked.slot_id == slot_id
    row = await desk.slot(slot_id)
    assert (row["state"], row["booked_by"]) == ("booked", desk.world.users["student_b"])
    kinds = [h["kind"] for h in await desk.rows(t.interview_history)]
    assert kinds[-1] == "offer_taken"
    assert desk.sent() == [(desk.user_room("student_b"), "slot.booked")]


async def test_an_offer_taken_from_two_tabs_at_once_is_taken_once(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    entry = await _join(desk, "student_a")
    await _cancel(desk, "student_c", slot_id)
    actor = desk.actor("student_a")
    results = await asyncio.gather(
        waitlist.take_offer(desk.services, actor, entry.entry_id),
        waitlist.take_offer(desk.services, actor, entry.entry_id),
        return_exceptions=True,
    )
    assert sum(isinstance(r, waitlist.SlotBooked) for r in results) == 1
    assert [r.code for r in results if isinstance(r, ServiceError)] == ["slot.offer_gone"]
    live = [i for i in await desk.rows(t.interviews) if i["state"] == "scheduled"]
    assert [i["student_id"] for i in live] == [desk.world.users["student_a"]]


async def test_another_students_offer_is_not_found(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    entry = await _join(desk, "student_a")
    await _cancel(desk, "student_c", slot_id)
    for action in (waitlist.take_offer, waitlist.decline_offer, waitlist.leave_waitlist):
        with pytest.raises(NotFound):
            await action(desk.services, desk.actor("student_b"), entry.entry_id)
    with pytest.raises(NotFound):
        await waitlist.take_offer(desk.services, desk.actor("student_b"), entry.entry_id + 99)
    assert (await desk.slot(slot_id))["held_for"] == desk.world.users["student_a"]


async def test_a_declined_offer_goes_to_the_next_one(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    a = await _join(desk, "student_a")
    desk.time.advance(1)
    await _join(desk, "student_b")
    await _cancel(desk, "student_c", slot_id)
    desk.sent()
    declined = await waitlist.decline_offer(desk.services, desk.actor("student_a"), a.entry_id)
    assert declined.state == "left"
    assert desk.sent() == [(desk.user_room("student_b"), "slot.offered")]
    assert (await desk.slot(slot_id))["held_for"] == desk.world.users["student_b"]


async def test_a_no_show_offers_the_slot_to_the_waitlist(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    await _join(desk, "student_a")
    desk.sent()
    desk.time.now = FIRST + timedelta(minutes=desk.services.settings.no_show_minutes + 1)
    swept = await desk.services.slot_timers.sweep()
    assert swept.no_shows == 1
    [missed] = await desk.rows(t.interviews)
    assert (missed["state"], missed["outcome"]) == ("ended", "no_show")
    sent = desk.sent()
    assert sent[-1] == (desk.user_room("student_a"), "slot.offered")
    held = await desk.slot(slot_id)
    # The slot ends at 10:20; the offer cannot outlast it.
    assert held["state"] == "held" and held["held_until"] == min(
        desk.time.now + timedelta(minutes=desk.services.settings.waitlist_offer_minutes),
        FIRST + timedelta(minutes=20),
    )


async def test_withdrawing_a_held_slot_puts_the_student_back_in_line(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    entry = await _join(desk, "student_a")
    await _cancel(desk, "student_c", slot_id)
    desk.sent()
    recruiter = desk.actor("recruiter_a")
    cf = await slot_publish.access_company_fair(desk.db, recruiter, "open")
    await slot_publish.withdraw(desk.services, recruiter, cf, slot_id)
    assert (await desk.slot(slot_id))["state"] == "withdrawn"
    [row] = [e for e in await desk.rows(t.waitlist_entries) if e["id"] == entry.entry_id]
    assert row["state"] == "waiting" and row["offered_slot_id"] is None
    assert desk.sent() == [(desk.user_room("student_a"), "slot.offer_expired")]


async def test_booking_another_slot_gives_up_a_held_offer(desk: Desk) -> None:
    slot_id = await _full_booth(desk)
    await _join(desk, "student_a")
    desk.time.advance(1)
    await _join(desk, "student_b")
    await _cancel(desk, "student_c", slot_id)  # held for student A
    [later] = await desk.publish(count=1, start=time(15, 0))
    desk.sent()
    await desk.book("student_a", later)
    assert desk.sent() == [
        (desk.user_room("student_a"), "slot.booked"),
        (desk.user_room("student_b"), "slot.offered"),
    ]
    assert (await desk.slot(slot_id))["held_for"] == desk.world.users["student_b"]
    states = {e["student_id"]: e["state"] for e in await desk.rows(t.waitlist_entries)}
    assert states[desk.world.users["student_a"]] == "booked"
