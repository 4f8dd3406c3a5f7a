"""The slot pages over HTTP (I1): the organiser's booking window, the company's desk, the
student's slot page, the booking's .ics and agenda entry, and "continue later". The
permission matrix for every role is in tests/test_routes.py; this file follows the pages
a person uses, at the campus fair (school A, company A)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import tables as t
from tests.factories import World

SLOTS = "/company/fairs/campus/slots"
WINDOW = "/organiser/fairs/campus/booking-window"


def _booth_slots(world: World) -> str:
    return f"/fairs/campus/booths/{world.booth_a_campus}/slots"


async def _post(client: TestClient[Any, Any], world: World, who: str, url: str, **data: str) -> Any:
    token = await world.login(client, who)
    return await client.post(url, data={"csrf_token": token, **data}, allow_redirects=False)


async def _open_window(client: TestClient[Any, Any], world: World) -> None:
    reply = await _post(
        client, world, "organiser_a", WINDOW, opens="2026-01-01T09:00", closes="2027-01-10T18:00"
    )
    assert reply.status == 303


async def _publish(client: TestClient[Any, Any], world: World, **extra: str) -> Any:
    form = {
        "day": "2027-01-10",
        "start": "10:00",
        "count": "3",
        "length": "20",
        "buffer": "10",
        "job": "",
        "interviewers": str(world.users["recruiter_a"]),
        **extra,
    }
    return await _post(client, world, "recruiter_a", SLOTS, **form)


async def _slot_ids(client: TestClient[Any, Any]) -> list[int]:
    async with client.app[DB].connect() as conn:
        stmt = sa.select(t.interview_slots.c.id).order_by(t.interview_slots.c.starts_at)
        return [int(v) for v in (await conn.execute(stmt)).scalars()]


async def test_the_organiser_sets_and_closes_the_booking_window(
    client: TestClient[Any, Any], world: World
) -> None:
    await _open_window(client, world)
    page = await (await client.get("/organiser/fairs/campus")).text()
    # Fair-local (Asia/Shanghai) in the inputs and the summary, with the zone's name.
    assert 'value="2026-01-01T09:00"' in page and 'value="2027-01-10T18:00"' in page
    assert "Students may book from" in page and "(Asia/Shanghai)" in page
    async with client.app[DB].connect() as conn:
        fair = (await conn.execute(sa.select(t.fairs).where(t.fairs.c.slug == "campus"))).one()
    assert fair.booking_opens_at.isoformat() == "2026-01-01T01:00:00+00:00"
    half = await _post(client, world, "organiser_a", WINDOW, opens="2026-01-01T09:00", closes="")
    assert half.status == 400 and "or neither" in await half.text()
    backwards = await _post(
        client, world, "organiser_a", WINDOW, opens="2027-01-02T09:00", closes="2027-01-01T09:00"
    )
    assert backwards.status == 400 and "close after they open" in await backwards.text()
    assert (await _post(client, world, "organiser_a", WINDOW, opens="", closes="")).status == 303
    assert "Bookings are closed." in await (await client.get("/organiser/fairs/campus")).text()
    # Another school's organiser finds no such fair.
    assert (await _post(client, world, "organiser_b", WINDOW, opens="", closes="")).status == 404


async def test_the_company_publishes_lists_and_withdraws(
    client: TestClient[Any, Any], world: World
) -> None:
    assert (await _publish(client, world)).status == 303
    page = await (await client.get(SLOTS + "?done=published")).text()
    assert "Slots published." in page and page.count('name="slot_id"') == 3
    overlap = await _publish(client, world, start="10:45", count="1")
    assert overlap.status == 400
    assert "overlap slots of the same interviewer" in await overlap.text()
    too_many = await _publish(client, world, start="14:00", count="41")
    assert too_many.status == 400 and len(await _slot_ids(client)) == 3
    first = (await _slot_ids(client))[0]
    withdrawn = await _post(
        client, world, "recruiter_a", SLOTS, action="withdraw", slot_id=str(first)
    )
    assert withdrawn.status == 303
    assert "Withdrawn" in await (await client.get(SLOTS)).text()
    # Company B's recruiter cannot withdraw company A's slot, nor see the desk.
    other = await _post(client, world, "recruiter_b", SLOTS, action="withdraw", slot_id=str(first))
    assert other.status == 404


async def test_a_student_books_and_finds_it_in_their_agenda_and_calendar(
    client: TestClient[Any, Any], world: World
) -> None:
    assert (await _publish(client, world)).status == 303
    url = _booth_slots(world)
    await world.login(client, "student_a")
    closed = await (await client.get(url)).text()
    assert "Bookings are closed for this fair." in closed and ">Book<" not in closed
    first, second, _third = await _slot_ids(client)
    refused = await _post(client, world, "student_a", url, action="book", slot_id=str(first))
    assert refused.status == 400 and "Bookings are closed" in await refused.text()
    await _open_window(client, world)
    assert (await _post(client, world, "student_a", url)).status == 400  # no action chosen
    booked = await _post(client, world, "student_a", url, action="book", slot_id=str(first))
    assert booked.status == 303 and booked.headers["Location"] == f"{url}?done=booked"
    page = await (await client.get(booked.headers["Location"])).text()
    assert "Booked. The interview is in your agenda." in page and "Your booking" in page
    # 10:00 in the fair's zone, with its name; the other slots are still free.
    assert "10:00</time>" in page and '<span class="zone">China Time</span>' in page
    async with client.app[DB].connect() as conn:
        interview_id = int((await conn.execute(sa.select(t.interviews.c.id))).scalar_one())
    assert f"/interviews/{interview_id}/booking.ics" in page
    ics = await client.get(f"/interviews/{interview_id}/booking.ics")
    body = await ics.text()
    assert ics.status == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert "DTSTART:20270110T020000Z" in body and "Company A" in body
    agenda = await (await client.get("/fairs/campus/agenda")).text()
    assert "Your interviews" in agenda and f'href="/interviews/{interview_id}"' in agenda
    # The panel downloads it too; the other company does not find it.
    await world.login(client, "recruiter_a")
    assert (await client.get(f"/interviews/{interview_id}/booking.ics")).status == 200
    assert "student_a" in await (await client.get(SLOTS)).text()
    await world.login(client, "recruiter_b")
    assert (await client.get(f"/interviews/{interview_id}/booking.ics")).status == 404
    # Reschedule, then cancel, through the same page.
    moved = await _post(
        client, world, "student_a", url, action="reschedule", slot_id=str(first), to=str(second)
    )
    assert moved.status == 303
    gone = await _post(client, world, "student_a", url, action="cancel", slot_id=str(second))
    assert gone.status == 303
    page = await (await client.get(url)).text()
    assert "Your booking" not in page and page.count(">Book<") == 3


async def test_a_full_booth_offers_the_waitlist_and_the_page_links(
    client: TestClient[Any, Any], world: World
) -> None:
    assert (await _publish(client, world, count="1")).status == 303
    await _open_window(client, world)
    url = _booth_slots(world)
    [only] = await _slot_ids(client)
    # A student's name is shown as text on the company's desk, never as markup.
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.users.update()
            .where(t.users.c.id == world.users["student_a"])
            .values(display_name="<b>Student</b>")
        )
    assert (
        await _post(client, world, "student_a", url, action="book", slot_id=str(only))
    ).status == 303
    await world.login(client, "recruiter_a")
    desk = await (await client.get(SLOTS)).text()
    assert "&lt;b&gt;Student&lt;/b&gt;" in desk and "<b>Student</b>" not in desk
    booth = await (await client.get(f"/fairs/campus/booths/{world.booth_a_campus}")).text()
    assert f'href="{url}"' in booth
    async with client.app[DB].connect() as conn:
        job_id = int(
            (
                await conn.execute(
                    sa.select(t.jobs.c.id).where(t.jobs.c.booth_id == world.booth_a_campus)
                )
            )
            .scalars()
            .first()
            or 0
        )
    job = await (await client.get(f"/fairs/campus/jobs/{job_id}")).text()
    assert f'href="{url}?job={job_id}"' in job
    # The job's own scope has no slot: a student may wait for one there.
    await world.login(client, "student_a")
    job_page = await (await client.get(f"{url}?job={job_id}")).text()
    assert "No slot is free." in job_page and "Join the waitlist" in job_page
    joined = await _post(client, world, "student_a", url, action="join", job=str(job_id))
    assert joined.status == 303 and joined.headers["Location"] == f"{url}?job={job_id}&done=joined"
    assert "number 1 on the waitlist" in await (await client.get(f"{url}?job={job_id}")).text()
    # A job of another booth is not in this booth's scope.
    assert (await client.get(f"{url}?job=999999")).status == 404


async def test_continue_later_books_a_follow_up(client: TestClient[Any, Any], world: World) -> None:
    assert (await _publish(client, world, count="1")).status == 303
    await _open_window(client, world)
    [only] = await _slot_ids(client)
    url = _booth_slots(world)
    assert (
        await _post(client, world, "student_a", url, action="book", slot_id=str(only))
    ).status == 303
    async with client.app[DB].connect() as conn:
        interview_id = int((await conn.execute(sa.select(t.interviews.c.id))).scalar_one())
    follow = f"/interviews/{interview_id}/follow-up"
    await world.login(client, "student_a")
    assert (await client.get(follow)).status == 404
    await world.login(client, "recruiter_a")
    assert "Continue later with" in await (await client.get(follow)).text()
    past = await _post(
        client, world, "recruiter_a", follow, day="2020-01-01", start="10:00", length="30"
    )
    assert past.status == 400 and "must start in the future" in await past.text()
    made = await _post(
        client, world, "recruiter_a", follow, day="2027-01-11", start="10:00", length="30"
    )
    assert made.status == 303
    async with client.app[DB].connect() as conn:
        rows = (await conn.execute(sa.select(t.interviews).order_by(t.interviews.c.id))).all()
    assert made.headers["Location"] == f"/interviews/{rows[1].id}"
    assert rows[1].follows_id == interview_id and rows[1].student_id == world.users["student_a"]
