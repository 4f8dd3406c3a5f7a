"""Waitlist offers over a real socket (I1): slot.take_offer and slot.decline_offer for
every role, and a student hearing each step (offered, booked) in their user room while
another student cancels over HTTP."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.clock import utcnow
from fairserver.keys import DB, SERVICES
from fairserver.store import tables as t
from tests.factories import ROLES, World
from tests.interview_helpers import code, ok
from tests.sockets import connected

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


async def _offer(client: TestClient[Any, Any], world: World, job_id: int | None) -> int:
    """A slot of company A's campus booth held for student_a by a waitlist offer."""
    now = utcnow()
    start = now + timedelta(days=1)
    async with client.app[DB].begin() as conn:
        slot = await conn.execute(
            t.interview_slots.insert()
            .values(
                fair_id=world.campus_fair,
                booth_id=world.booth_a_campus,
                company_id=world.company_a,
                job_id=job_id,
                recruiter_id=world.users["recruiter_a"],
                starts_at=start,
                ends_at=start + timedelta(minutes=20),
                state="held",
                held_for=world.users["student_a"],
                held_until=now + timedelta(minutes=10),
                created_at=now,
            )
            .returning(t.interview_slots.c.id)
        )
        slot_id = int(slot.scalar_one())
        await conn.execute(
            t.slot_interviewers.insert().values(slot_id=slot_id, user_id=world.users["recruiter_a"])
        )
        entry = await conn.execute(
            t.waitlist_entries.insert()
            .values(
                fair_id=world.campus_fair,
                booth_id=world.booth_a_campus,
                job_id=job_id,
                student_id=world.users["student_a"],
                state="offered",
                joined_at=now,
                offered_slot_id=slot_id,
                offered_at=now,
                offer_expires_at=now + timedelta(minutes=10),
            )
            .returning(t.waitlist_entries.c.id)
        )
        return int(entry.scalar_one())


async def _a_job(client: TestClient[Any, Any], world: World) -> int:
    async with client.app[DB].connect() as conn:
        stmt = sa.select(t.jobs.c.id).where(t.jobs.c.booth_id == world.booth_a_campus)
        return int((await conn.execute(stmt)).scalars().first() or 0)


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


# Only the student the offer is for; another student's offer is not there (not_found).
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "slot.take_offer": _row({"student_a"}),
    "slot.decline_offer": _row({"student_a"}),
}


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_slot_event_decisions(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, role: str
) -> None:
    take = await _offer(client, world, None)
    decline = await _offer(client, world, await _a_job(client, world))
    sock = await stack.enter_async_context(connected(client, world, role))
    seen = {
        "slot.take_offer": code(await sock.call("slot.take_offer", {"entry_id": take})),
        "slot.decline_offer": code(await sock.call("slot.decline_offer", {"entry_id": decline})),
    }
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    # Ids are strict integers: a boolean or a string is refused before any service runs.
    for bad in (True, "1", 0):
        reply = await sock.call("slot.take_offer", {"entry_id": bad})
        assert code(reply) in {"request.invalid", "not_found"}
        if role.startswith("student"):
            assert code(reply) == "request.invalid"


async def test_a_second_take_is_told_the_offer_is_gone(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    entry = await _offer(client, world, None)
    sock = await stack.enter_async_context(connected(client, world, "student_a"))
    booked = ok(await sock.call("slot.take_offer", {"entry_id": entry}))
    assert booked["room_url"] == f"/interviews/{booked['interview_id']}"
    heard = await sock.wait_for("slot.booked")
    assert heard == booked
    assert code(await sock.call("slot.take_offer", {"entry_id": entry})) == "slot.offer_gone"


async def test_the_waiting_student_hears_each_step(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, csrf_of: Any
) -> None:
    """student_b books company A's only open-fair slot; student_a waits, is offered it
    live when student_b cancels (over HTTP), and takes it over the socket."""
    now = utcnow()
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.fairs.update()
            .where(t.fairs.c.id == world.open_fair)
            .values(
                booking_opens_at=now - timedelta(hours=1), booking_closes_at=now + timedelta(days=2)
            )
        )
    await world.login(client, "recruiter_a")
    page = await client.get("/company/fairs/open/slots")
    day = (now + timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    form = {
        "csrf_token": csrf_of(await page.text()),
        "day": day,
        "start": "10:00",
        "count": "1",
        "length": "20",
        "buffer": "0",
        "job": "",
        "interviewers": str(world.users["recruiter_a"]),
    }
    published = await client.post("/company/fairs/open/slots", data=form, allow_redirects=False)
    assert published.status == 303, await published.text()
    async with client.app[DB].connect() as conn:
        slot_id = int((await conn.execute(sa.select(t.interview_slots.c.id))).scalar_one())
    url = f"/fairs/open/booths/{world.booth_a_open}/slots"

    async def post(who: str, **fields: str) -> int:
        token = await world.login(client, who)
        reply = await client.post(url, data={"csrf_token": token, **fields}, allow_redirects=False)
        return reply.status

    assert await post("student_b", action="book", slot_id=str(slot_id)) == 303
    student = await stack.enter_async_context(connected(client, world, "student_a"))
    assert await post("student_a", action="join") == 303
    assert "number 1 on the waitlist" in await (await client.get(url)).text()
    assert await post("student_b", action="cancel", slot_id=str(slot_id)) == 303
    offered = await student.wait_for("slot.offered")
    assert offered["slot_id"] == slot_id and offered["url"] == url
    await world.login(client, "student_a")
    assert "A slot is held for you" in await (await client.get(url)).text()
    booked = ok(await student.call("slot.take_offer", {"entry_id": offered["entry_id"]}))
    assert booked["slot_id"] == slot_id
    await student.wait_for("slot.booked")
    assert "Your booking" in await (await client.get(url)).text()


async def test_a_lapsed_offer_reaches_the_students_socket(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    """The app's own SlotTimers (started with the real-time loops) and its socket notifier."""
    entry = await _offer(client, world, None)
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.waitlist_entries.update()
            .where(t.waitlist_entries.c.id == entry)
            .values(offer_expires_at=utcnow() - timedelta(seconds=1))
        )
    sock = await stack.enter_async_context(connected(client, world, "student_a"))
    swept = await client.app[SERVICES].slot_timers.sweep()
    assert swept.expired == 1
    lapsed = await sock.wait_for("slot.offer_expired")
    assert lapsed["entry_id"] == entry
    assert code(await sock.call("slot.take_offer", {"entry_id": entry})) == "slot.offer_gone"
