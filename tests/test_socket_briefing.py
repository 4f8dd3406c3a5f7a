"""Briefing events end to end: a real server, real python-socketio clients, on the open
fair of school B, where company A (recruiter_a presenting) holds a briefing."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.auth import Actor
from fairserver.keys import DB, SOCKETS
from fairserver.rooms.briefings import chat as briefing_chat
from fairserver.rooms.briefings import live as briefing
from fairserver.rooms.briefings import qa as briefing_qa
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import attendance
from fairserver.store import briefings as briefing_store
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from tests.factories import ROLES, World
from tests.sockets import Client, connected

SVG = "<svg onload=alert(1)>"


async def make_briefing(client: TestClient[Any, Any], world: World, fair: str = "open") -> int:
    fair_id = world.open_fair if fair == "open" else world.campus_fair
    async with client.app[DB].begin() as conn:
        row = (await conn.execute(sa.select(t.fairs).where(t.fairs.c.id == fair_id))).one()
        return await briefing_store.insert_briefing(
            conn,
            fair_id,
            NewBriefing(
                company_id=world.company_a,
                title="Air briefing",
                starts_at=row.starts_at,
                ends_at=row.starts_at + timedelta(hours=1),
            ),
            [world.users["recruiter_a"]],
        )


@asynccontextmanager
async def seated(
    client: TestClient[Any, Any],
    world: World,
    who: str,
    briefing_id: int,
    after: int | None = None,
) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    """A socket for `who` that joined the open fair and the briefing."""
    async with connected(client, world, who) as sock:
        assert (await sock.call("fair.join", {"fair": "open"}))["ok"]
        data: dict[str, Any] = {"briefing_id": briefing_id}
        if after is not None:
            data["after"] = after
        reply = await sock.call("briefing.join", data)
        assert reply["ok"], reply
        yield sock, reply["data"]


def ok(reply: dict[str, Any]) -> Any:
    assert reply["ok"], reply
    return reply["data"]


async def test_question_flow_with_two_students_and_a_moderator(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    q = {"briefing_id": bid}
    async with (
        seated(client, world, "recruiter_a", bid) as (mod, mod_snap),
        seated(client, world, "student_a", bid) as (alice, _),
        seated(client, world, "student_b", bid) as (bob, _),
    ):
        assert mod_snap["me"]["moderator"] and mod_snap["viewers"] >= 1
        asked = ok(
            await alice.call(
                "briefing.ask",
                {**q, "body": f"{SVG} Offshore?", "anonymous": True, "client_id": "c1"},
            )
        )
        qid = asked["question"]["id"]
        pending = await mod.wait_for("briefing.question", lambda e: e["question"]["id"] == qid)
        assert pending["question"]["state"] == "pending"
        assert pending["question"]["author"] == "student_a"  # never anonymous to moderators
        assert pending["question"]["body"] == f"{SVG} Offshore?"  # text, rendered inert
        await alice.wait_for("briefing.question", lambda e: e["question"]["id"] == qid)

        ok(await mod.call("briefing.approve", {**q, "question_id": qid}))
        public = await bob.wait_for(
            "briefing.question", lambda e: e["question"]["state"] == "approved"
        )
        assert public["question"]["author"] is None and public["question"]["author_id"] is None
        # Bob saw nothing while it was pending: its first event is the approval.
        assert [e["question"]["state"] for e in bob.received["briefing.question"]] == ["approved"]

        votes = await asyncio.gather(
            bob.call("briefing.vote", {**q, "question_id": qid}),
            bob.call("briefing.vote", {**q, "question_id": qid}),
        )
        assert [ok(v)["votes"] for v in votes] == [1, 1]
        for sock in (mod, alice):
            await sock.wait_for(
                "briefing.votes", lambda e: {"question_id": qid, "votes": 1} in e["counts"]
            )
        # Moderators never vote or ask.
        assert (await mod.call("briefing.vote", {**q, "question_id": qid}))["error"][
            "code"
        ] == "not_found"
    async with client.app[DB].connect() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.question_votes))
        ).scalar()
    assert count == 1


async def test_dismissal_reason_reaches_the_asker_only(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    q = {"briefing_id": bid}
    async with (
        seated(client, world, "admin", bid) as (mod, _),
        seated(client, world, "student_a", bid) as (alice, _),
        seated(client, world, "student_b", bid) as (bob, _),
    ):
        qid = ok(await alice.call("briefing.ask", {**q, "body": "Salary?", "client_id": "c1"}))[
            "question"
        ]["id"]
        ok(await mod.call("briefing.dismiss", {**q, "question_id": qid, "reason": "See FAQ"}))
        dismissed = await alice.wait_for(
            "briefing.question", lambda e: e["question"]["state"] == "dismissed"
        )
        assert dismissed["question"]["dismiss_reason"] == "See FAQ"
        # A sentinel after the dismissal: anything for Bob would have arrived before it.
        ok(await mod.call("briefing.chat", {**q, "body": "sentinel", "client_id": "s"}))
        await bob.wait_for("briefing.message")
        assert bob.received["briefing.question"] == []
        rejoined = ok(await alice.call("briefing.join", q))
        mine = {x["id"]: x for x in rejoined["questions"]}
        assert mine[qid]["state"] == "dismissed" and mine[qid]["dismiss_reason"] == "See FAQ"
        assert ok(await bob.call("briefing.join", q))["questions"] == []


async def test_replay_of_missed_questions_after_reconnect(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    q = {"briefing_id": bid}
    async with seated(client, world, "organiser_b", bid) as (mod, _):
        async with seated(client, world, "student_b", bid) as (_bob, snap):
            seen = snap["last_event_id"]
        async with seated(client, world, "student_a", bid) as (alice, _):
            first = ok(await alice.call("briefing.ask", {**q, "body": "One", "client_id": "1"}))
            ok(await alice.call("briefing.ask", {**q, "body": "Two", "client_id": "2"}))
        ok(await mod.call("briefing.approve", {**q, "question_id": first["question"]["id"]}))
        async with seated(client, world, "student_b", bid, after=seen) as (_bob, snap):
            missed = snap["missed"]
    # Only the approval is Bob's to see; the pending questions are not.
    assert [(m["event"], m["payload"]["question"]["body"]) for m in missed] == [
        ("briefing.question", "One")
    ]
    assert missed[0]["seq"] > seen and snap["last_event_id"] == missed[0]["seq"]


async def test_chat_moderation(client: TestClient[Any, Any], world: World) -> None:
    bid = await make_briefing(client, world)
    q = {"briefing_id": bid}
    async with (
        seated(client, world, "recruiter_a", bid) as (mod, _),
        seated(client, world, "student_b", bid) as (bob, _),
    ):
        sent = ok(await bob.call("briefing.chat", {**q, "body": SVG, "client_id": "m1"}))
        again = ok(await bob.call("briefing.chat", {**q, "body": SVG, "client_id": "m1"}))
        assert again["duplicate"] and again["message"]["id"] == sent["message"]["id"]
        heard = await mod.wait_for("briefing.message")
        assert heard["message"]["body"] == SVG and heard["seq"] == sent["seq"]
        too_long = await bob.call("briefing.chat", {**q, "body": "x" * 1001, "client_id": "m2"})
        assert too_long["error"]["code"] == "request.invalid"

        mid = sent["message"]["id"]
        ok(await mod.call("briefing.delete_message", {**q, "message_id": mid}))
        deleted = await bob.wait_for("briefing.message_deleted")
        assert deleted["message_id"] == mid and deleted["seq"] > sent["seq"]
        assert ok(await mod.call("briefing.join", q))["messages"] == []

        ok(await mod.call("briefing.slow_mode", {**q, "seconds": 60}))
        await bob.wait_for("briefing.slow_mode", lambda e: e["seconds"] == 60)
        ok(await bob.call("briefing.chat", {**q, "body": "first", "client_id": "m3"}))
        slowed = await bob.call("briefing.chat", {**q, "body": "second", "client_id": "m4"})
        assert slowed["error"]["code"] == "briefing.slow_mode"
        assert "60 seconds" in slowed["error"]["message"]
        ok(await mod.call("briefing.slow_mode", {**q, "seconds": 0}))

        ok(await mod.call("briefing.slow_mode", {**q, "seconds": 0}))

    # Mute and ban, on a second student whose chat allowance is untouched.
    alice_id = world.users["student_a"]
    async with (
        seated(client, world, "recruiter_a", bid) as (mod, _),
        seated(client, world, "student_a", bid) as (alice, _),
    ):
        ok(await mod.call("briefing.mute", {**q, "user_id": alice_id, "minutes": 10}))
        await alice.wait_for("briefing.muted")
        muted = await alice.call("briefing.chat", {**q, "body": "hi", "client_id": "m5"})
        assert muted["error"]["code"] == "briefing.muted"
        asked = await alice.call("briefing.ask", {**q, "body": "hi", "client_id": "q1"})
        assert asked["error"]["code"] == "briefing.muted"

        ok(await mod.call("briefing.ban", {**q, "user_id": alice_id}))
        await alice.wait_for("briefing.banned")
        after_ban = await alice.call("briefing.chat", {**q, "body": "hi", "client_id": "m6"})
        assert after_ban["error"]["code"] == "not_found"
        assert (await alice.call("briefing.join", q))["error"]["code"] == "not_found"
        ok(await mod.call("briefing.unban", {**q, "user_id": alice_id}))
        ok(await alice.call("briefing.join", q))
        ok(await alice.call("briefing.chat", {**q, "body": "back", "client_id": "m7"}))


async def test_attendance_summary_after_joins_and_leaves(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "student_a", bid) as (alice, _):
        async with seated(client, world, "student_b", bid) as (bob, _):
            ok(await bob.call("briefing.leave", {"briefing_id": bid}))
            async with client.app[DB].connect() as conn:
                rows = (
                    (
                        await conn.execute(
                            sa.select(t.attendance.c.close_reason).where(
                                t.attendance.c.kind == "briefing"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            assert sorted(rows, key=str) == [None, "leave"]  # committed before the acks
        viewers = await alice.wait_for("briefing.viewers", lambda e: e["viewers"] == 1)
        assert viewers["room"] == f"briefing:{bid}"
    for _ in range(50):
        summary = await attendance.summary(client.app[DB], "briefing", bid)
        if summary.unique_viewers == 2:
            break
        await asyncio.sleep(0.05)
    assert summary.unique_viewers == 2 and summary.peak_concurrency == 2


async def test_reactions_are_summed(client: TestClient[Any, Any], world: World) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "student_a", bid) as (alice, _):
        for kind in ("👏", "👏", "🤔"):
            ok(await alice.call("briefing.react", {"briefing_id": bid, "kind": kind}))
        bad = await alice.call("briefing.react", {"briefing_id": bid, "kind": "💩"})
        assert bad["error"]["code"] == "request.invalid"
        tally = await alice.wait_for("briefing.reactions")
    assert tally["counts"] == {"👏": 2, "🤔": 1}


async def test_briefings_need_their_fair_joined(client: TestClient[Any, Any], world: World) -> None:
    bid = await make_briefing(client, world)
    campus_bid = await make_briefing(client, world, fair="campus")
    async with connected(client, world, "student_a") as sock:
        assert (await sock.call("briefing.join", {"briefing_id": bid}))["error"][
            "code"
        ] == "not_found"
        ok(await sock.call("fair.join", {"fair": "open"}))
        other_fair = await sock.call("briefing.join", {"briefing_id": campus_bid})
        missing = await sock.call("briefing.join", {"briefing_id": 999999})
        not_joined = await sock.call(
            "briefing.chat", {"briefing_id": bid, "body": "x", "client_id": "1"}
        )
    assert (
        other_fair
        == missing
        == not_joined
        == {
            "ok": False,
            "error": {"code": "not_found", "message": "not found"},
        }
    )


# The Q&A export ------------------------------------------------------------------------


async def test_questions_csv_for_moderators_only(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    q = {"briefing_id": bid}
    async with seated(client, world, "student_a", bid) as (alice, _):
        ok(
            await alice.call(
                "briefing.ask",
                {**q, "body": '=HYPERLINK("x")', "anonymous": True, "client_id": "c1"},
            )
        )
    url = f"/fairs/open/briefings/{bid}/questions.csv"
    statuses = {}
    for who in ("student_a", "student_b", "recruiter_b", "organiser_a", "recruiter_a"):
        await world.login(client, who)
        response = await client.get(url)
        statuses[who] = response.status
    assert statuses == {
        "student_a": 404,
        "student_b": 404,
        "recruiter_b": 404,  # another company's recruiter
        "organiser_a": 404,  # another school's organiser
        "recruiter_a": 200,
    }
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["asker"] == "student_a" and rows[0]["anonymous"] == "yes"
    assert rows[0]["question"] == '\'=HYPERLINK("x")' and rows[0]["state"] == "pending"
    assert rows[0]["votes"] == "0" and rows[0]["answered_at"] == ""
    assert (await client.get(f"/fairs/open/briefings/{bid + 100}/questions.csv")).status == 404


# Every briefing.* event for every role ------------------------------------------------------

MODERATORS = {"recruiter_a", "organiser_b", "admin"}  # of company A's briefing at the open fair
SIGNED_IN = [r for r in ROLES if r != "anonymous"]


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


STUDENTS = {"student_a", "student_b"}
EVERYONE = set(SIGNED_IN)
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "briefing.join": _row(EVERYONE),
    "briefing.ask": _row(STUDENTS),
    "briefing.vote": _row(STUDENTS),
    "briefing.unvote": _row(STUDENTS),
    "briefing.approve": _row(MODERATORS),
    "briefing.pin": _row(MODERATORS),
    "briefing.unpin": _row(MODERATORS),
    "briefing.answer": _row(MODERATORS),
    "briefing.dismiss": _row(MODERATORS),
    "briefing.chat": _row(EVERYONE),
    "briefing.slow_mode": _row(MODERATORS),
    "briefing.delete_message": _row(MODERATORS),
    "briefing.mute": _row(MODERATORS),
    "briefing.ban": _row(MODERATORS),
    "briefing.unban": _row(MODERATORS),
    "briefing.react": _row(EVERYONE),
    "briefing.leave": _row(EVERYONE),
}


async def _fixtures(client: TestClient[Any, Any], world: World, bid: int) -> dict[str, int]:
    """Made through the services of the running server: questions and a message to act on."""
    services: Services = client.app[SOCKETS].services

    def actor(who: str, role: str) -> Actor:
        return Actor(user_id=world.users[who], role=role, display_name=who)

    asker, admin = actor("unverified_a", "student"), actor("admin", "admin")
    seat = briefing.Seat(bid, world.open_fair, world.company_a, "scheduled", moderator=False)
    mod = briefing.Seat(bid, world.open_fair, world.company_a, "scheduled", moderator=True)
    ids = {}
    for name in ("public", "pending", "pending2"):
        reply = (await briefing_qa.ask(services, asker, seat, f"{name}?", False, name)).model_dump(
            mode="json"
        )
        ids[name] = reply["question"]["id"]
    await briefing_qa.moderate(services, mod, ids["public"], "approve")
    posted = await briefing_chat.chat(services, admin, mod, "hello", "m")
    ids["message"] = posted.model_dump(mode="json")["message"]["id"]
    return ids


def _scenario(bid: int, ids: dict[str, int], target: int) -> list[tuple[str, dict[str, Any]]]:
    b = {"briefing_id": bid}
    return [
        ("briefing.join", b),
        ("briefing.ask", {**b, "body": "Where?", "client_id": "decision"}),
        ("briefing.vote", {**b, "question_id": ids["public"]}),
        ("briefing.unvote", {**b, "question_id": ids["public"]}),
        ("briefing.approve", {**b, "question_id": ids["pending"]}),
        ("briefing.pin", {**b, "question_id": ids["public"]}),
        ("briefing.unpin", {**b, "question_id": ids["public"]}),
        ("briefing.answer", {**b, "question_id": ids["pending"]}),
        ("briefing.dismiss", {**b, "question_id": ids["pending2"], "reason": "Later"}),
        ("briefing.chat", {**b, "body": "Hello", "client_id": "decision"}),
        ("briefing.slow_mode", {**b, "seconds": 0}),
        ("briefing.delete_message", {**b, "message_id": ids["message"]}),
        ("briefing.mute", {**b, "user_id": target, "minutes": 5}),
        ("briefing.ban", {**b, "user_id": target}),
        ("briefing.unban", {**b, "user_id": target}),
        ("briefing.react", {**b, "kind": "👍"}),
        ("briefing.leave", b),
    ]


def outcome(reply: dict[str, Any]) -> str:
    return "ok" if reply["ok"] else str(reply["error"]["code"])


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_briefing_event_decisions(
    client: TestClient[Any, Any], world: World, role: str
) -> None:
    bid = await make_briefing(client, world)
    ids = await _fixtures(client, world, bid)
    scenario = _scenario(bid, ids, world.users["unverified_a"])
    async with connected(client, world, role) as sock:
        assert (await sock.call("fair.join", {"fair": "open"}))["ok"]
        seen = {event: outcome(await sock.call(event, data)) for event, data in scenario}
    assert seen == {event: SOCKET_DECISIONS[event][role] for event, _ in scenario}
    assert set(SOCKET_DECISIONS) == {event for event, _ in scenario}


async def test_briefing_page_loads_the_live_ui_for_signed_in_people(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    page = await client.get(f"/fairs/open/briefings/{bid}")
    anonymous = await page.text()
    assert "Log in to ask questions and chat." in anonymous
    assert "/static/js/briefing.js" not in anonymous
    await world.login(client, "student_b")
    html = await (await client.get(f"/fairs/open/briefings/{bid}")).text()
    assert '<script type="module" src="/static/js/briefing.js"></script>' in html
    assert 'data-t-viewers="%(n)s watching"' in html and 'id="stage"' in html
    assert 'data-t-video-viewers="Video to %(n)s viewers"' in html
