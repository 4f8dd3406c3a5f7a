"""Intent agreement pages (I5) over HTTP: the company's form, the agreement page each
side sees (the same text and hash), answering and countersigning through forms, versions,
the printable page, the three lists, and escaping of what users typed.

The permission matrix for these routes is in tests/test_routes.py; the services and the
socket events in tests/test_agreements.py.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from markupsafe import escape

from fairserver.keys import DB, SERVICES, SETTINGS
from fairserver.store import tables as t
from tests.factories import ROLES, World
from tests.test_agreements import make_agreement, offer_interview

FORM = {
    "position": "Offshore operator",
    "location": "Tianjin",
    "salary": "7000",
    "start_date": "2027-07-01",
    "term_years": "3",
}
VIEWERS = {"student_a", "recruiter_a", "organiser_a", "admin"}


async def page(client: TestClient[Any, Any], path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == status, (path, response.status, body[:500])
    return body


async def post(
    client: TestClient[Any, Any], path: str, token: str, data: dict[str, str], status: int = 303
) -> Any:
    response = await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)
    assert response.status == status, (path, response.status, (await response.text())[:800])
    return response


async def agreement(client: TestClient[Any, Any], agreement_id: int) -> dict[str, Any]:
    async with client.app[DB].connect() as conn:
        stmt = sa.select(t.agreements).where(t.agreements.c.id == agreement_id)
        return dict((await conn.execute(stmt)).mappings().one())


def shown_hash(body: str) -> str:
    match = re.search(r'<code class="hash" id="agreement-hash">([0-9a-f]{64})</code>', body)
    assert match, "the page shows no hash"
    return match.group(1)


async def test_a_recruiter_sends_one_from_an_offer_and_every_side_sees_the_same_text(
    client: TestClient[Any, Any], world: World
) -> None:
    interview_id = await offer_interview(client.app[DB], world)
    token = await world.login(client, "recruiter_a")
    form = await page(client, f"/interviews/{interview_id}/agreement")
    # Prefilled from the interview's job.
    assert 'value="Offshore operator / 海上操作工"' in form and 'value="6000"' in form
    assert "Student A" in form and "School A" in form
    response = await post(client, f"/interviews/{interview_id}/agreement", token, FORM)
    location = response.headers["Location"]
    agreement_id = int(location.rsplit("/", 1)[1])
    row = await agreement(client, agreement_id)
    # The form again now leads to the agreement in force.
    again = await client.get(f"/interviews/{interview_id}/agreement", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == location
    for who in sorted(VIEWERS):
        await world.login(client, who)
        body = await page(client, location)
        assert shown_hash(body) == row["text_sha256"], who
        assert str(escape(row["text"])) in body, who
        assert "28,000 yuan" in body and '<span class="zone">China Time</span>' in body
        assert (f"/agreements/{agreement_id}/respond" in body) == (who == "student_a")
        assert (f"/agreements/{agreement_id}/change" in body) == (who == "recruiter_a")
        assert "/countersign" not in body  # nothing to countersign before the student accepts
    for who in set(ROLES) - VIEWERS - {"anonymous"}:
        await world.login(client, who)
        await page(client, location, status=404)
        await page(client, f"{location}/print", status=404)


async def test_the_form_refuses_bad_fields_and_an_interview_without_an_offer(
    client: TestClient[Any, Any], world: World
) -> None:
    no_offer = await offer_interview(client.app[DB], world, outcome=None)
    interview_id = await offer_interview(client.app[DB], world)
    token = await world.login(client, "recruiter_a")
    body = await page(client, f"/interviews/{no_offer}/agreement", status=409)
    assert "Record an offer for this interview first." in body
    assert f'action="/interviews/{no_offer}/agreement"' not in body
    await post(client, f"/interviews/{no_offer}/agreement", token, FORM, status=409)
    bad = {**FORM, "term_years": "11", "salary": "lots"}
    response = await post(client, f"/interviews/{interview_id}/agreement", token, bad, 400)
    text = await response.text()
    assert "Must be at most 10." in text and "Enter a whole number." in text
    assert 'value="lots"' in text  # the form keeps what was typed
    async with client.app[DB].connect() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.agreements))
        ).scalar() == 0


async def test_accept_then_countersign_through_the_forms(
    client: TestClient[Any, Any], world: World
) -> None:
    agreement_id = await make_agreement(client.app[SERVICES], world)
    path = f"/agreements/{agreement_id}"
    token = await world.login(client, "student_a")
    sha = shown_hash(await page(client, path))
    assert f'name="text_sha256" value="{sha}"' in await page(client, path)
    # A hash the page never showed: refused, nothing recorded.
    stale = {"decision": "accept", "text_sha256": "0" * 64}
    refused = await post(client, f"{path}/respond", token, stale, status=409)
    assert "The agreement has changed since you opened it" in await refused.text()
    await post(client, f"{path}/respond", token, {"decision": "accept", "text_sha256": sha})
    body = await page(client, path)
    assert "Accepted by the student" in body and "Student: Accepted" in body
    assert f'<code class="hash">{sha}</code>' in body and f"{path}/respond" not in body
    token = await world.login(client, "organiser_a")
    body = await page(client, path)
    assert f"{path}/countersign" in body
    await post(client, f"{path}/countersign", token, {"text_sha256": sha})
    body = await page(client, path)
    assert "School: Countersigned" in body and "Countersigned by the school" in body
    assert f"{path}/countersign" not in body
    row = await agreement(client, agreement_id)
    assert row["countersigned_by"] == world.users["organiser_a"]
    # Countersigned is final: no change form for the company.
    await world.login(client, "recruiter_a")
    assert f"{path}/change" not in await page(client, path)


async def test_a_change_is_a_new_version_linked_both_ways(
    client: TestClient[Any, Any], world: World
) -> None:
    first = await make_agreement(client.app[SERVICES], world)
    token = await world.login(client, "recruiter_a")
    old_page = await page(client, f"/agreements/{first}")
    old_sha = shown_hash(old_page)
    changed = {**FORM, "salary": "7600", "term_years": "2"}
    response = await post(client, f"/agreements/{first}/change", token, changed)
    second = int(response.headers["Location"].rsplit("/", 1)[1])
    body = await page(client, f"/agreements/{second}")
    assert shown_hash(body) != old_sha and "7,600 yuan" in body and "28,000" not in body
    assert "Earlier versions" in body and f'href="/agreements/{first}"' in body
    assert re.search(r'<dd class="version">2</dd>', body)
    old = await page(client, f"/agreements/{first}")
    assert "A later version replaces this one." in old and f'href="/agreements/{second}"' in old
    assert "Replaced by a later version" in old and f"/agreements/{first}/change" not in old
    # The student's stale tab, still on version 1, is told to read the new one.
    token = await world.login(client, "student_a")
    stale = {"decision": "accept", "text_sha256": old_sha}
    await post(client, f"/agreements/{first}/respond", token, stale, status=409)
    lists = await page(client, "/agreements")
    assert f'href="/agreements/{second}"' in lists and f'href="/agreements/{first}"' not in lists


async def test_the_printable_page(client: TestClient[Any, Any], world: World) -> None:
    agreement_id = await make_agreement(client.app[SERVICES], world)
    token = await world.login(client, "student_a")
    sha = shown_hash(await page(client, f"/agreements/{agreement_id}"))
    await post(
        client,
        f"/agreements/{agreement_id}/respond",
        token,
        {"decision": "accept", "text_sha256": sha},
    )
    await world.login(client, "organiser_a")
    body = await page(client, f"/agreements/{agreement_id}/print")
    row = await agreement(client, agreement_id)
    assert str(escape(row["text"])) in body
    assert body.count(f'<code class="hash">{sha}</code>') == 2  # the text's and the signature's
    for part in ("Company A", "Student A", "School A", "Campus fair", "Student: Accepted"):
        assert part in body
    assert '<link rel="stylesheet" href="/static/css/agreement.css">' in body
    assert "style=" not in body and "<style" not in body and "<script>" not in body
    css = (client.app[SETTINGS].web_dir / "static" / "css" / "agreement.css").read_text()
    media_print = css[css.index("@media print") :]
    assert "header.site" in media_print and "display: none" in media_print
    assert "color: #000" in media_print and "background: #fff" in media_print
    assert "@page { margin:" in css
    served = await client.get("/static/css/agreement.css")
    assert served.status == 200


async def test_what_users_typed_is_escaped(client: TestClient[Any, Any], world: World) -> None:
    hostile = '<script>alert("x")</script> & <b>co</b>'
    agreement_id = await make_agreement(client.app[SERVICES], world, position=hostile)
    for who, pages in (
        ("student_a", ["/agreements"]),
        ("recruiter_a", ["/company/agreements"]),
        ("organiser_a", ["/organiser/agreements"]),
    ):
        await world.login(client, who)
        for path in [*pages, f"/agreements/{agreement_id}", f"/agreements/{agreement_id}/print"]:
            body = await page(client, path)
            assert "<script>alert" not in body and "<b>co</b>" not in body, (who, path)
            assert "&lt;script&gt;alert(" in body, (who, path)


async def test_each_list_shows_its_own(client: TestClient[Any, Any], world: World) -> None:
    agreement_id = await make_agreement(client.app[SERVICES], world)
    link = f'href="/agreements/{agreement_id}"'
    expected = {
        ("student_a", "/agreements"): True,
        ("student_b", "/agreements"): False,
        ("recruiter_a", "/company/agreements"): True,
        ("recruiter_b", "/company/agreements"): False,
        ("organiser_a", "/organiser/agreements"): True,
        ("organiser_b", "/organiser/agreements"): False,
        ("admin", "/organiser/agreements"): True,
    }
    for (who, path), listed in expected.items():
        await world.login(client, who)
        body = await page(client, path)
        assert (link in body) == listed, (who, path)
        # The navigation leads each role to its list.
        assert f'<li><a href="{path}">Agreements</a></li>' in body, who
        if listed:
            assert (
                "Awaiting the student's answer" in body
                and '<span class="zone">China Time</span>' in body
            )
    await world.login(client, "recruiter_a")
    response = await client.get("/agreements", allow_redirects=False)
    assert response.headers["Location"] == "/company/agreements"
