"""The briefing hall (F4): agenda, briefing pages, .ics export and scheduling, over HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from icalendar import Calendar

from fairserver.keys import DB
from fairserver.rooms.briefings import schedule as service
from fairserver.store import briefings as store
from fairserver.store import tables as t
from fairserver.store.briefings import BriefingChange, NewBriefing
from fairserver.store.db import Database
from tests.factories import CAMPUS_VIEW, ROLES, World, build_world

# The world's fairs run 2027-01-10 02:00–08:00 UTC, 10:00–16:00 in Asia/Shanghai.
FAIR_START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


async def _as(client: TestClient[Any, Any], world: World, who: str) -> str:
    """Logs `who` in (or stays anonymous); returns a CSRF token valid for the caller."""
    if who != "anonymous":
        return await world.login(client, who)
    html = await (await client.get("/login")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def _insert(
    client: TestClient[Any, Any],
    world: World,
    *,
    fair: str = "campus",
    company: str = "a",
    title: str = "Offshore careers",
    start: datetime = FAIR_START + timedelta(minutes=30),
    minutes: int = 45,
    status: str = "scheduled",
    description: str = "Meet the **drilling** team.",
) -> int:
    fair_id = world.campus_fair if fair == "campus" else world.open_fair
    company_id = world.company_a if company == "a" else world.company_b
    async with client.app[DB].begin() as conn:
        return await store.insert_briefing(
            conn,
            fair_id,
            NewBriefing(
                company_id=company_id,
                title=title,
                description=description,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                status=status,
            ),
            [world.users[f"recruiter_{company}"]],
        )


def _form(world: World, token: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": token,
        "title": "Life on a platform",
        "description": "Questions welcome.",
        "start": "2027-01-10T11:00",
        "duration": "60",
        "presenters": str(world.users["recruiter_a"]),
    }
    data.update(fields)
    return data


async def _briefing_rows(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    async with client.app[DB].connect() as conn:
        rows = await conn.execute(sa.select(t.briefings).order_by(t.briefings.c.id))
        return [dict(r) for r in rows.mappings()]


# Agenda -----------------------------------------------------------------------

AGENDA_ON_CAMPUS = CAMPUS_VIEW


@pytest.mark.parametrize("who", ROLES)
async def test_agenda_and_calendar_permissions(
    client: TestClient[Any, Any], world: World, who: str
) -> None:
    briefing_id = await _insert(client, world)
    await _as(client, world, who)
    expected = AGENDA_ON_CAMPUS[who]
    for path in (
        "/fairs/campus/agenda",
        "/fairs/campus/agenda.ics",
        f"/fairs/campus/briefings/{briefing_id}",
        f"/fairs/campus/briefings/{briefing_id}.ics",
    ):
        response = await client.get(path)
        assert response.status == expected, (who, path)


async def test_agenda_lists_briefings_by_day_in_fair_time(
    client: TestClient[Any, Any], world: World
) -> None:
    briefing_id = await _insert(client, world)
    await _as(client, world, "student_a")
    response = await client.get("/fairs/campus/agenda")
    html = await response.text()
    assert "Company A — Offshore careers" in html
    # 02:30 UTC is 10:30 in Shanghai, and the zone is named.
    assert "10:30" in html and "11:15" in html and "Asia/Shanghai" in html
    assert "Sunday, January 10, 2027" in html
    assert "<strong>drilling</strong>" in html
    assert "recruiter_a" in html
    assert "Scheduled" in html
    assert f'href="/fairs/campus/briefings/{briefing_id}"' in html
    assert f'href="/fairs/campus/briefings/{briefing_id}.ics"' in html
    assert 'href="/fairs/campus/agenda.ics"' in html
    assert "Download the whole agenda (.ics)" in html
    # A student may not schedule or edit.
    assert "/briefings/new" not in html and "/edit" not in html


@dataclass(frozen=True, slots=True)
class _Slot:
    id: int
    starts_at: datetime


def test_agenda_days_follow_the_fair_timezone() -> None:
    late = datetime(2027, 1, 10, 17, 0, tzinfo=UTC)  # 01:00 on the 11th in Shanghai
    early = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
    rows = [_Slot(id=2, starts_at=late), _Slot(id=1, starts_at=early)]
    days = service.agenda_days(rows, "Asia/Shanghai")
    assert [(day.isoformat(), [b.id for b in items]) for day, items in days] == [
        ("2027-01-10", [1]),
        ("2027-01-11", [2]),
    ]


async def test_agenda_hides_briefings_of_companies_no_longer_approved(
    client: TestClient[Any, Any], world: World
) -> None:
    await _insert(client, world, fair="open", company="b", title="Hotel jobs")
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.fair_companies.update()
            .where(t.fair_companies.c.company_id == world.company_b)
            .values(status="withdrawn")
        )
    assert "Hotel jobs" not in await (await client.get("/fairs/open/agenda")).text()
    await _as(client, world, "organiser_b")
    assert "Hotel jobs" in await (await client.get("/fairs/open/agenda")).text()


async def test_script_in_briefing_title_is_escaped(
    client: TestClient[Any, Any], world: World
) -> None:
    briefing_id = await _insert(
        client,
        world,
        title="<script>alert(1)</script>",
        description='<img src=x onerror="alert(2)"> [x](javascript:alert(3))',
    )
    await _as(client, world, "student_a")
    for path in ("/fairs/campus/agenda", f"/fairs/campus/briefings/{briefing_id}"):
        html = await (await client.get(path)).text()
        assert "<script>alert(1)</script>" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<img src=x" not in html and 'href="javascript:' not in html, path


# Briefing page ----------------------------------------------------------------


async def test_briefing_page_has_stage_and_qa_placeholders(
    client: TestClient[Any, Any], world: World
) -> None:
    briefing_id = await _insert(client, world)
    await _as(client, world, "student_a")
    response = await client.get(f"/fairs/campus/briefings/{briefing_id}")
    assert response.status == 200
    html = await response.text()
    assert '<section id="stage"' in html and "not live yet" in html
    assert '<section id="qa"' in html
    assert "Offshore careers" in html and "Company A" in html


async def test_briefing_of_another_fair_is_not_found(
    client: TestClient[Any, Any], world: World
) -> None:
    other = await _insert(client, world, fair="open")
    await _as(client, world, "admin")
    assert (await client.get(f"/fairs/open/briefings/{other}")).status == 200
    for path in (
        f"/fairs/campus/briefings/{other}",
        f"/fairs/campus/briefings/{other}.ics",
        f"/fairs/campus/briefings/{other}/edit",
        "/fairs/campus/briefings/99999",
        "/fairs/campus/briefings/9999999999",
        "/fairs/nope/briefings/1",
    ):
        assert (await client.get(path)).status == 404, path


# iCalendar ---------------------------------------------------------------------


async def test_agenda_ics_parses_with_utc_times(client: TestClient[Any, Any], world: World) -> None:
    first = await _insert(client, world)
    second = await _insert(
        client, world, title="Lab work", start=FAIR_START + timedelta(hours=3), minutes=30
    )
    await _insert(client, world, title="Called off", status="cancelled")
    await _as(client, world, "student_a")
    response = await client.get("/fairs/campus/agenda.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="campus-agenda.ics"'
    calendar = Calendar.from_ical(await response.read())
    assert str(calendar["VERSION"]) == "2.0"
    assert "fairserver" in str(calendar["PRODID"])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"briefing-{first}@fairserver", f"briefing-{second}@fairserver"}
    event = events[f"briefing-{first}@fairserver"]
    assert event.decoded("DTSTART") == datetime(2027, 1, 10, 2, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 1, 10, 3, 15, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Company A — Offshore careers"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event
    description = str(event["DESCRIPTION"])
    # Plain text: the Markdown's words without its markup, plus who presents.
    assert "Meet the drilling team." in description and "**" not in description
    assert "recruiter_a" in description
    origin = str(client.make_url("/")).rstrip("/")
    assert str(event["URL"]) == f"{origin}/fairs/campus/briefings/{first}"
    # Times are written in UTC, with the Z suffix.
    assert b"DTSTART:20270110T023000Z" in await response.read()


async def test_single_briefing_ics(client: TestClient[Any, Any], world: World) -> None:
    briefing_id = await _insert(client, world, title="Résumé, clinic; part 1")
    await _as(client, world, "student_a")
    response = await client.get(f"/fairs/campus/briefings/{briefing_id}.ics")
    assert response.status == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="campus-briefing-{briefing_id}.ics"'
    (event,) = Calendar.from_ical(await response.read()).walk("VEVENT")
    assert str(event["UID"]) == f"briefing-{briefing_id}@fairserver"
    assert str(event["SUMMARY"]) == "Company A — Résumé, clinic; part 1"


# Scheduling ------------------------------------------------------------------

SCHEDULE_ON_CAMPUS = {
    "anonymous": 404,
    "student_a": 404,
    "student_b": 404,
    "recruiter_a": 200,
    "recruiter_b": 404,
    "organiser_a": 200,
    "organiser_b": 404,
    "admin": 200,
}


@pytest.mark.parametrize("who", ROLES)
async def test_schedule_form_permissions(
    client: TestClient[Any, Any], world: World, who: str
) -> None:
    briefing_id = await _insert(client, world)
    token = await _as(client, world, who)
    expected = SCHEDULE_ON_CAMPUS[who]
    assert (await client.get("/fairs/campus/briefings/new")).status == expected
    edit = f"/fairs/campus/briefings/{briefing_id}/edit"
    assert (await client.get(edit)).status == expected
    data = _form(world, token, company=str(world.company_a))
    create = await client.post("/fairs/campus/briefings/new", data=data, allow_redirects=False)
    assert create.status == (303 if expected == 200 else 404)
    save = await client.post(edit, data={**data, "status": "scheduled"}, allow_redirects=False)
    assert save.status == (303 if expected == 200 else 404)
    rows = await _briefing_rows(client)
    assert len(rows) == (2 if expected == 200 else 1)
    assert rows[0]["title"] == ("Life on a platform" if expected == 200 else "Offshore careers")


async def test_recruiter_schedules_for_own_company(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await _as(client, world, "recruiter_a")
    page = await client.get("/fairs/campus/briefings/new")
    html = await page.text()
    assert 'name="company"' not in html  # fixed to their own company
    assert f'value="{world.users["recruiter_a"]}" checked' in html
    # A company field pointing elsewhere is ignored: a recruiter books for their own.
    data = _form(world, token, company=str(world.company_b))
    response = await client.post("/fairs/campus/briefings/new", data=data, allow_redirects=False)
    assert response.status == 303
    (row,) = await _briefing_rows(client)
    assert response.headers["Location"] == f"/fairs/campus/briefings/{row['id']}"
    assert row["company_id"] == world.company_a
    assert row["status"] == "scheduled"
    # 11:00 in Shanghai is 03:00 UTC.
    assert row["starts_at"] == datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
    assert row["ends_at"] == datetime(2027, 1, 10, 4, 0, tzinfo=UTC)
    agenda = await (await client.get("/fairs/campus/agenda")).text()
    assert "Life on a platform" in agenda and f"/briefings/{row['id']}/edit" in agenda


async def test_organiser_schedules_for_an_approved_company(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await _as(client, world, "organiser_a")
    html = await (await client.get("/fairs/campus/briefings/new")).text()
    assert 'name="company"' in html and "Company A" in html
    assert "Company B" not in html  # not approved in the campus fair
    missing = await client.post("/fairs/campus/briefings/new", data=_form(world, token))
    assert missing.status == 400
    assert "Choose a company taking part in this fair." in await missing.text()
    not_approved = _form(
        world, token, company=str(world.company_b), presenters=str(world.users["recruiter_b"])
    )
    refused = await client.post("/fairs/campus/briefings/new", data=not_approved)
    assert refused.status == 400
    assert "Choose a company taking part in this fair." in await refused.text()
    data = _form(world, token, company=str(world.company_a))
    response = await client.post("/fairs/campus/briefings/new", data=data, allow_redirects=False)
    assert response.status == 303
    (row,) = await _briefing_rows(client)
    assert row["company_id"] == world.company_a


async def test_recruiter_b_cannot_touch_company_a_briefing_in_shared_fair(
    client: TestClient[Any, Any], world: World
) -> None:
    theirs = await _insert(client, world, fair="open", company="a")
    token = await _as(client, world, "recruiter_b")
    # In the open fair company B is approved, so recruiter_b may schedule its own...
    data = _form(world, token, presenters=str(world.users["recruiter_b"]))
    response = await client.post("/fairs/open/briefings/new", data=data, allow_redirects=False)
    assert response.status == 303
    # ...but never edit company A's briefing.
    edit = f"/fairs/open/briefings/{theirs}/edit"
    assert (await client.get(edit)).status == 404
    assert (await client.post(edit, data=data)).status == 404
    rows = {r["id"]: r for r in await _briefing_rows(client)}
    assert rows[theirs]["title"] == "Offshore careers"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "2027-01-10T09:30"}, "must start and end during the fair"),
        ({"start": "2027-01-10T15:30", "duration": "60"}, "must start and end during the fair"),
        ({"start": "tomorrow"}, "Enter the start date and time."),
        ({"start": "0001-01-01T00:30"}, "Enter the start date and time."),
        ({"start": "9999-12-31T23:59"}, "Enter the start date and time."),
        ({"start": "2027-01-10T11:00+08:00"}, "Enter the start date and time."),
        ({"duration": "10"}, "Enter a duration from 15 to 480 minutes."),
        ({"duration": "481"}, "Enter a duration from 15 to 480 minutes."),
        ({"title": "x" * 201}, "Too long: at most 200 characters."),
        ({"title": "   "}, "Required."),
        ({"description": "y" * 5001}, "Too long: at most 5000 characters."),
        ({"presenters": []}, "Choose at least one presenter."),
        ({"presenters": ["1", "2", "3", "4", "5"]}, "A stage holds at most 4 presenters."),
        ({"presenters": "nobody"}, "Choose presenters from the list."),
        ({"status": "live"}, "Choose scheduled or cancelled."),
        ({"role": "admin"}, "Unexpected field."),
    ],
)
async def test_schedule_validation(
    client: TestClient[Any, Any], world: World, fields: dict[str, Any], message: str
) -> None:
    token = await _as(client, world, "recruiter_a")
    data = _form(world, token)
    data.update(fields)
    # The form posts presenters as repeated fields.
    form = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
    response = await client.post("/fairs/campus/briefings/new", data=form)
    assert response.status == 400
    html = await response.text()
    assert message in html
    assert 'role="alert"' in html
    assert await _briefing_rows(client) == []


async def test_presenter_from_another_company_is_refused(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await _as(client, world, "recruiter_a")
    data = [
        *_form(world, token, presenters=str(world.users["recruiter_a"])).items(),
        ("presenters", str(world.users["recruiter_b"])),
    ]
    response = await client.post("/fairs/campus/briefings/new", data=data)
    assert response.status == 400
    assert "Presenters must be recruiters of the briefing&#39;s company." in await response.text()
    student = _form(world, token, presenters=str(world.users["student_a"]))
    assert (await client.post("/fairs/campus/briefings/new", data=student)).status == 400
    assert await _briefing_rows(client) == []


async def test_up_to_four_presenters(client: TestClient[Any, Any], world: World) -> None:
    async with client.app[DB].begin() as conn:
        extra = [
            int(
                (
                    await conn.execute(
                        t.users.insert()
                        .values(
                            email=f"co{i}@test.fair",
                            password_hash="x",
                            display_name=f"co-presenter {i}",
                            role="recruiter",
                            company_id=world.company_a,
                            created_at=FAIR_START,
                        )
                        .returning(t.users.c.id)
                    )
                ).scalar_one()
            )
            for i in range(3)
        ]
    token = await _as(client, world, "recruiter_a")
    ids = [world.users["recruiter_a"], *extra]
    data = [*_form(world, token, presenters=str(ids[0])).items()]
    data += [("presenters", str(i)) for i in ids[1:]]
    response = await client.post("/fairs/campus/briefings/new", data=data, allow_redirects=False)
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert all(f"co-presenter {i}" in page for i in range(3))


async def test_edit_reschedules_and_cancels(client: TestClient[Any, Any], world: World) -> None:
    briefing_id = await _insert(client, world)
    token = await _as(client, world, "recruiter_a")
    edit = f"/fairs/campus/briefings/{briefing_id}/edit"
    html = await (await client.get(edit)).text()
    assert 'value="2027-01-10T10:30"' in html  # the stored time, shown in fair time
    assert 'value="45"' in html
    data = _form(world, token, title="Moved", start="2027-01-10T14:00", status="cancelled")
    response = await client.post(edit, data=data, allow_redirects=False)
    assert response.status == 303
    (row,) = await _briefing_rows(client)
    assert row["title"] == "Moved" and row["status"] == "cancelled"
    assert row["starts_at"] == datetime(2027, 1, 10, 6, 0, tzinfo=UTC)
    agenda = await (await client.get("/fairs/campus/agenda")).text()
    assert "Cancelled" in agenda
    calendar = Calendar.from_ical(await (await client.get("/fairs/campus/agenda.ics")).read())
    assert calendar.walk("VEVENT") == []


async def test_started_briefing_cannot_be_changed(
    client: TestClient[Any, Any], world: World
) -> None:
    briefing_id = await _insert(client, world, status="live")
    token = await _as(client, world, "organiser_a")
    edit = f"/fairs/campus/briefings/{briefing_id}/edit"
    response = await client.post(edit, data=_form(world, token, company=str(world.company_a)))
    assert response.status == 400
    assert "can no longer be changed" in await response.text()
    (row,) = await _briefing_rows(client)
    assert row["title"] == "Offshore careers"


async def test_briefing_store_round_trip(db: Database) -> None:
    """The schedule's SQL on SQLite and PostgreSQL: insert, list, presenters, update."""
    world = await build_world(db)
    start = FAIR_START + timedelta(hours=1)
    async with db.begin() as conn:
        briefing_id = await store.insert_briefing(
            conn,
            world.campus_fair,
            NewBriefing(
                company_id=world.company_a,
                title="Round trip",
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
            ),
            [world.users["recruiter_a"]],
        )
    async with db.connect() as conn:
        (listed,) = await store.fair_briefings(conn, world.campus_fair)
        assert await store.fair_briefing(conn, world.open_fair, briefing_id) is None
        recruiters = await store.company_recruiters(conn, [world.company_a])
        companies = await store.approved_companies(conn, world.campus_fair)
    assert listed.company_name == "Company A" and listed.status == "scheduled"
    assert listed.starts_at == start
    assert [p.display_name for p in listed.presenters] == ["recruiter_a"]
    assert [r.id for r in recruiters] == [world.users["recruiter_a"]]
    assert [c.name for c in companies] == ["Company A"]
    async with db.begin() as conn:
        await store.update_briefing(conn, briefing_id, BriefingChange(status="cancelled"), [])
    async with db.connect() as conn:
        row = await store.fair_briefing(conn, world.campus_fair, briefing_id)
    assert row is not None and row.status == "cancelled" and row.presenters == ()


async def test_times_are_fair_local_named_and_in_one_format(
    client: TestClient[Any, Any], world: World
) -> None:
    """Issue 11: a 10:00-12:30 Asia/Shanghai span read "02:00 AM-04:30 AM" with no zone, and
    the fair list formatted its start and end differently."""
    await world.login(client, "student_a")
    html = await (await client.get("/")).text()
    spans = re.findall(r'<span data-when data-zone="([^"]+)"[^>]*>(.*?)</span></span>', html, re.S)
    assert spans, html
    for _zone, body in spans:
        stamps = re.findall(r"<time [^>]*>([^<]*)</time>", body)
        assert len(stamps) == 2
        # Start and end in the same shape: a date and a 24-hour time each, or the end's time
        # alone when it is the same day.
        assert all(re.search(r"\d\d:\d\d$", s) for s in stamps), stamps
        assert "AM" not in body and "PM" not in body
        assert '<span class="zone">' in body


def test_a_shanghai_morning_reads_as_such_with_its_zone() -> None:
    from fairserver.app import _when

    html = str(
        _when(
            datetime(2026, 12, 10, 2, 0, tzinfo=UTC),
            datetime(2026, 12, 10, 4, 30, tzinfo=UTC),
            "Asia/Shanghai",
        )
    )
    stamps = re.findall(r"<time [^>]*>([^<]*)</time>", html)
    assert stamps == ["Dec 10, 2026 10:00", "12:30"]
    assert '<span class="zone">China Time</span>' in html
    assert 'data-zone="Asia/Shanghai"' in html
