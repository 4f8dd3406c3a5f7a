"""interview.hand_off over a real socket (I2), and its decision for every role.

recruiter_a interviews student_a (opened from company A's campus booth); recruiter_a2 is a
colleague. The service's rules (panel size, races, history) are in
tests/test_interview_room_slots.py.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import ROLES, World
from tests.interview_helpers import add_colleagues, code, ok, opened
from tests.sockets import connected

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


async def test_a_hand_off_reaches_the_colleague_and_the_room(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    [colleague] = await add_colleagues(client, world, 1)
    iid, recruiter, student = await opened(stack, client, world)
    other = await stack.enter_async_context(connected(client, world, colleague))
    to = {"interview_id": iid, "user_id": world.users[colleague]}
    for bad in (True, "2", 0):  # never a bool, a string or out of bounds
        assert code(await recruiter.call("interview.hand_off", {**to, "user_id": bad})) == (
            "request.invalid"
        )
    reply = ok(await recruiter.call("interview.hand_off", to))
    assert reply["owner_id"] == world.users[colleague]
    invited = await other.wait_for("interview.invited", lambda e: e["interview_id"] == iid)
    assert invited["from_user_id"] == world.users["recruiter_a"]
    heard = await student.wait_for(
        "interview.participants", lambda e: e["owner_id"] == world.users[colleague]
    )
    assert world.users[colleague] in {p["user_id"] for p in heard["participants"]}
    not_colleague = {**to, "user_id": world.users["recruiter_b"]}
    assert code(await recruiter.call("interview.hand_off", not_colleague)) == "not_found"


SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "interview.hand_off": {
        role: "ok" if role == "recruiter_a" else "not_found" for role in SIGNED_IN
    },
}


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_hand_off_decisions(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, role: str
) -> None:
    [colleague] = await add_colleagues(client, world, 1)
    iid, _, _ = await opened(stack, client, world)
    sock = await stack.enter_async_context(connected(client, world, role))
    await sock.call("interview.join", {"interview_id": iid})
    reply = await sock.call(
        "interview.hand_off", {"interview_id": iid, "user_id": world.users[colleague]}
    )
    assert code(reply) == SOCKET_DECISIONS["interview.hand_off"][role]
