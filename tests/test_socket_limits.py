"""Limits of the socket layer, against the real in-process server: huge frames, bodies just
over the limit, a flood from one client, and markup in chat that must stay plain text."""

from __future__ import annotations

import asyncio
import re
import resource
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import tables as t
from tests.factories import World
from tests.sockets import Client, connected
from tests.test_socket_briefing import SVG, make_briefing, seated

JS = Path(__file__).parent.parent / "web" / "static" / "js"
MEGABYTE_BODY = "x" * 1_000_000
FLOOD = 1000
CHAT_BURST = 5  # briefing.chat: Rate(per_second=1, burst=5)
ATTACKERS = ("student_a", "recruiter_b", "organiser_b", "admin")


def rss_bytes() -> int:
    """The resident set size of this process (the server runs in it here)."""
    statm = Path("/proc/self/statm").read_text().split()
    return int(statm[1]) * resource.getpagesize()


async def messages_by(client: TestClient[Any, Any], world: World, who: str) -> list[str]:
    async with client.app[DB].connect() as conn:
        rows = await conn.execute(
            sa.select(t.chat_messages.c.client_id).where(
                t.chat_messages.c.author_id == world.users[who]
            )
        )
        return list(rows.scalars())


async def dropped_or_refused(sock: Client, event: str, data: dict[str, Any]) -> str:
    """Sends an oversized frame: the server either drops the connection or answers an error.

    (A python-socketio client never fails a pending ack on disconnect, so watch both.)
    """
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await sock.sio.emit(event, data, callback=lambda reply=None: answered.set_result(reply))
    deadline = time.monotonic() + 5
    while not answered.done() and sock.sio.connected:
        assert time.monotonic() < deadline, "neither an answer nor a dropped connection"
        await asyncio.sleep(0.01)
    if not answered.done():
        return "dropped"
    reply = answered.result()
    assert not reply["ok"], reply
    return str(reply["error"]["code"])


async def test_a_megabyte_frame_is_refused_without_harm(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    room = {"briefing_id": bid}
    async with seated(client, world, "student_b", bid) as (bystander, _):
        outcomes = []
        before = rss_bytes()
        for n in range(20):
            # Fresh connections from several users (briefing.join allows a burst of 10 each).
            who = ATTACKERS[n % len(ATTACKERS)]
            async with seated(client, world, who, bid) as (attacker, _):
                big = {**room, "body": MEGABYTE_BODY, "client_id": f"big-{n}"}
                outcomes.append(await dropped_or_refused(attacker, "briefing.chat", big))
        growth = rss_bytes() - before
        # The bystander's socket still works, and quickly.
        reply = await bystander.call(
            "briefing.chat", {**room, "body": "still here", "client_id": "ok-1"}, timeout=2
        )
        assert reply["ok"], reply
    assert set(outcomes) <= {"dropped", "request.invalid", "request.too_large"}, outcomes
    for who in ATTACKERS:
        assert await messages_by(client, world, who) == []
    assert growth < 50 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB"


async def test_an_announcement_of_a_megabyte_is_refused_too(
    client: TestClient[Any, Any], world: World
) -> None:
    async with connected(client, world, "organiser_a") as organiser:
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        big = {"body": MEGABYTE_BODY, "client_id": "big"}
        assert await dropped_or_refused(organiser, "fair.announce", big) in {
            "dropped",
            "request.invalid",
        }
    async with client.app[DB].connect() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.announcements))
        ).scalar()
    assert count == 0


async def test_a_body_just_over_the_limit_is_invalid_and_the_socket_stays_usable(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    booth = {"booth_id": world.booth_a_open}
    async with seated(client, world, "student_a", bid) as (sock, _):
        assert (await sock.call("booth.join", booth))["ok"]
        cases = [
            ("booth.chat", booth, 2000),
            ("briefing.chat", {"briefing_id": bid}, 1000),
        ]
        for event, where, limit in cases:
            too_long = await sock.call(
                event, {**where, "body": "y" * (limit + 1), "client_id": "a"}
            )
            assert not too_long["ok"]
            assert too_long["error"]["code"] == "request.invalid"
            assert "body" in too_long["error"]["fields"]
            # (client ids are unique per author across every room: use fresh ones)
            at_limit = await sock.call(
                event, {**where, "body": "y" * limit, "client_id": f"{event}-b"}
            )
            assert at_limit["ok"], at_limit
    # One message per room was stored: the one at the limit.
    assert sorted(await messages_by(client, world, "student_a")) == [
        "booth.chat-b",
        "briefing.chat-b",
    ]


async def _sample_acks(
    sock: Client,
    room: dict[str, Any],
    flooding: asyncio.Event,
    flood_replies: list[dict[str, Any]],
    seen: list[int],
) -> None:
    """Chats (within its own burst) while the flood lasts; for each ack, notes how many of
    the flood's acks had arrived by then."""
    for n in range(1, CHAT_BURST):  # message 0 warmed the path up before the flood
        if not flooding.is_set():
            return
        reply = await sock.call("briefing.chat", {**room, "body": f"m{n}", "client_id": f"s{n}"})
        seen.append(len(flood_replies))
        assert reply["ok"], reply


async def _flood(
    sock: Client, room: dict[str, Any], replies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Sends FLOOD chats back to back, without waiting for acks; returns every ack."""
    all_answered = asyncio.Event()

    def answered(reply: dict[str, Any]) -> None:
        replies.append(reply)
        if len(replies) == FLOOD:
            all_answered.set()

    for n in range(FLOOD):
        chat = {**room, "body": f"flood {n}", "client_id": f"f{n}"}
        await sock.sio.emit("briefing.chat", chat, callback=answered)
    await asyncio.wait_for(all_answered.wait(), 30)
    return replies


async def test_a_flood_is_rate_limited_and_does_not_starve_others(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    room = {"briefing_id": bid}
    flood_replies: list[dict[str, Any]] = []
    seen: list[int] = []  # per ack of another client: the flood's acks that came before it
    async with (
        seated(client, world, "student_a", bid) as (flooder, _),
        seated(client, world, "student_b", bid) as (s1, _),
        seated(client, world, "recruiter_b", bid) as (s2, _),
        seated(client, world, "organiser_b", bid) as (s3, _),
        seated(client, world, "admin", bid) as (s4, _),
    ):
        # Warm up: the first write of each connection is slower, flood or not.
        for sock in (s1, s2, s3, s4):
            warm = {**room, "body": "hello", "client_id": "s0"}
            assert (await sock.call("briefing.chat", warm))["ok"]
        flooding = asyncio.Event()
        flooding.set()
        started = time.monotonic()
        flood = asyncio.create_task(_flood(flooder, room, flood_replies))
        await asyncio.sleep(0)  # the flood's frames go out first
        samplers = [
            _sample_acks(sock, room, flooding, flood_replies, seen) for sock in (s1, s2, s3, s4)
        ]
        sampling = asyncio.gather(*samplers)
        replies = await flood
        elapsed = time.monotonic() - started
        flooding.clear()
        await asyncio.wait_for(sampling, 5)
    codes = [r["error"]["code"] for r in replies if not r["ok"]]
    accepted = [r for r in replies if r["ok"]]
    assert set(codes) == {"rate_limited"}
    # The burst, plus what the bucket refilled while the flood lasted.
    assert CHAT_BURST <= len(accepted) <= CHAT_BURST + int(elapsed) + 1
    assert len(codes) == FLOOD - len(accepted)
    # Only what was acknowledged is stored, once.
    stored = await messages_by(client, world, "student_a")
    assert len(stored) == len(set(stored)) == len(accepted)
    # Not starved: the others' messages are answered in between the flood's, not after
    # the whole flood (no clock involved: the order of the acks says it).
    during = [count for count in seen if count < FLOOD]
    assert len(seen) >= 8 and len(during) >= len(seen) // 2, (seen, elapsed)


async def test_markup_in_chat_round_trips_as_the_same_plain_text(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    booth = {"booth_id": world.booth_a_open}
    async with (
        seated(client, world, "student_a", bid) as (alice, _),
        seated(client, world, "recruiter_a", bid) as (recruiter, _),
    ):
        for sock in (alice, recruiter):
            assert (await sock.call("booth.join", booth))["ok"]
        sent = await alice.call(
            "briefing.chat", {"briefing_id": bid, "body": SVG, "client_id": "x"}
        )
        assert sent["ok"] and sent["data"]["message"]["body"] == SVG, sent
        heard = await recruiter.wait_for("briefing.message", lambda e: e["message"]["id"] > 0)
        assert heard["message"]["body"] == SVG
        sent = await alice.call("booth.chat", {**booth, "body": SVG, "client_id": "y"})
        assert sent["ok"] and sent["data"]["body"] == SVG, sent
        heard = await recruiter.wait_for("booth.message", lambda e: e["id"] == sent["data"]["id"])
        assert heard["body"] == SVG


# Assigning to innerHTML (or friends) anything but a constant string would render chat,
# names or questions as HTML. The clients must use textContent.
HTML_SINKS = re.compile(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b")
CONSTANT_ASSIGNMENT = re.compile(r"\.(innerHTML|outerHTML)\s*=\s*(\"[^\"`$]*\"|'[^'`$]*')\s*;")


def test_live_clients_never_put_user_text_into_html() -> None:
    offending = []
    for name in ("briefing.js", "booth.js", "live.js"):
        for number, line in enumerate((JS / name).read_text().splitlines(), 1):
            if HTML_SINKS.search(line) and not CONSTANT_ASSIGNMENT.search(line):
                offending.append(f"{name}:{number}: {line.strip()}")
    assert not offending, "\n".join(offending)


async def test_a_client_id_reused_in_another_room_is_refused_not_confused(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "student_a", bid) as (sock, _):
        assert (await sock.call("booth.join", {"booth_id": world.booth_a_open}))["ok"]
        booth_chat = {"booth_id": world.booth_a_open, "body": "hello booth", "client_id": "same"}
        assert (await sock.call("booth.chat", booth_chat))["ok"]
        reused = await sock.call(
            "briefing.chat", {"briefing_id": bid, "body": "hello briefing", "client_id": "same"}
        )
        assert reused["error"]["code"] == "request.client_id_reused"
        retry = await sock.call("booth.chat", booth_chat)
        assert retry["ok"] and retry["data"]["duplicate"]
    assert await messages_by(client, world, "student_a") == ["same"]


async def test_an_event_id_past_the_database_range_is_refused_before_anything_is_written(
    client: TestClient[Any, Any], world: World
) -> None:
    too_big = 2**63
    bid = await make_briefing(client, world)
    async with connected(client, world, "student_a") as sock:
        reply = await sock.call("fair.join", {"fair": "open", "after": too_big})
        assert reply["ok"] is False and reply["error"]["code"] == "request.invalid", reply
        async with client.app[DB].connect() as conn:
            opened = (
                await conn.execute(sa.select(sa.func.count()).select_from(t.attendance))
            ).scalar()
        assert opened == 0  # no interval was opened for the refused join
        assert (await sock.call("fair.join", {"fair": "open"}))["ok"]
        for event, ref in (
            ("booth.join", {"booth_id": world.booth_a_open}),
            ("briefing.join", {"briefing_id": bid}),
        ):
            reply = await sock.call(event, {**ref, "after": too_big})
            assert reply["ok"] is False and reply["error"]["code"] == "request.invalid", (
                event,
                reply,
            )
        # The largest id the log can hold is still a valid question.
        assert (
            await sock.call("booth.join", {"booth_id": world.booth_a_open, "after": 2**63 - 1})
        )["ok"]


async def test_an_unknown_event_is_answered_with_an_error(
    client: TestClient[Any, Any], world: World
) -> None:
    async with connected(client, world, "student_a") as sock:
        for name in ("no.such.event", "booth.joinx", "Booth.join"):
            reply = await sock.call(name, {"booth_id": 1}, timeout=5)
            assert reply["ok"] is False, (name, reply)
            assert reply["error"]["code"] == "request.unknown_event", (name, reply)
        # The socket is still served.
        assert (await sock.call("fair.join", {"fair": "open"}))["ok"]
