"""The scorecard page and the criteria page over HTTP: the panel rates, notes, decides and
releases with plain forms; nobody else reaches the page (the 404 of a missing interview);
the candidate's pages show the outcome and message once released, and never a note or a
score."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.clock import utcnow
from fairserver.keys import DB
from fairserver.store import history
from fairserver.store import tables as t
from tests.factories import World
from tests.interview_helpers import add_colleagues
from tests.test_outcomes import make_interview

NOTE = "<script>alert('NOTE-SECRET')</script>"


async def _post(client: TestClient[Any, Any], path: str, token: str, **data: str) -> Any:
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def _criteria(client: TestClient[Any, Any], token: str) -> dict[str, int]:
    for name, scale in (("Technical", "5"), ("Communication", "5"), ("Safety", "3")):
        response = await _post(client, "/company/criteria", token, name=name, scale=scale)
        assert response.status == 303
    page = await (await client.get("/company/criteria")).text()
    ids = re.findall(r'name="criterion_id" value="(\d+)"', page)
    return dict(zip(("Technical", "Communication", "Safety"), map(int, ids), strict=True))


async def _student_pages(client: TestClient[Any, Any], world: World, iid: int) -> str:
    await world.login(client, "student_a")
    room = await client.get(f"/interviews/{iid}")
    listing = await client.get("/interviews")
    assert room.status == listing.status == 200
    return await room.text() + await listing.text()


async def test_the_panel_scores_notes_decides_and_releases(
    client: TestClient[Any, Any], world: World
) -> None:
    iid = await make_interview(client.app[DB], world, ("recruiter_a",))
    base = f"/interviews/{iid}/scorecard"
    token = await world.login(client, "recruiter_a")
    criteria = await _criteria(client, token)
    room = await (await client.get(f"/interviews/{iid}")).text()
    assert f'href="{base}"' in room

    page = await (await client.get(base)).text()
    assert "Student A" in page and "Petrochemistry" in page
    assert f'name="rating_{criteria["Safety"]}" value="3"' in page
    assert f'name="rating_{criteria["Safety"]}" value="4"' not in page  # its scale is 3
    ratings = {f"rating_{criteria['Technical']}": "4", f"rating_{criteria['Safety']}": "2"}
    assert (await _post(client, base + "/scores", token, **ratings)).status == 303
    refused = await _post(client, base + "/scores", token, **{f"rating_{criteria['Safety']}": "9"})
    assert refused.status == 400 and "Rate from 1 to 3." in await refused.text()
    assert (await _post(client, base + "/notes", token, body=NOTE)).status == 303
    outcome = {"outcome": "advance", "message": "Second round on Friday <3"}
    assert (await _post(client, base + "/outcome", token, **outcome)).status == 303

    page = await (await client.get(base)).text()
    assert "&lt;script&gt;alert(&#39;NOTE-SECRET&#39;)&lt;/script&gt;" in page
    assert NOTE not in page
    assert f'name="rating_{criteria["Technical"]}" value="4" checked' in page
    assert "Not released: the candidate does not see it" in page
    assert "saved a scorecard" in page and "added a note" in page
    assert "set the outcome to Advance to the next round" in page

    student_view = await _student_pages(client, world, iid)
    assert "NOTE-SECRET" not in student_view and "Second round" not in student_view
    assert "next round" not in student_view

    token = await world.login(client, "recruiter_a")
    stale = await _post(client, base + "/release", token, outcome="offer")
    assert stale.status == 400
    assert "The outcome was changed meanwhile" in await stale.text()
    assert (await _post(client, base + "/release", token, outcome="advance")).status == 303
    page = await (await client.get(base)).text()
    assert "Released to the candidate" in page
    assert "released Advance to the next round to the candidate" in page

    student_view = await _student_pages(client, world, iid)
    assert student_view.count("You are invited to the next round.") == 2  # room and list
    assert "Second round on Friday &lt;3" in student_view
    assert "NOTE-SECRET" not in student_view and "Technical" not in student_view

    # A new outcome withdraws the release: the student sees nothing until it is released.
    token = await world.login(client, "recruiter_a")
    assert (await _post(client, base + "/outcome", token, outcome="offer")).status == 303
    page = await (await client.get(base)).text()
    assert "the earlier release was withdrawn" in page
    student_view = await _student_pages(client, world, iid)
    assert "next round" not in student_view and "You have an offer." not in student_view
    async with client.app[DB].connect() as conn:
        kinds = (
            await conn.execute(
                sa.select(t.interview_history.c.kind).order_by(t.interview_history.c.id)
            )
        ).scalars()
        assert list(kinds) == ["score", "note", "outcome", "released", "outcome"]


async def test_nobody_off_the_panel_reaches_the_scorecard(
    client: TestClient[Any, Any], world: World
) -> None:
    [colleague] = await add_colleagues(client, world, 1)
    iid = await make_interview(client.app[DB], world, ("recruiter_a",))
    base, missing = f"/interviews/{iid}/scorecard", "/interviews/2147483000/scorecard"
    for who in ("student_a", "recruiter_b", colleague, "organiser_a", "admin"):
        token = await world.login(client, who)
        real, absent = await client.get(base), await client.get(missing)
        assert real.status == absent.status == 404, who
        assert (await real.text()).replace(base, "P") == (await absent.text()).replace(missing, "P")
        for action, data in (
            ("/scores", {"rating_1": "1"}),
            ("/notes", {"body": "mine now"}),
            ("/outcome", {"outcome": "reject"}),
            ("/release", {"outcome": "reject"}),
        ):
            assert (await _post(client, base + action, token, **data)).status == 404, who
    async with client.app[DB].connect() as conn:
        for table in (t.interview_notes, t.interview_scores, t.interview_history):
            count = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
            assert count == 0
        outcome = (await conn.execute(sa.select(t.interviews.c.outcome))).scalar()
        assert outcome is None


async def test_criteria_are_reordered_and_archived_per_company(
    client: TestClient[Any, Any], world: World
) -> None:
    iid = await make_interview(client.app[DB], world, ("recruiter_a",))
    token = await world.login(client, "recruiter_a")
    criteria = await _criteria(client, token)
    safety = criteria["Safety"]
    base = f"/interviews/{iid}/scorecard"
    assert (await _post(client, base + "/scores", token, **{f"rating_{safety}": "3"})).status == 303
    move = await _post(client, "/company/criteria", token, action="up", criterion_id=str(safety))
    assert move.status == 303
    page = await (await client.get("/company/criteria")).text()
    ids = [int(i) for i in re.findall(r'name="criterion_id" value="(\d+)"', page)]
    assert ids == [criteria["Technical"], safety, criteria["Communication"]]
    duplicate = await _post(client, "/company/criteria", token, name="Safety", scale="4")
    assert duplicate.status == 400
    assert "already has a criterion with this name" in await duplicate.text()
    out_of_range = await _post(client, "/company/criteria", token, name="Grit", scale="11")
    assert out_of_range.status == 400

    # Company B neither sees nor changes company A's criteria.
    other = await world.login(client, "recruiter_b")
    assert "Technical" not in await (await client.get("/company/criteria")).text()
    refused = await _post(
        client, "/company/criteria", other, action="archive", criterion_id=str(safety)
    )
    assert refused.status == 404

    token = await world.login(client, "recruiter_a")
    archived = await _post(
        client, "/company/criteria", token, action="archive", criterion_id=str(safety)
    )
    assert archived.status == 303
    page = await (await client.get(base)).text()
    assert f'name="rating_{safety}"' not in page  # no longer offered
    assert "Your ratings on archived criteria:" in page and "Safety: 3 / 3" in page


async def test_the_history_names_what_other_parts_of_the_interview_recorded(
    client: TestClient[Any, Any], world: World
) -> None:
    iid = await make_interview(client.app[DB], world, ("recruiter_a",))
    async with client.app[DB].begin() as conn:
        await history.record(conn, iid, world.users["recruiter_a"], utcnow(), "interviewer_added")
        await history.record(conn, iid, None, utcnow(), "no_show")
    await world.login(client, "recruiter_a")
    page = await (await client.get(f"/interviews/{iid}/scorecard")).text()
    assert "added an interviewer" in page
    assert "the server" in page and "recorded a no-show" in page
