"""Live booths end to end (B3, B4, B5, B7): a real server and real python-socketio clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, PASSWORDS, SOCKETS
from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths import queue as booth_queue
from fairserver.store import accounts
from fairserver.store import tables as t
from fairserver.store.live import MemoryLive
from tests.factories import PASSWORD, ROLES, World
from tests.sockets import Client, connected

NOT_FOUND = {"ok": False, "error": {"code": "not_found", "message": "not found"}}


async def enter(sock: Client, fair: str, booth_id: int, **extra: Any) -> dict[str, Any]:
    """fair.join then booth.join; returns the booth snapshot."""
    assert (await sock.call("fair.join", {"fair": fair}))["ok"]
    reply = await sock.call("booth.join", {"booth_id": booth_id, **extra})
    assert reply["ok"], reply
    data: dict[str, Any] = reply["data"]
    return data


async def ok(sock: Client, event: str, data: dict[str, Any]) -> dict[str, Any]:
    reply = await sock.call(event, data)
    assert reply["ok"], (event, reply)
    result: dict[str, Any] = reply["data"]
    return result


async def entries(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    async with client.app[DB].connect() as conn:
        rows = await conn.execute(sa.select(t.queue_entries).order_by(t.queue_entries.c.id))
        return [dict(r) for r in rows.mappings()]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Server-side disconnect handling runs after the client has gone: poll, bounded."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)


@pytest.fixture
def fast_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls expire and graces run out in a fraction of a second."""
    monkeypatch.setattr(booth_queue, "CALL_SECONDS", 0.3)
    monkeypatch.setattr(booth_queue, "GRACE_SECONDS", 0.3)


# --- presence (B3) ---------------------------------------------------------------------


async def test_staff_and_visitors_are_counted_live(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_campus
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as student,
        connected(client, world, "student_a") as same_student,
        connected(client, world, "organiser_a") as organiser,
    ):
        snapshot = await enter(recruiter, "campus", booth)
        assert snapshot["is_staff"] and snapshot["visitors"] == 0
        assert snapshot["staff"] == [
            {"user_id": world.users["recruiter_a"], "name": "recruiter_a", "status": "online"}
        ]
        snapshot = await enter(student, "campus", booth)
        assert not snapshot["is_staff"] and snapshot["visitors"] == 1
        await recruiter.wait_for("booth.presence", lambda p: p["visitors"] == 1)
        # Visitors are people, not tabs.
        assert (await enter(same_student, "campus", booth))["visitors"] == 1
        assert (await enter(organiser, "campus", booth))["visitors"] == 2
        await ok(recruiter, "booth.status", {"booth_id": booth, "status": "busy"})
        event = await student.wait_for(
            "booth.presence", lambda p: p["staff"] and p["staff"][0]["status"] == "busy"
        )
        assert event["visitors"] == 2
        assert await organiser.call("booth.status", {"booth_id": booth, "status": "away"}) == (
            NOT_FOUND
        )
        await ok(organiser, "booth.leave", {"booth_id": booth})
        await student.wait_for("booth.presence", lambda p: p["visitors"] == 1)

    async def all_booth_visits_closed() -> bool:
        async with client.app[DB].connect() as conn:
            rows = (
                await conn.execute(sa.select(t.attendance).where(t.attendance.c.kind == "booth"))
            ).mappings()
            return {(r["subject_id"], r["left_at"] is not None) for r in rows} == {(booth, True)}

    await eventually(all_booth_visits_closed)


async def test_staff_whose_heartbeat_lapses_drop_out(
    client: TestClient[Any, Any], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(booth_service, "PRESENCE_TTL", 0.3)
    booth = world.booth_a_campus
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as student,
    ):
        await enter(recruiter, "campus", booth)
        await enter(student, "campus", booth)
        await asyncio.sleep(0.2)
        await ok(student, "booth.heartbeat", {"booth_id": booth})
        await asyncio.sleep(0.2)
        # The student beat in time, the recruiter did not.
        presence = await ok(student, "booth.heartbeat", {"booth_id": booth})
        assert presence["staff"] == [] and presence["visitors"] == 1
        await student.wait_for("booth.presence", lambda p: p["staff"] == [])


async def test_booth_events_need_the_fair_and_the_room(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_campus
    async with connected(client, world, "student_a") as student:
        # Not in the fair yet.
        assert await student.call("booth.join", {"booth_id": booth}) == NOT_FOUND
        assert (await student.call("fair.join", {"fair": "campus"}))["ok"]
        # A booth of another fair is missing here.
        assert await student.call("booth.join", {"booth_id": world.booth_a_open}) == NOT_FOUND
        chat = {"booth_id": booth, "body": "hi", "client_id": "c1"}
        assert await student.call("booth.chat", chat) == NOT_FOUND  # not joined
        assert (await student.call("booth.join", {"booth_id": booth}))["ok"]
        assert (await student.call("booth.chat", chat))["ok"]
        spoofed = await student.call("booth.chat", {**chat, "sender": 1, "html": "<b>"})
        assert spoofed["error"]["code"] == "request.invalid"
        too_long = await student.call("booth.chat", {**chat, "body": "x" * 2001})
        assert too_long["error"]["code"] == "request.invalid"
    async with client.app[DB].connect() as conn:
        count = await conn.execute(sa.select(sa.func.count()).select_from(t.chat_messages))
        assert count.scalar() == 1


# --- chat (B4) -------------------------------------------------------------------------


async def test_lobby_chat_round_trip_is_numbered_and_stored_once(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_campus
    body = "<svg onload=alert(1)> hello"
    async with (
        connected(client, world, "student_a") as student,
        connected(client, world, "recruiter_a") as recruiter,
    ):
        seen = (await enter(student, "campus", booth))["last_event_id"]
        await enter(recruiter, "campus", booth)
        chat = {"booth_id": booth, "body": body, "client_id": "m-1"}
        first = await ok(student, "booth.chat", chat)
        retry = await ok(student, "booth.chat", chat)
        assert first["duplicate"] is False and retry["duplicate"] is True
        assert retry["id"] == first["id"] and first["seq"] == seen + 1
        message = await recruiter.wait_for("booth.message")
        assert message["body"] == body and message["seq"] == first["seq"]
        assert message["author"] == "student_a" and message["staff"] is False
        await ok(recruiter, "booth.chat", {"booth_id": booth, "body": "welcome", "client_id": "r"})
        staff_line = await student.wait_for("booth.message", lambda m: m["body"] == "welcome")
        assert staff_line["staff"] is True
        await asyncio.sleep(0.1)
        # One broadcast per message, however often the client retried.
        assert [m["body"] for m in recruiter.received["booth.message"]] == [body, "welcome"]
        # The lobby history in a later snapshot is the same plain text.
        async with connected(client, world, "organiser_a") as late:
            history = (await enter(late, "campus", booth))["messages"]
        assert [m["body"] for m in history] == [body, "welcome"]
        # Staff (and the fair's organisers) can remove a lobby message: numbered too.
        deleted = await ok(
            recruiter, "booth.chat_delete", {"booth_id": booth, "message_id": first["id"]}
        )
        event = await student.wait_for("booth.message_deleted")
        assert event == {
            "booth_id": booth,
            "room": f"booth:{booth}",
            "seq": deleted["seq"],
            "id": first["id"],
        }
        refused = await student.call(
            "booth.chat_delete", {"booth_id": booth, "message_id": first["id"]}
        )
        assert refused == NOT_FOUND
    async with client.app[DB].connect() as conn:
        rows = (await conn.execute(sa.select(t.chat_messages))).mappings().all()
    assert [(r["body"], r["deleted_at"] is not None) for r in rows] == [
        (body, True),
        ("welcome", False),
    ]


async def test_chat_replays_after_reconnect(client: TestClient[Any, Any], world: World) -> None:
    booth = world.booth_a_campus
    async with connected(client, world, "recruiter_a") as recruiter:
        await enter(recruiter, "campus", booth)
        async with connected(client, world, "student_a") as student:
            seen = (await enter(student, "campus", booth))["last_event_id"]
        for n in range(3):
            await ok(
                recruiter, "booth.chat", {"booth_id": booth, "body": f"m{n}", "client_id": f"c{n}"}
            )
        async with connected(client, world, "student_a") as student:
            snapshot = await enter(student, "campus", booth, after=seen)
    assert [m["payload"]["body"] for m in snapshot["missed"]] == ["m0", "m1", "m2"]
    assert [m["seq"] for m in snapshot["missed"]] == [seen + 1, seen + 2, seen + 3]


async def test_private_messages_reach_only_the_pair(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_campus
    student_id, recruiter_id = world.users["student_a"], world.users["recruiter_a"]
    async with (
        connected(client, world, "student_a") as student,
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "organiser_a") as organiser,
    ):
        await enter(recruiter, "campus", booth)
        await enter(organiser, "campus", booth)
        dm = {"booth_id": booth, "to_user_id": student_id, "body": "<b>hi</b>", "client_id": "d1"}
        # The student is neither in the booth nor in its queue yet.
        assert await recruiter.call("booth.dm", dm) == NOT_FOUND
        await enter(student, "campus", booth)
        sent = await ok(recruiter, "booth.dm", dm)
        assert (await ok(recruiter, "booth.dm", dm))["duplicate"] is True
        got = await student.wait_for("booth.dm")
        assert got["body"] == "<b>hi</b>" and got["recipient_id"] == student_id
        assert got["author_id"] == recruiter_id and sent["id"] == got["id"]
        reply = {"booth_id": booth, "to_user_id": recruiter_id, "body": "thanks", "client_id": "d2"}
        await ok(student, "booth.dm", reply)
        await recruiter.wait_for("booth.dm", lambda m: m["body"] == "thanks")
        # Neither the organiser nor anyone else may use or see the private line.
        assert await organiser.call("booth.dm", {**dm, "client_id": "o1"}) == NOT_FOUND
        to_other = {**reply, "to_user_id": world.users["recruiter_b"], "client_id": "d3"}
        assert await student.call("booth.dm", to_other) == NOT_FOUND
        await asyncio.sleep(0.1)
        assert "booth.dm" not in organiser.received
        assert "booth.message" not in organiser.received
        # Replay shows a private message to its two people only.
        async with connected(client, world, "organiser_a") as late:
            missed = (await enter(late, "campus", booth, after=0))["missed"]
        assert missed == []
        async with connected(client, world, "student_a") as again:
            missed = (await enter(again, "campus", booth, after=0))["missed"]
        assert [m["payload"]["body"] for m in missed] == ["<b>hi</b>", "thanks"]


# --- the queue (B5) --------------------------------------------------------------------


async def test_queue_positions_eta_call_and_served_chat(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_open
    a, b = world.users["student_a"], world.users["student_b"]
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as first,
        connected(client, world, "student_b") as second,
    ):
        await enter(recruiter, "open", booth)
        await enter(first, "open", booth)
        await enter(second, "open", booth)
        mine = await ok(first, "booth.queue_join", {"booth_id": booth})
        # One recruiter online, no chat served yet: 1 × 5 minutes.
        assert (mine["state"], mine["position"], mine["eta_seconds"]) == ("waiting", 1, 300)
        assert (await ok(first, "booth.queue_join", {"booth_id": booth}))["entry_id"] == mine[
            "entry_id"
        ]
        mine = await ok(second, "booth.queue_join", {"booth_id": booth})
        assert (mine["position"], mine["eta_seconds"], mine["length"]) == (2, 600, 2)
        await first.wait_for("booth.queue", lambda e: e["length"] == 2)
        listing = await recruiter.wait_for("booth.queue_list", lambda e: e["length"] == 2)
        assert [(r["student_id"], r["position"]) for r in listing["entries"]] == [(a, 1), (b, 2)]
        # Students never see the list of names.
        assert "booth.queue_list" not in first.received
        called = (await ok(recruiter, "booth.queue_next", {"booth_id": booth}))["called"]
        assert called["student_id"] == a
        call = await first.wait_for("booth.called")
        assert call["booth_id"] == booth and call["recruiter"] == "recruiter_a"
        assert call["company"] == "Company A" and call["expires_at"] == called["expires_at"]
        moved = await second.wait_for("booth.queue_position", lambda e: e["position"] == 1)
        assert moved["eta_seconds"] == 300 and moved["length"] == 1
        assert (await ok(first, "booth.call_accept", {"booth_id": booth}))["state"] == "chatting"
        await recruiter.wait_for("booth.call_accepted", lambda e: e["student_id"] == a)
        # Only a chat in progress can end as served.
        not_chatting = await recruiter.call("booth.chat_end", {"booth_id": booth, "student_id": b})
        assert not_chatting["error"]["code"] == "booth.not_in_chat"
        await asyncio.sleep(0.2)
        await ok(recruiter, "booth.chat_end", {"booth_id": booth, "student_id": a})
        ended = await first.wait_for("booth.queue_ended")
        assert ended["outcome"] == "served"
        # The served chat now sets the ETA: it lasted a fraction of a second, so 1 s.
        state = await ok(second, "booth.queue_join", {"booth_id": booth})
        assert (state["position"], state["eta_seconds"]) == (1, 1)
    outcomes = [(e["student_id"], e["outcome"]) for e in await entries(client)]
    assert outcomes == [(a, "served"), (b, None)]


async def test_a_call_expires_and_both_sides_see_it(
    client: TestClient[Any, Any], world: World, fast_queue: None
) -> None:
    booth = world.booth_a_open
    a = world.users["student_a"]
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as student,
    ):
        await enter(recruiter, "open", booth)
        await enter(student, "open", booth)
        await ok(student, "booth.queue_join", {"booth_id": booth})
        await ok(recruiter, "booth.queue_next", {"booth_id": booth})
        await student.wait_for("booth.called")
        # Nobody acts: the server's own timer ends the call.
        expired = await student.wait_for("booth.call_expired", timeout=3)
        assert expired["outcome"] == "timeout" and expired["student_id"] == a
        await recruiter.wait_for("booth.call_expired", timeout=3)
        late = await student.call("booth.call_accept", {"booth_id": booth})
        assert late["error"]["code"] == "booth.call_expired"
        again = await ok(student, "booth.join", {"booth_id": booth})
        assert again["queue"] == {"length": 0, "state": "none", "last_outcome": "timeout"}
    assert [e["outcome"] for e in await entries(client)] == ["timeout"]


async def test_a_student_in_two_queues_is_called_by_one_booth_at_a_time(
    client: TestClient[Any, Any], world: World
) -> None:
    a_booth, b_booth = world.booth_a_open, world.booth_b_open
    async with (
        connected(client, world, "recruiter_a") as recruiter_a,
        connected(client, world, "recruiter_b") as recruiter_b,
        connected(client, world, "student_a") as student,
    ):
        await enter(recruiter_a, "open", a_booth)
        await enter(recruiter_b, "open", b_booth)
        await enter(student, "open", a_booth)
        await ok(student, "booth.queue_join", {"booth_id": a_booth})
        await ok(student, "booth.join", {"booth_id": b_booth})
        await ok(student, "booth.queue_join", {"booth_id": b_booth})
        first, second = await asyncio.gather(
            ok(recruiter_a, "booth.queue_next", {"booth_id": a_booth}),
            ok(recruiter_b, "booth.queue_next", {"booth_id": b_booth}),
        )
        assert [first["called"] is None, second["called"] is None].count(True) == 1
        winner, loser = (a_booth, b_booth) if first["called"] else (b_booth, a_booth)
        await student.wait_for("booth.called", lambda e: e["booth_id"] == winner)
        # Declining frees the student for the other booth, where the place was kept.
        await ok(student, "booth.call_decline", {"booth_id": winner})
        other = recruiter_b if loser == b_booth else recruiter_a
        again = await ok(other, "booth.queue_next", {"booth_id": loser})
        assert again["called"]["student_id"] == world.users["student_a"]
    assert sorted(str(e["outcome"]) for e in await entries(client)) == ["None", "declined"]


async def test_skip_and_leave_are_told_and_positions_move(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_open
    a, b, c = (world.users[k] for k in ("student_a", "student_b", "unverified_a"))
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as first,
        connected(client, world, "student_b") as second,
        connected(client, world, "unverified_a") as third,
    ):
        await enter(recruiter, "open", booth)
        for sock in (first, second, third):
            await enter(sock, "open", booth)
            await ok(sock, "booth.queue_join", {"booth_id": booth})
        skip = {"booth_id": booth, "student_id": a, "reason": "Only engineers today"}
        assert (await ok(recruiter, "booth.queue_skip", skip))["outcome"] == "skipped"
        told = await first.wait_for("booth.queue_ended")
        assert (told["outcome"], told["reason"]) == ("skipped", "Only engineers today")
        await third.wait_for("booth.queue_position", lambda e: e["position"] == 2)
        await ok(second, "booth.queue_leave", {"booth_id": booth})
        await recruiter.wait_for(
            "booth.queue_ended", lambda e: e["student_id"] == b and e["outcome"] == "left"
        )
        await third.wait_for("booth.queue_position", lambda e: e["position"] == 1)
        assert await second.call("booth.queue_leave", {"booth_id": booth}) == NOT_FOUND
    outcomes = [(e["student_id"], e["outcome"]) for e in await entries(client)]
    assert outcomes == [(a, "skipped"), (b, "left"), (c, None)]


async def test_a_disconnected_student_keeps_the_place_for_a_grace_period(
    client: TestClient[Any, Any], world: World, fast_queue: None
) -> None:
    booth = world.booth_a_open
    a = world.users["student_a"]
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_b") as second,
    ):
        await enter(recruiter, "open", booth)
        async with connected(client, world, "student_a") as first:
            await enter(first, "open", booth)
            await ok(first, "booth.queue_join", {"booth_id": booth})
        await enter(second, "open", booth)
        assert (await ok(second, "booth.queue_join", {"booth_id": booth}))["position"] == 2
        # Gone for longer than the grace: the place ends as "left", for all to see.
        ended = await recruiter.wait_for(
            "booth.queue_ended", lambda e: e["student_id"] == a, timeout=3
        )
        assert (ended["outcome"], ended["reason"]) == ("left", "disconnected")
        await second.wait_for("booth.queue_position", lambda e: e["position"] == 1, timeout=3)


async def test_reconnecting_within_the_grace_keeps_the_place(
    client: TestClient[Any, Any], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(booth_queue, "GRACE_SECONDS", 0.6)
    booth = world.booth_a_open
    async with connected(client, world, "recruiter_a") as recruiter:
        await enter(recruiter, "open", booth)
        async with connected(client, world, "student_a") as first:
            await enter(first, "open", booth)
            await ok(first, "booth.queue_join", {"booth_id": booth})
        async with connected(client, world, "student_a") as back:
            listing = await recruiter.wait_for(
                "booth.queue_list", lambda e: e["entries"] and e["entries"][0]["away"]
            )
            assert listing["length"] == 1
            snapshot = await enter(back, "open", booth)
            assert (snapshot["queue"]["state"], snapshot["queue"]["position"]) == ("waiting", 1)
            await asyncio.sleep(0.8)
            called = await ok(recruiter, "booth.queue_next", {"booth_id": booth})
            assert called["called"]["student_id"] == world.users["student_a"]
    assert [e["outcome"] for e in await entries(client)] == [None]


# --- candidates (B7) -------------------------------------------------------------------


async def add_colleague(client: TestClient[Any, Any], world: World) -> int:
    """A second recruiter of company A, to hand candidates over to."""
    password_hash = await client.app[PASSWORDS].hash(PASSWORD)
    async with client.app[DB].begin() as conn:
        user_id = await accounts.insert_user(
            conn,
            email="colleague_a@test.fair",
            password_hash=password_hash,
            display_name="colleague_a",
            role="recruiter",
            company_id=world.company_a,
        )
        await conn.execute(
            t.student_profiles.update()
            .where(t.student_profiles.c.user_id == world.users["student_a"])
            .values(resume="Ten years of <script>alert(1)</script> pipelines")
        )
    world.users["colleague_a"] = user_id
    world.emails["colleague_a"] = "colleague_a@test.fair"
    return user_id


async def test_candidate_view_marks_and_handover_stay_in_the_company(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_open
    a = world.users["student_a"]
    colleague_id = await add_colleague(client, world)
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "colleague_a") as colleague,
        connected(client, world, "recruiter_b") as rival,
        connected(client, world, "student_a") as student,
    ):
        await enter(recruiter, "open", booth)
        await enter(rival, "open", world.booth_b_open)
        assert (await rival.call("booth.join", {"booth_id": booth}))["ok"]  # a visitor there
        await enter(student, "open", booth)
        ask = {"booth_id": booth, "student_id": a}
        # Not in the queue yet: not the staff's business.
        assert await recruiter.call("booth.candidate", ask) == NOT_FOUND
        await ok(student, "booth.queue_join", {"booth_id": booth})
        profile = await ok(recruiter, "booth.candidate", ask)
        assert profile["real_name"] == "Student A" and profile["school"] == "School A"
        assert (profile["major"], profile["degree"], profile["graduation_year"]) == (
            "Petrochemistry",
            "diploma",
            2027,
        )
        assert profile["resume"].startswith("Ten years of <script>")
        assert profile["verified"] is True and profile["marks"] == []
        mark = {**ask, "interest": "yes", "note": "Strong on safety", "handed_to": colleague_id}
        stored = await ok(recruiter, "booth.mark", mark)
        handover = await colleague.wait_for("booth.handover")
        assert handover["student_id"] == a and handover["from_name"] == "recruiter_a"
        assert (handover["interest"], handover["note"]) == ("yes", "Strong on safety")
        marks = (await ok(recruiter, "booth.candidate", ask))["marks"]
        assert [(m["id"], m["author"], m["handed_to_name"]) for m in marks] == [
            (stored["id"], "recruiter_a", "colleague_a")
        ]
        # Another company's recruiter: the same answer as for a missing student.
        for event, payload in (
            ("booth.candidate", ask),
            ("booth.mark", {**ask, "interest": "no", "note": "x"}),
            ("booth.queue_next", {"booth_id": booth}),
            ("booth.queue_skip", ask),
            ("booth.chat_end", ask),
        ):
            assert await rival.call(event, payload) == NOT_FOUND, event
        # A handover only goes to a colleague of the same company.
        elsewhere = {**mark, "handed_to": world.users["recruiter_b"]}
        assert await recruiter.call("booth.mark", elsewhere) == NOT_FOUND
        too_long = await recruiter.call(
            "booth.mark", {**ask, "interest": "yes", "note": "x" * 5001}
        )
        assert too_long["error"]["code"] == "request.invalid"
        await asyncio.sleep(0.1)
        assert "booth.handover" not in rival.received and "booth.handover" not in student.received
    async with client.app[DB].connect() as conn:
        rows = (await conn.execute(sa.select(t.candidate_marks))).mappings().all()
    assert [(r["company_id"], r["handed_to"]) for r in rows] == [(world.company_a, colleague_id)]


# --- every event, every role -----------------------------------------------------------

SOCKET_ROLES = tuple(role for role in ROLES if role != "anonymous")
CAMPUS_VIEWERS = ("student_a", "recruiter_a", "organiser_a", "admin")


def allowed(*roles: str) -> dict[str, str]:
    return {role: "ok" if role in roles else "not_found" for role in SOCKET_ROLES}


# Canonical scenario: the campus fair's booth of company A, as seen by each role.
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "booth.join": allowed(*CAMPUS_VIEWERS),
    "booth.leave": allowed(*CAMPUS_VIEWERS),
    "booth.heartbeat": allowed(*CAMPUS_VIEWERS),
    "booth.status": allowed("recruiter_a"),
    "booth.chat": allowed(*CAMPUS_VIEWERS),
    "booth.chat_delete": allowed("recruiter_a", "organiser_a", "admin"),
    "booth.dm": allowed("student_a", "recruiter_a"),
    "booth.queue_join": allowed("student_a"),
    "booth.queue_leave": allowed("student_a"),
    "booth.queue_next": allowed("recruiter_a"),
    "booth.queue_skip": allowed("recruiter_a"),
    "booth.call_accept": allowed("student_a"),
    "booth.call_decline": allowed("student_a"),
    "booth.chat_end": allowed("recruiter_a"),
    "booth.candidate": allowed("recruiter_a"),
    "booth.mark": allowed("recruiter_a"),
}


class Scene:
    """Helpers that set the stage (a queued, called or chatting student_a) for one event."""

    def __init__(self, client: TestClient[Any, Any], world: World, stack: AsyncExitStack) -> None:
        self.client, self.world, self.stack = client, world, stack
        self.booth = world.booth_a_campus

    async def helper(self, who: str) -> Client:
        sock = await self.stack.enter_async_context(connected(self.client, self.world, who))
        await enter(sock, "campus", self.booth)
        return sock

    async def queued(self) -> Client:
        student = await self.helper("student_a")
        await ok(student, "booth.queue_join", {"booth_id": self.booth})
        return student

    async def called(self) -> Client:
        student = await self.queued()
        recruiter = await self.helper("recruiter_a")
        assert (await ok(recruiter, "booth.queue_next", {"booth_id": self.booth}))["called"]
        return student

    async def chatting(self) -> None:
        student = await self.called()
        await ok(student, "booth.call_accept", {"booth_id": self.booth})


Scenario = Callable[[Client, Scene, str], Awaitable[dict[str, Any]]]


def _scenarios(world: World) -> dict[str, Scenario]:
    booth = world.booth_a_campus
    ref = {"booth_id": booth}
    student = {"booth_id": booth, "student_id": world.users["student_a"]}

    def simple(event: str, payload: dict[str, Any], setup: str = "") -> Scenario:
        async def run(sock: Client, scene: Scene, role: str) -> dict[str, Any]:
            if setup:
                await getattr(scene, setup)()
            return await sock.call(event, payload)

        return run

    async def delete(sock: Client, scene: Scene, role: str) -> dict[str, Any]:
        author = await scene.helper("student_a")
        message = await ok(author, "booth.chat", {**ref, "body": "hi", "client_id": "del"})
        return await sock.call("booth.chat_delete", {**ref, "message_id": message["id"]})

    async def private(sock: Client, scene: Scene, role: str) -> dict[str, Any]:
        await scene.helper("student_a")
        to = "recruiter_a" if role.startswith("student") else "student_a"
        payload = {**ref, "to_user_id": world.users[to], "body": "hi", "client_id": "dm"}
        return await sock.call("booth.dm", payload)

    return {
        "booth.join": simple("booth.join", ref),
        "booth.leave": simple("booth.leave", ref),
        "booth.heartbeat": simple("booth.heartbeat", ref),
        "booth.status": simple("booth.status", {**ref, "status": "busy"}),
        "booth.chat": simple("booth.chat", {**ref, "body": "hello", "client_id": "c"}),
        "booth.chat_delete": delete,
        "booth.dm": private,
        "booth.queue_join": simple("booth.queue_join", ref),
        "booth.queue_leave": simple("booth.queue_leave", ref, "queued"),
        "booth.queue_next": simple("booth.queue_next", ref, "queued"),
        "booth.queue_skip": simple("booth.queue_skip", student, "queued"),
        "booth.call_accept": simple("booth.call_accept", ref, "called"),
        "booth.call_decline": simple("booth.call_decline", ref, "called"),
        "booth.chat_end": simple("booth.chat_end", student, "chatting"),
        "booth.candidate": simple("booth.candidate", student, "queued"),
        "booth.mark": simple("booth.mark", {**student, "interest": "maybe"}, "queued"),
    }


async def _fresh_booth_state(client: TestClient[Any, Any]) -> None:
    """Between scenarios: every socket gone, no live state, no queue or chat history."""
    layer = client.app[SOCKETS]

    async def all_gone() -> bool:
        return not layer.connections

    await eventually(all_gone)
    assert layer.services is not None
    layer.services.live = MemoryLive()
    async with client.app[DB].begin() as conn:
        for table in (t.candidate_marks, t.queue_entries, t.chat_messages):
            await conn.execute(table.delete())


def test_every_registered_booth_event_has_a_decision() -> None:
    from fairserver.socket.booths import live as booth

    assert set(booth.events.specs) == set(SOCKET_DECISIONS)
    for decisions in SOCKET_DECISIONS.values():
        assert set(decisions) == set(SOCKET_ROLES)


@pytest.mark.parametrize("role", SOCKET_ROLES)
async def test_each_booth_event_decision_for(
    client: TestClient[Any, Any], world: World, role: str
) -> None:
    scenarios = _scenarios(world)
    assert set(scenarios) == set(SOCKET_DECISIONS)
    outcomes: dict[str, str] = {}
    for event, scenario in scenarios.items():
        await _fresh_booth_state(client)
        async with AsyncExitStack() as stack:
            sock = await stack.enter_async_context(connected(client, world, role))
            await sock.call("fair.join", {"fair": "campus"})
            if event != "booth.join":
                await sock.call("booth.join", {"booth_id": world.booth_a_campus})
            reply = await scenario(sock, Scene(client, world, stack), role)
        outcomes[event] = "ok" if reply["ok"] else reply["error"]["code"]
    assert outcomes == {event: SOCKET_DECISIONS[event][role] for event in scenarios}


# --- the page --------------------------------------------------------------------------


async def test_booth_page_carries_the_live_sections_per_role(
    client: TestClient[Any, Any], world: World
) -> None:
    url = f"/fairs/campus/booths/{world.booth_a_campus}"
    # Anonymous visitors see an open fair's booth, without the live part (sockets need a login).
    anonymous = await client.get(f"/fairs/open/booths/{world.booth_a_open}")
    assert anonymous.status == 200
    assert "booth-live" not in await anonymous.text()
    async with connected(client, world, "student_a") as student:
        await enter(student, "campus", world.booth_a_campus)
        await ok(
            student,
            "booth.chat",
            {"booth_id": world.booth_a_campus, "body": "<svg onload=alert(1)>", "client_id": "x"},
        )
    await world.login(client, "student_a")
    html = await (await client.get(url)).text()
    assert 'id="booth-live"' in html and 'data-student="true"' in html
    assert (
        "data-queue-join" in html and "data-call-dialog" in html and "data-queue-next" not in html
    )
    assert '<script type="module" src="/static/js/booth.js">' in html
    # Chat is never rendered into the page as markup; the script sets it as text.
    assert "<svg" not in html
    assert "<script>" not in html and " onload=" not in html
    await world.login(client, "recruiter_a")
    html = await (await client.get(url)).text()
    assert 'data-staff="true"' in html and "data-queue-next" in html and "data-mark-form" in html
    assert "data-queue-join" not in html
    for path in ("/static/js/booth.js", "/static/js/live.js", "/static/css/booth-live.css"):
        assert (await client.get(path)).status == 200, path
