"""Interview rooms end to end (B6, I2, I3): a real server and real socket.io clients.

recruiter_a (company A) interviews student_a, who queued at company A's campus booth.
Media is in tests/test_interview_media.py; the decision table for every interview.*
event and every role is at the end of this file.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import tables as t
from fairserver.webrtc.peers import PeerRegistry
from tests.factories import ROLES, World
from tests.interview_helpers import (
    add_colleagues,
    at_booth,
    code,
    ok,
    opened,
    registry_of,
    send_offer,
)
from tests.sockets import connected
from tests.webrtc.media import camera_browser, viewer_browser, wait_until

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


async def rows(client: TestClient[Any, Any], table: sa.Table) -> list[dict[str, Any]]:
    async with client.app[DB].connect() as conn:
        return [dict(r) for r in (await conn.execute(sa.select(table))).mappings()]


# --- opening one from a booth (B6) ------------------------------------------------------


async def test_a_recruiter_escalates_only_with_a_student_they_met(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    booth, student_id = world.booth_a_campus, world.users["student_a"]
    recruiter = await at_booth(stack, client, world, "recruiter_a")
    payload = {"booth_id": booth, "student_id": student_id}
    # Not queued, no private chat: the student does not exist for this booth.
    assert code(await recruiter.call("interview.open", payload)) == "not_found"
    assert (
        code(
            await recruiter.call("interview.open", {**payload, "student_id": world.users["admin"]})
        )
        == "not_found"
    )
    # A private message from the booth's staff is a conversation to escalate.
    student = await at_booth(stack, client, world, "student_a")
    ok(
        await recruiter.call(
            "booth.dm",
            {"booth_id": booth, "to_user_id": student_id, "body": "Hi", "client_id": "d1"},
        )
    )
    first = ok(await recruiter.call("interview.open", payload))
    assert first["created"] is True and first["url"] == f"/interviews/{first['interview_id']}"
    invited = await student.wait_for("interview.invited")
    assert invited["interview_id"] == first["interview_id"] and invited["url"] == first["url"]
    assert invited["booth_id"] == booth and invited["from_user_id"] == world.users["recruiter_a"]
    again = ok(await recruiter.call("interview.open", payload))
    assert again["interview_id"] == first["interview_id"] and again["created"] is False
    [row] = await rows(client, t.interviews)
    assert (row["origin"], row["state"], row["fair_id"], row["company_id"]) == (
        "chat",
        "waiting",
        world.campus_fair,
        world.company_a,
    )
    people = {p["user_id"]: p for p in await rows(client, t.interview_participants)}
    assert people[student_id]["role"] == "candidate" and people[student_id]["admitted_at"] is None
    recruiter_row = people[world.users["recruiter_a"]]
    assert recruiter_row["role"] == "interviewer" and recruiter_row["admitted_at"] is not None
    # Both sides find the link from the booth page.
    for sock in (student, recruiter):
        mine = ok(await sock.call("interview.mine", {"booth_id": booth}))
        assert [i["interview_id"] for i in mine["interviews"]] == [first["interview_id"]]


# --- the waiting room (I2) --------------------------------------------------------------


async def test_the_candidate_knocks_and_is_admitted(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, browsers: PeerRegistry
) -> None:
    iid, recruiter, student = await opened(stack, client, world, admit=False)
    me = {"interview_id": iid}
    knocking = await recruiter.wait_for(
        "interview.participants",
        lambda e: any(p["role"] == "candidate" and p["present"] for p in e["participants"]),
    )
    candidate = next(p for p in knocking["participants"] if p["role"] == "candidate")
    assert candidate["admitted"] is False and knocking["state"] == "waiting"
    waiting = ok(await student.call("interview.join", me))
    assert waiting["me"]["admitted"] is False
    assert waiting["messages"] == [] and waiting["ice_servers"] == []
    # Nothing in the room before admission.
    assert code(await student.call("interview.chat", {**me, "text": "hi", "client_id": "w"})) == (
        "interview.not_admitted"
    )
    refused = await send_offer(
        student, "interview.publish", iid, camera_browser(browsers, "refused")
    )
    assert code(refused) == "interview.not_admitted"
    # The candidate cannot let themselves in.
    assert code(await student.call("interview.admit", me)) == "not_found"
    admitted = ok(await recruiter.call("interview.admit", me))
    assert admitted["state"] == "live"
    await student.wait_for("interview.admitted", lambda e: e["interview_id"] == iid)
    joined = ok(await student.call("interview.join", {**me, "after": 0}))  # live.js rejoin
    assert joined["me"]["admitted"] is True and joined["state"] == "live"
    assert joined["started_at"] is not None
    [row] = await rows(client, t.interviews)
    assert row["state"] == "live" and row["started_at"] is not None


async def test_third_parties_find_nothing(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    await add_colleagues(client, world, 1)
    iid, _, _ = await opened(stack, client, world)
    for who in ("student_b", "recruiter_a2", "recruiter_b", "organiser_a", "admin"):
        async with connected(client, world, who) as sock:
            for event in ("interview.join", "interview.admit", "interview.end"):
                reply = await sock.call(event, {"interview_id": iid})
                assert code(reply) == "not_found", (who, event)
            missing = await sock.call("interview.join", {"interview_id": iid + 100})
            assert missing == await sock.call("interview.join", {"interview_id": iid})
        await world.login(client, who)
        page = await client.get(f"/interviews/{iid}", allow_redirects=False)
        nothing = await client.get(f"/interviews/{iid + 100}", allow_redirects=False)
        assert page.status == nothing.status == 404, who
    for who in ("student_a", "recruiter_a"):
        await world.login(client, who)
        page = await client.get(f"/interviews/{iid}")
        assert page.status == 200 and 'id="interview"' in await page.text()


async def test_a_panel_has_at_most_four_interviewers(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    colleagues = await add_colleagues(client, world, 4)
    iid, recruiter, _ = await opened(stack, client, world)

    def add(who: str) -> dict[str, Any]:
        return {"interview_id": iid, "user_id": world.users[who]}

    for who in ("recruiter_b", "student_b", "organiser_a"):  # not colleagues
        assert code(await recruiter.call("interview.add_interviewer", add(who))) == "not_found"
    for who in colleagues[:3]:
        ok(await recruiter.call("interview.add_interviewer", add(who)))
    assert code(await recruiter.call("interview.add_interviewer", add(colleagues[3]))) == (
        "interview.full"
    )
    ok(await recruiter.call("interview.add_interviewer", add(colleagues[0])))  # already in
    async with connected(client, world, colleagues[0]) as colleague:
        joined = ok(await colleague.call("interview.join", {"interview_id": iid}))
        assert joined["me"] == {
            "user_id": world.users[colleagues[0]],
            "role": "interviewer",
            "admitted": True,
            "consented": False,
        }
        assert len([p for p in joined["participants"] if p["role"] == "interviewer"]) == 4


# --- chat -------------------------------------------------------------------------------


async def test_the_chat_is_durable_and_a_retry_is_stored_once(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    iid, recruiter, student = await opened(stack, client, world)
    message = {"interview_id": iid, "text": "<b>Hello</b> 你好", "client_id": "c-1"}
    first = ok(await student.call("interview.chat", message))
    retry = ok(await student.call("interview.chat", message))
    assert first["duplicate"] is False and retry["duplicate"] is True
    assert retry["id"] == first["id"] and first["body"] == "<b>Hello</b> 你好"
    heard = await recruiter.wait_for("interview.chat")
    assert heard["id"] == first["id"] and heard["author_id"] == world.users["student_a"]
    assert len(recruiter.received["interview.chat"]) == 1
    stored = [m for m in await rows(client, t.chat_messages) if m["room"] == f"interview:{iid}"]
    assert len(stored) == 1 and stored[0]["fair_id"] == world.campus_fair
    rejoined = ok(await recruiter.call("interview.join", {"interview_id": iid}))
    assert [m["id"] for m in rejoined["messages"]] == [first["id"]]
    too_long = await student.call("interview.chat", {**message, "text": "x" * 2001})
    assert code(too_long) == "request.invalid"
    blank = await student.call("interview.chat", {**message, "text": "\u202e", "client_id": "c2"})
    assert code(blank) == "request.invalid"


# --- consent and recording (I3) ---------------------------------------------------------


async def test_recording_needs_everyone_and_stops_when_anyone_withdraws(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    await add_colleagues(client, world, 1)
    iid, recruiter, student = await opened(stack, client, world)
    me = {"interview_id": iid}
    refused = await recruiter.call("interview.record", {**me, "on": True})
    assert code(refused) == "interview.consent_missing"
    assert set(refused["error"]["missing"]) == {
        world.users["student_a"],
        world.users["recruiter_a"],
    }
    ok(await recruiter.call("interview.consent", {**me, "consent": True}))
    still = await recruiter.call("interview.record", {**me, "on": True})
    assert still["error"]["missing"] == [world.users["student_a"]]
    ok(await student.call("interview.consent", {**me, "consent": True}))
    on = ok(await recruiter.call("interview.record", {**me, "on": True}))
    assert on["on"] is True and on["started_at"]
    for sock in (recruiter, student):  # every participant sees the indicator
        await sock.wait_for("interview.recording", lambda e: e["on"])
    assert code(await student.call("interview.record", {**me, "on": False})) == "not_found"
    # The candidate withdraws: the recording stops at once, and everyone hears it.
    ok(await student.call("interview.consent", {**me, "consent": False}))
    for sock in (recruiter, student):
        stopped = await sock.wait_for("interview.recording", lambda e: not e["on"])
        assert stopped["reason"] == "consent_missing"
    assert ok(await student.call("interview.join", me))["recording"]["on"] is False
    # Consent again and record; a colleague added without consent stops it too.
    ok(await student.call("interview.consent", {**me, "consent": True}))
    ok(await recruiter.call("interview.record", {**me, "on": True}))
    recruiter.received["interview.recording"].clear()
    ok(
        await recruiter.call(
            "interview.add_interviewer", {**me, "user_id": world.users["recruiter_a2"]}
        )
    )
    await recruiter.wait_for("interview.recording", lambda e: not e["on"])


async def test_ending_closes_every_peer_and_tells_everyone(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, browsers: PeerRegistry
) -> None:
    iid, recruiter, student = await opened(stack, client, world)
    me = {"interview_id": iid}
    ok(await send_offer(recruiter, "interview.publish", iid, camera_browser(browsers, "r")))
    ok(await send_offer(student, "interview.publish", iid, camera_browser(browsers, "s")))
    assert len(registry_of(client)) == 2
    assert code(await student.call("interview.end", me)) == "not_found"
    ended = ok(await recruiter.call("interview.end", me))
    assert ended["state"] == "ended"
    await student.wait_for("interview.ended", lambda e: e["interview_id"] == iid)
    await wait_until(lambda: len(registry_of(client)) == 0, 1.0, "peers closed within 1 s")
    late = await send_offer(student, "interview.publish", iid, camera_browser(browsers, "x"))
    assert code(late) == "interview.ended"
    [row] = await rows(client, t.interviews)
    assert row["state"] == "ended" and row["ended_at"] is not None
    intervals = [a for a in await rows(client, t.attendance) if a["kind"] == "interview"]
    assert intervals and all(a["left_at"] is not None for a in intervals)


# --- every interview.* event for every role ---------------------------------------------

PARTICIPANTS = {"recruiter_a", "student_a"}
INTERVIEWERS = {"recruiter_a"}


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "interview.open": _row(INTERVIEWERS),
    "interview.mine": _row(PARTICIPANTS),  # people who may see the campus booth
    "interview.join": _row(PARTICIPANTS),
    "interview.admit": _row(INTERVIEWERS),
    "interview.consent": _row(PARTICIPANTS),
    "interview.chat": _row(PARTICIPANTS),
    "interview.publish": _row(PARTICIPANTS),
    "interview.watch": _row(PARTICIPANTS),
    "interview.record": _row(INTERVIEWERS),
    "interview.add_interviewer": _row(INTERVIEWERS),
    "interview.leave": _row(PARTICIPANTS),
    "interview.end": _row(INTERVIEWERS),
}


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_interview_event_decisions(
    client: TestClient[Any, Any],
    world: World,
    stack: AsyncExitStack,
    browsers: PeerRegistry,
    role: str,
) -> None:
    [colleague] = await add_colleagues(client, world, 1)
    iid, recruiter, student = await opened(stack, client, world)
    ok(await send_offer(recruiter, "interview.publish", iid, camera_browser(browsers, "r")))
    ok(await send_offer(student, "interview.publish", iid, camera_browser(browsers, "s")))
    for helper in (recruiter, student):
        ok(await helper.call("interview.consent", {"interview_id": iid, "consent": True}))
    sock = await stack.enter_async_context(connected(client, world, role))
    await sock.call("fair.join", {"fair": "campus"})
    await sock.call("booth.join", {"booth_id": world.booth_a_campus})
    me = {"interview_id": iid}
    other = "student_a" if role == "recruiter_a" else "recruiter_a"
    target = {"booth_id": world.booth_a_campus, "student_id": world.users["student_a"]}
    seen = {
        "interview.open": code(await sock.call("interview.open", target)),
        "interview.mine": code(await sock.call("interview.mine", {"booth_id": target["booth_id"]})),
        "interview.join": code(await sock.call("interview.join", me)),
        "interview.admit": code(await sock.call("interview.admit", me)),
        "interview.consent": code(await sock.call("interview.consent", {**me, "consent": True})),
        "interview.chat": code(
            await sock.call("interview.chat", {**me, "text": "hi", "client_id": f"d-{role}"})
        ),
        "interview.publish": code(
            await send_offer(sock, "interview.publish", iid, camera_browser(browsers, "p"))
        ),
        "interview.watch": code(
            await send_offer(
                sock,
                "interview.watch",
                iid,
                viewer_browser(browsers, "v")[0],
                user_id=world.users[other],
            )
        ),
        "interview.record": code(await sock.call("interview.record", {**me, "on": True})),
        "interview.add_interviewer": code(
            await sock.call("interview.add_interviewer", {**me, "user_id": world.users[colleague]})
        ),
        "interview.leave": code(await sock.call("interview.leave", me)),
    }
    # Ending needs the join again (leave forgot it on this connection).
    await sock.call("interview.join", me)
    seen["interview.end"] = code(await sock.call("interview.end", me))
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)
