"""Organiser pages through real HTTP: dashboard, fair settings (F1) and participation (F2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import fairs as fair_store
from fairserver.store import tables as t
from tests.factories import World

Client = TestClient[Any, Any]


def fair_form(token: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "slug": "spring-fair",
        "title": "Spring fair",
        "description": "**Welcome**",
        "starts_at": "2027-03-01T10:00",
        "ends_at": "2027-03-01T16:00",
        "timezone": "Asia/Shanghai",
        "visibility": "campus",
        "published": "1",
        "hall_booth": "1",
        "hall_booth_title": "Booths",
        "hall_briefing": "1",
        "hall_briefing_title": "Briefings",
    }
    data.update(overrides)
    return data


def with_schools(form: dict[str, str], *school_ids: int | str) -> list[tuple[str, str]]:
    """The form with a ticked box per school (a field that repeats)."""
    return [*form.items(), *(("schools", str(s)) for s in school_ids)]


async def fair_row(client: Client, slug: str) -> dict[str, Any] | None:
    async with client.app[DB].connect() as conn:
        row = (await conn.execute(sa.select(t.fairs).where(t.fairs.c.slug == slug))).mappings()
        found = row.first()
    return None if found is None else dict(found)


async def status_of(client: Client, fair_id: int, company_id: int) -> str | None:
    fc = t.fair_companies
    async with client.app[DB].connect() as conn:
        status = (
            await conn.execute(
                sa.select(fc.c.status).where(fc.c.fair_id == fair_id, fc.c.company_id == company_id)
            )
        ).scalar()
    return None if status is None else str(status)


async def anonymous_token(client: Client) -> str:
    html = await (await client.get("/login")).text()
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# Dashboard


async def test_dashboard_lists_own_school_fairs(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    response = await client.get("/organiser")
    assert response.status == 200
    html = await response.text()
    assert "Campus fair" in html and "Draft fair" in html
    assert "Open fair" not in html  # school B's
    for link in ("/organiser/fairs/new", "/organiser/students", "/organiser/roster"):
        assert f'href="{link}"' in html
    assert 'href="/static/css/organiser.css"' in html


async def test_dashboard_for_admin_lists_every_fair(client: Client, world: World) -> None:
    await world.login(client, "admin")
    html = await (await client.get("/organiser")).text()
    assert "Campus fair" in html and "Open fair" in html and "Draft fair" in html


async def test_dashboard_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    response = await client.get("/organiser", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=/organiser")


@pytest.mark.parametrize("who", ["student_a", "recruiter_a", "recruiter_b"])
async def test_dashboard_refuses_students_and_recruiters(
    client: Client, world: World, who: str
) -> None:
    await world.login(client, who)
    for path in ("/organiser", "/organiser/fairs/new"):
        assert (await client.get(path)).status == 404


# Creating and editing fairs (F1)


async def test_create_fair_stores_utc_and_halls(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    page = await client.get("/organiser/fairs/new")
    assert page.status == 200
    html = await page.text()
    assert 'type="datetime-local"' in html and 'value="Asia/Shanghai"' in html
    response = await client.post(
        "/organiser/fairs/new", data=fair_form(token), allow_redirects=False
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/organiser/fairs/spring-fair?saved=1"
    fair = await fair_row(client, "spring-fair")
    assert fair is not None
    assert fair["school_id"] == world.school_a
    # 10:00 in Shanghai (UTC+8) is 02:00 UTC.
    assert fair["starts_at"] == datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    assert fair["ends_at"] == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    async with client.app[DB].connect() as conn:
        halls = await fair_store.halls(conn, fair["id"])
    assert [(h.kind, h.title) for h in halls] == [
        ("booth", "Booths"),
        ("briefing", "Briefings"),
    ]
    manage = await client.get("/organiser/fairs/spring-fair?saved=1")
    assert "Saved." in await manage.text()
    assert "<strong>Welcome</strong>" in await (await client.get("/fairs/spring-fair")).text()


async def test_create_fair_validation_messages(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    cases = [
        ({"title": "x" * 201}, "Too long: at most 200 characters."),
        ({"ends_at": "2027-03-01T09:00"}, "The end must be after the start."),
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone such as Asia/Shanghai."),
        ({"timezone": "../../etc/passwd"}, "Choose a time zone such as Asia/Shanghai."),
        ({"slug": "campus"}, "Another fair already uses this address."),
        ({"slug": "Bad Slug!"}, "Use 3 to 64 lowercase letters, digits and hyphens."),
        ({"slug": "new"}, "This address is reserved"),
        ({"starts_at": "next tuesday"}, "Enter a date and time."),
        ({"starts_at": "0001-01-01T00:00"}, "Enter a date between 2000 and 2100."),
        ({"ends_at": "9999-12-31T23:59"}, "Enter a date between 2000 and 2100."),
        ({"visibility": "secret"}, "Please correct the marked fields."),
        ({"hall_booth": "", "hall_briefing": ""}, "Choose at least one hall."),
        ({"hall_booth_title": ""}, "Give the hall a title."),
        ({"visibility": "multi"}, "Choose the other schools whose students may enter."),
        ({"description": "y" * 20001}, "Too long: at most 20000 characters."),
    ]
    for overrides, message in cases:
        response = await client.post("/organiser/fairs/new", data=fair_form(token, **overrides))
        assert response.status == 400, overrides
        html = await response.text()
        assert message in html, (overrides, message)
        assert 'aria-invalid="true"' in html or "invalid" in html
    # None of them created anything.
    assert await fair_row(client, "spring-fair") is None


async def test_timezone_other_than_the_suggestions(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    data = fair_form(token, timezone="America/Argentina/Ushuaia")
    response = await client.post("/organiser/fairs/new", data=data, allow_redirects=False)
    assert response.status == 303
    fair = await fair_row(client, "spring-fair")
    assert fair is not None
    assert fair["starts_at"] == datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # UTC-3


async def test_multi_school_fair_admits_the_guest_school(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    data = with_schools(fair_form(token, visibility="multi"), world.school_b)
    response = await client.post("/organiser/fairs/new", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    assert "School B" in await (await client.get("/organiser/fairs/spring-fair")).text()
    await world.login(client, "student_b")
    assert (await client.get("/fairs/spring-fair")).status == 200


async def test_unknown_guest_school_is_refused(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    data = with_schools(fair_form(token, visibility="multi"), 9999)
    response = await client.post("/organiser/fairs/new", data=data)
    assert response.status == 400
    assert "Choose schools from the list." in await response.text()


async def test_admin_chooses_the_school(client: Client, world: World) -> None:
    token = await world.login(client, "admin")
    for unchosen in ({}, {"school_id": ""}):
        missing = await client.post("/organiser/fairs/new", data=fair_form(token, **unchosen))
        assert missing.status == 400
        assert "Choose a school from the list." in await missing.text()
    data = fair_form(token, school_id=str(world.school_b))
    response = await client.post("/organiser/fairs/new", data=data, allow_redirects=False)
    assert response.status == 303
    fair = await fair_row(client, "spring-fair")
    assert fair is not None and fair["school_id"] == world.school_b


async def test_organiser_cannot_create_for_another_school(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    data = fair_form(token, school_id=str(world.school_b))
    assert (await client.post("/organiser/fairs/new", data=data)).status in {200, 303}
    fair = await fair_row(client, "spring-fair")
    assert fair is not None and fair["school_id"] == world.school_a


async def test_edit_fair_prefills_and_saves(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    page = await client.get("/organiser/fairs/campus/edit")
    assert page.status == 200
    html = await page.text()
    # Stored 02:00 UTC, shown as 10:00 in the fair's zone.
    assert 'value="2027-01-10T10:00"' in html
    assert 'value="Campus fair"' in html
    data = fair_form(token, slug="campus", title="Campus fair, renamed", hall_policy="1")
    data["hall_policy_title"] = "Policies"
    response = await client.post("/organiser/fairs/campus/edit", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    fair = await fair_row(client, "campus")
    assert fair is not None and fair["title"] == "Campus fair, renamed"
    async with client.app[DB].connect() as conn:
        halls = await fair_store.halls(conn, world.campus_fair)
    assert [h.kind for h in halls] == ["booth", "briefing", "policy"]


async def test_edit_keeps_own_slug_but_not_anothers(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    response = await client.post("/organiser/fairs/campus/edit", data=fair_form(token, slug="open"))
    assert response.status == 400
    assert "Another fair already uses this address." in await response.text()


async def test_edit_validation_is_a_message_not_a_500(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    data = fair_form(token, slug="campus", title="t" * 5000, ends_at="2020-01-01T00:00")
    response = await client.post("/organiser/fairs/campus/edit", data=data)
    assert response.status == 400
    html = await response.text()
    assert "Too long: at most 200 characters." in html


async def test_campus_visibility_clears_guest_schools(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    multi = with_schools(fair_form(token, visibility="multi"), world.school_b)
    await client.post("/organiser/fairs/new", data=multi)
    campus = with_schools(fair_form(token, visibility="campus"), world.school_b)
    response = await client.post(
        "/organiser/fairs/spring-fair/edit", data=campus, allow_redirects=False
    )
    assert response.status == 303
    await world.login(client, "student_b")
    assert (await client.get("/fairs/spring-fair")).status == 404


# Who may manage a fair


FAIR_PATHS = ("/organiser/fairs/campus", "/organiser/fairs/campus/edit")


@pytest.mark.parametrize("who", ["organiser_b", "student_a", "recruiter_a", "recruiter_b"])
async def test_others_get_404_on_a_fair(client: Client, world: World, who: str) -> None:
    token = await world.login(client, who)
    for path in FAIR_PATHS:
        assert (await client.get(path)).status == 404, path
    posts = {
        "/organiser/fairs/campus/edit": fair_form(token, slug="campus", title="Hijacked"),
        "/organiser/fairs/campus/invite": {"csrf_token": token, "company_id": "2"},
        f"/organiser/fairs/campus/companies/{world.company_a}": {
            "csrf_token": token,
            "action": "reject",
        },
    }
    for path, data in posts.items():
        assert (await client.post(path, data=data)).status == 404, path
    fair = await fair_row(client, "campus")
    assert fair is not None and fair["title"] == "Campus fair"
    assert await status_of(client, world.campus_fair, world.company_a) == "approved"


async def test_missing_fair_is_the_same_404(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    assert (await client.get("/organiser/fairs/nope")).status == 404
    assert (await client.get("/organiser/fairs/nope/edit")).status == 404


async def test_anonymous_is_sent_to_login_on_a_fair(client: Client, world: World) -> None:
    for path in FAIR_PATHS:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login")
    token = await anonymous_token(client)
    response = await client.post(
        "/organiser/fairs/campus/invite",
        data={"csrf_token": token, "company_id": str(world.company_b)},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    assert await status_of(client, world.campus_fair, world.company_b) is None


async def test_admin_manages_any_fair(client: Client, world: World) -> None:
    await world.login(client, "admin")
    for path in ("/organiser/fairs/open", "/organiser/fairs/open/edit"):
        assert (await client.get(path)).status == 200


async def test_post_without_csrf_changes_nothing(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    response = await client.post(
        f"/organiser/fairs/campus/companies/{world.company_a}", data={"action": "reject"}
    )
    assert response.status == 403
    assert await status_of(client, world.campus_fair, world.company_a) == "approved"


# Participation (F2)


async def test_manage_page_lists_companies(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    html = await (await client.get("/organiser/fairs/campus")).text()
    assert "Company A" in html and "Approved" in html
    assert "/organiser/fairs/campus/export/jobs.csv" in html
    # Company B is not taking part, so it can be invited.
    assert f'<option value="{world.company_b}">Company B</option>' in html


async def test_invite_then_apply_then_approve_opens_a_booth(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    response = await client.post(
        "/organiser/fairs/campus/invite",
        data={"csrf_token": token, "company_id": str(world.company_b), "message": "Join us"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert await status_of(client, world.campus_fair, world.company_b) == "invited"
    html = await (await client.get(response.headers["Location"])).text()
    assert "Invitation sent." in html and "Invited" in html
    # Inviting twice is refused with a message.
    again = await client.post(
        "/organiser/fairs/campus/invite",
        data={"csrf_token": token, "company_id": str(world.company_b)},
    )
    assert again.status == 400
    assert "already takes part" in await again.text()
    # Accepting an invitation is the company's move, not the organiser's.
    path = f"/organiser/fairs/campus/companies/{world.company_b}"
    early = await client.post(path, data={"csrf_token": token, "action": "approve"})
    assert early.status == 400
    # The company applies (its own pages do this); the organiser approves.
    async with client.app[DB].begin() as conn:
        await fair_store.set_participation(conn, world.campus_fair, world.company_b, "applied")
    approve = await client.post(
        path, data={"csrf_token": token, "action": "approve"}, allow_redirects=False
    )
    assert approve.status == 303
    assert await status_of(client, world.campus_fair, world.company_b) == "approved"
    async with client.app[DB].connect() as conn:
        booths = await fair_store.booth_list(conn, world.campus_fair)
    assert {b.company_id for b in booths} == {world.company_a, world.company_b}
    assert "Company B" in await (await client.get("/fairs/campus")).text()


async def test_reject_an_application(client: Client, world: World) -> None:
    async with client.app[DB].begin() as conn:
        await fair_store.set_participation(conn, world.campus_fair, world.company_b, "applied")
    token = await world.login(client, "organiser_a")
    html = await (await client.get("/organiser/fairs/campus")).text()
    form = f'action="/organiser/fairs/campus/companies/{world.company_b}"'
    assert html.count(form) == 2  # approve and reject
    assert 'value="approve"' in html and "Approve" in html and "Reject" in html
    response = await client.post(
        f"/organiser/fairs/campus/companies/{world.company_b}",
        data={"csrf_token": token, "action": "reject"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert await status_of(client, world.campus_fair, world.company_b) == "rejected"
    async with client.app[DB].connect() as conn:
        booths = await fair_store.booth_list(conn, world.campus_fair)
    assert {b.company_id for b in booths} == {world.company_a}


async def test_decisions_on_bad_input(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    not_taking_part = await client.post(
        f"/organiser/fairs/campus/companies/{world.company_b}",
        data={"csrf_token": token, "action": "approve"},
    )
    assert not_taking_part.status == 400
    assert "does not take part" in await not_taking_part.text()
    bad_action = await client.post(
        f"/organiser/fairs/campus/companies/{world.company_a}",
        data={"csrf_token": token, "action": "delete"},
    )
    assert bad_action.status == 400
    unknown_company = await client.post(
        "/organiser/fairs/campus/invite", data={"csrf_token": token, "company_id": "9999"}
    )
    assert unknown_company.status == 400
    assert "Choose a company from the list." in await unknown_company.text()
    not_a_number = await client.post(
        "/organiser/fairs/campus/invite", data={"csrf_token": token, "company_id": "abc"}
    )
    assert not_a_number.status == 400
    assert await status_of(client, world.campus_fair, world.company_a) == "approved"


async def test_fair_text_is_rendered_inert(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    evil = '<svg onload="alert(1)">\u202egpj.exe'
    data = fair_form(token, title=evil, description="[x](javascript:alert(1)) <b>raw</b>")
    response = await client.post("/organiser/fairs/new", data=data, allow_redirects=False)
    assert response.status == 303
    for path in ("/organiser", "/organiser/fairs/spring-fair", "/organiser/fairs/spring-fair/edit"):
        html = await (await client.get(path)).text()
        assert "<svg" not in html and "&lt;svg" in html, path
        assert "\u202e" not in html, path
    lobby = await (await client.get("/fairs/spring-fair")).text()
    assert 'href="javascript:' not in lobby and "<b>raw</b>" not in lobby
