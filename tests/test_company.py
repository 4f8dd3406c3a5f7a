"""The company side of F2: a recruiter's company page, applying, invitations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import fairs
from fairserver.store import tables as t
from tests.factories import HALLS, ROLES, World


async def _expo(client: TestClient[Any, Any], world: World, **overrides: Any) -> int:
    """A published open fair of school B that no company has joined yet."""
    start = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    values = {
        "slug": "expo",
        "school_id": world.school_b,
        "title": "Spring expo",
        "visibility": "open",
        "published": True,
        "starts_at": start,
        "ends_at": start + timedelta(hours=5),
        "timezone": "Asia/Shanghai",
        **overrides,
    }
    async with client.app[DB].begin() as conn:
        return await fairs.insert_fair(conn, values, HALLS)


async def _participation(
    client: TestClient[Any, Any], fair_id: int, company_id: int
) -> dict[str, Any] | None:
    fc = t.fair_companies
    async with client.app[DB].connect() as conn:
        row = (
            await conn.execute(
                sa.select(fc).where(fc.c.fair_id == fair_id, fc.c.company_id == company_id)
            )
        ).mappings()
        found = row.first()
        return None if found is None else dict(found)


async def _token(client: TestClient[Any, Any], world: World, who: str) -> str:
    if who != "anonymous":
        return await world.login(client, who)
    match = re.search(r'name="csrf_token" value="([^"]+)"', await (await client.get("/")).text())
    assert match
    return match.group(1)


@pytest.mark.parametrize("role", ROLES)
async def test_company_routes_per_role(
    client: TestClient[Any, Any], world: World, role: str
) -> None:
    expo = await _expo(client, world)
    async with client.app[DB].begin() as conn:
        await fairs.set_participation(conn, world.draft_fair, world.company_b, "invited")
    token = await _token(client, world, role)
    recruiter = role.startswith("recruiter")
    page = await client.get("/company", allow_redirects=False)
    assert page.status == {"anonymous": 303}.get(role, 200 if recruiter else 404)
    # Only recruiter_b may apply to the expo: recruiter_a's company is not in it either,
    # so it may too; nobody else may.
    apply = await client.get("/company/fairs/expo/apply", allow_redirects=False)
    assert apply.status == {"anonymous": 303}.get(role, 200 if recruiter else 404)
    for slug in ("campus", "draft", "open", "nope"):
        response = await client.get(f"/company/fairs/{slug}/apply", allow_redirects=False)
        assert response.status == (303 if role == "anonymous" else 404), (role, slug)
    # Only recruiter_b's company is invited to the draft fair.
    respond = await client.post(
        "/company/fairs/draft/respond",
        data={"csrf_token": token, "action": "decline"},
        allow_redirects=False,
    )
    expected = {"anonymous": 303, "recruiter_b": 303}.get(role, 404)
    assert respond.status == expected, role
    status = (await _participation(client, world.draft_fair, world.company_b) or {})["status"]
    assert status == ("withdrawn" if role == "recruiter_b" else "invited")
    response = await client.post(
        "/company/fairs/expo/apply", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == (303 if role == "anonymous" or recruiter else 404)
    async with client.app[DB].connect() as conn:
        applied = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.fair_companies)
                .where(t.fair_companies.c.fair_id == expo)
            )
        ).scalar()
    assert applied == (1 if recruiter else 0)


async def test_company_page_lists_fairs_and_booths(
    client: TestClient[Any, Any], world: World
) -> None:
    await _expo(client, world)
    await world.login(client, "recruiter_a")
    html = await (await client.get("/company")).text()
    assert "Company A" in html
    assert f"/fairs/campus/booths/{world.booth_a_campus}/edit" in html
    assert f"/fairs/open/booths/{world.booth_a_open}/edit" in html
    assert "/company/fairs/expo/apply" in html
    assert "Draft fair" not in html


async def test_recruiter_applies_to_a_fair(client: TestClient[Any, Any], world: World) -> None:
    expo = await _expo(client, world)
    token = await world.login(client, "recruiter_b")
    html = await (await client.get("/company")).text()
    assert "Spring expo" in html and "/company/fairs/expo/apply" in html
    lobby = await (await client.get("/fairs/expo")).text()
    assert "/company/fairs/expo/apply" in lobby
    too_long = await client.post(
        "/company/fairs/expo/apply", data={"csrf_token": token, "message": "x" * 1001}
    )
    assert too_long.status == 400
    assert "Too long: at most 1000 characters." in await too_long.text()
    assert await _participation(client, expo, world.company_b) is None
    response = await client.post(
        "/company/fairs/expo/apply",
        data={"csrf_token": token, "message": "We hire <b>welders</b>."},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/company?done=applied"
    row = await _participation(client, expo, world.company_b)
    assert row is not None
    assert row["status"] == "applied" and row["message"] == "We hire <b>welders</b>."
    html = await (await client.get("/company?done=applied")).text()
    assert "Applied, awaiting approval" in html and "application has been sent" in html
    # Applying twice is refused; there is no booth until the organiser approves.
    assert (await client.get("/company/fairs/expo/apply")).status == 404
    async with client.app[DB].connect() as conn:
        booths = await conn.execute(sa.select(t.booths.c.id).where(t.booths.c.fair_id == expo))
        assert booths.first() is None
    # After a withdrawal the company may apply again, with a new message.
    async with client.app[DB].begin() as conn:
        await fairs.set_participation(conn, expo, world.company_b, "withdrawn")
    response = await client.post(
        "/company/fairs/expo/apply",
        data={"csrf_token": token, "message": "Second try"},
        allow_redirects=False,
    )
    assert response.status == 303
    row = await _participation(client, expo, world.company_b)
    assert row is not None and (row["status"], row["message"]) == ("applied", "Second try")


async def test_campus_fair_needs_an_invitation(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "recruiter_b")
    assert (await client.get("/company/fairs/campus/apply")).status == 404
    response = await client.post("/company/fairs/campus/apply", data={"csrf_token": token})
    assert response.status == 404
    assert await _participation(client, world.campus_fair, world.company_b) is None
    assert "Campus fair" not in await (await client.get("/company")).text()


async def test_accepting_an_invitation_opens_a_booth(
    client: TestClient[Any, Any], world: World
) -> None:
    async with client.app[DB].begin() as conn:
        await fairs.set_participation(conn, world.campus_fair, world.company_b, "invited")
    token = await world.login(client, "recruiter_b")
    html = await (await client.get("/company")).text()
    assert "Campus fair" in html and 'action="/company/fairs/campus/respond"' in html
    apply_page = await (await client.get("/company/fairs/campus/apply")).text()
    assert "Accept the invitation" in apply_page
    bad = await client.post(
        "/company/fairs/campus/respond", data={"csrf_token": token, "action": "maybe"}
    )
    assert bad.status == 400
    response = await client.post(
        "/company/fairs/campus/respond",
        data={"csrf_token": token, "action": "accept"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/company?done=accepted"
    row = await _participation(client, world.campus_fair, world.company_b)
    assert row is not None and row["status"] == "approved"
    async with client.app[DB].connect() as conn:
        booth_id = (
            await conn.execute(
                sa.select(t.booths.c.id).where(
                    t.booths.c.fair_id == world.campus_fair,
                    t.booths.c.company_id == world.company_b,
                )
            )
        ).scalar_one()
    html = await (await client.get("/company?done=accepted")).text()
    assert f"/fairs/campus/booths/{booth_id}/edit" in html
    assert (await client.get(f"/fairs/campus/booths/{booth_id}/edit")).status == 200
    # Answering twice: the invitation is gone.
    again = await client.post(
        "/company/fairs/campus/respond", data={"csrf_token": token, "action": "decline"}
    )
    assert again.status == 404
    # The booth is in the campus hall for the school's students.
    await world.login(client, "student_a")
    assert "Company B" in await (await client.get("/fairs/campus/booths")).text()
