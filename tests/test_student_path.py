"""A student's path (F6 ★): from the first visit to a signed agreement, in time order, for
the student's own school only, with outcomes only once released."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from tests.factories import World
from tests.test_reports import build_scene

Client = TestClient[Any, Any]


def steps(html: str) -> list[str]:
    """Each step's text, tags stripped, in page order."""
    found = re.findall(r'<li class="step step-[a-z]+" data-stage="[a-z]+">(.*?)</li>', html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", s)).split()) for s in found]


def fair_section(html: str, title: str) -> str:
    start = html.index(f">{title}</h2>")
    return html[start : html.index("</section>", start)]


def milestones(html: str) -> dict[str, int]:
    return {
        stage: int(count)
        for stage, count in re.findall(r'data-stage="([a-z]+)" data-count="(\d+)"', html)
    }


async def path_page(client: Client, user_id: int) -> str:
    response = await client.get(f"/organiser/students/{user_id}")
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.text()


async def test_the_school_follows_its_student_from_first_visit_to_agreement(
    client: Client, world: World
) -> None:
    await build_scene(client.app[DB], world)
    await world.login(client, "organiser_a")
    html = await path_page(client, world.users["student_a"])
    assert milestones(html) == {
        "fair": 2,  # the open fair and the campus fair
        "booth": 2,
        "briefing": 1,
        "queue": 2,
        "interview": 2,
        "outcome": 1,
        "agreement": 1,  # accepted; the other is still waiting for an answer
    }
    open_fair = fair_section(html, "Open fair")
    texts = steps(open_fair)
    # Oldest first; at one time, in the order of the stages.
    assert texts[0].endswith("Entered the fair · 1 visit")
    assert any("Visited the booth of Company A · 1 visit" in s for s in texts)
    assert any("Visited the booth of Company B · 1 visit" in s for s in texts)
    # Three tabs on [0, 10], [5, 15], [15, 20] are 20 minutes watched, not 25.
    assert any("Watched “X” by Company A · 20 minutes" in s for s in texts)
    assert any("Joined the queue of Company B · called after 10 seconds" in s for s in texts)
    assert any("Joined the queue of Company B · called after 40 seconds" in s for s in texts)
    assert sum("Interview with" in s for s in texts) == 2
    assert any("Outcome from Company A: Offer" in s for s in texts)
    assert any("Agreement with Company A" in s and "Accepted by the student" in s for s in texts)
    assert any("Agreement with Company B" in s and "Awaiting the student" in s for s in texts)
    assert any("Countersigned by the school" in s for s in texts)
    stages = re.findall(r'data-stage="([a-z]+)">', open_fair)
    assert stages.index("fair") < stages.index("interview") < stages.index("outcome")
    assert stages.index("outcome") < stages.index("countersigned")
    # The campus fair keeps its own steps.
    campus = steps(fair_section(html, "Campus fair"))
    assert len(campus) == 1 and campus[0].endswith("Entered the fair · 1 visit")


async def test_an_unreleased_outcome_is_not_shown(client: Client, world: World) -> None:
    await build_scene(client.app[DB], world)
    await world.login(client, "organiser_b")
    html = await path_page(client, world.users["student_b"])
    texts = steps(html)
    assert any("Interview with Company B" in s for s in texts)
    # Company B decided "reject" but has not released it: not the school's to see yet.
    assert not any("Reject" in s or "Outcome" in s for s in texts)
    assert milestones(html)["outcome"] == 0


async def test_only_the_students_own_school_sees_the_path(client: Client, world: World) -> None:
    await build_scene(client.app[DB], world)
    student = world.users["student_a"]
    # School B ran the open fair student_a went to, but student_a is school A's.
    for who in ("organiser_b", "student_a", "student_b", "recruiter_a", "recruiter_b"):
        await world.login(client, who)
        assert (await client.get(f"/organiser/students/{student}")).status == 404, who
    await world.login(client, "admin")
    assert milestones(await path_page(client, student))["agreement"] == 1
    # A missing student, a user who is not a student, and an id beyond the table's range
    # are the same 404.
    for user_id in (999_999, world.users["recruiter_a"], 9_999_999_999):
        assert (await client.get(f"/organiser/students/{user_id}")).status == 404


async def test_a_student_who_never_came_has_an_empty_path(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    html = await path_page(client, world.users["student_a"])
    assert "This student has not entered a fair yet." in html
    assert set(milestones(html).values()) == {0}
    # The students list links each name to the path.
    listing = await (await client.get("/organiser/students")).text()
    assert f'href="/organiser/students/{world.users["student_a"]}"' in listing
