"""/interviews: each person's own interviews, and nobody else's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import tables as t
from tests.factories import World
from tests.test_routes import _interview


async def test_participants_find_their_interviews_and_nobody_else_does(
    client: TestClient[Any, Any], world: World
) -> None:
    interview_id = await _interview(client, world)
    async with client.app[DB].begin() as conn:
        await conn.execute(
            sa.update(t.users)
            .where(t.users.c.id == world.users["student_a"])
            .values(display_name="<b>Dawa</b>")
        )
    link = f'href="/interviews/{interview_id}"'

    await world.login(client, "student_a")
    page = await (await client.get("/interviews")).text()
    assert link in page and "Waiting room open" in page

    await world.login(client, "recruiter_a")
    page = await (await client.get("/interviews")).text()
    assert link in page
    assert "&lt;b&gt;Dawa&lt;/b&gt;" in page and "<b>Dawa</b>" not in page  # escaped

    for outsider in ("student_b", "recruiter_b", "organiser_a", "admin"):
        await world.login(client, outsider)
        response = await client.get("/interviews")
        assert response.status == 200
        assert link not in await response.text(), outsider

    async with client.app[DB].begin() as conn:
        await conn.execute(
            sa.update(t.interviews).where(t.interviews.c.id == interview_id).values(state="ended")
        )
    await world.login(client, "student_a")
    page = await (await client.get("/interviews")).text()
    assert link in page and "Past" in page and "Waiting room open" not in page
