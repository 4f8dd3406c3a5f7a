"""The socket layer end to end: real server, real python-socketio clients."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.store import tables as t
from tests.factories import ROLES, World
from tests.sockets import Client, connected


async def test_connection_needs_a_session(client: TestClient[Any, Any]) -> None:
    sock = Client()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sock.sio.connect(str(client.make_url("")), transports=["websocket"])
    finally:
        await sock.http.close()


async def test_foreign_origin_is_refused(client: TestClient[Any, Any], world: World) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        async with connected(
            client, world, "student_a", headers={"Origin": "https://evil.example"}
        ):
            pass


async def test_forged_forwarded_host_is_refused(client: TestClient[Any, Any], world: World) -> None:
    headers = {
        "Origin": "https://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    with pytest.raises(socketio.exceptions.ConnectionError):
        async with connected(client, world, "student_a", headers=headers):
            pass


async def test_same_origin_is_accepted(client: TestClient[Any, Any], world: World) -> None:
    origin = str(client.make_url("")).rstrip("/")
    async with connected(client, world, "student_a", headers={"Origin": origin}) as sock:
        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]


async def test_join_opens_attendance_before_ack_and_leave_closes(
    client: TestClient[Any, Any], world: World
) -> None:
    async with connected(client, world, "student_a") as sock:
        reply = await sock.call("fair.join", {"fair": "campus"})
        assert reply["ok"], reply
        assert reply["data"]["online"] == 1
        async with client.app[DB].connect() as conn:
            rows = (await conn.execute(sa.select(t.attendance))).mappings().all()
        assert [(r["kind"], r["subject_id"], r["left_at"]) for r in rows] == [
            ("fair", world.campus_fair, None)
        ]
        assert (await sock.call("fair.leave"))["ok"]
        async with client.app[DB].connect() as conn:
            row = (await conn.execute(sa.select(t.attendance))).mappings().one()
        assert row["close_reason"] == "leave" and row["left_at"] is not None


async def test_disconnect_closes_attendance(client: TestClient[Any, Any], world: World) -> None:
    async with connected(client, world, "student_a") as sock:
        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
    for _ in range(50):
        async with client.app[DB].connect() as conn:
            row = (await conn.execute(sa.select(t.attendance))).mappings().one()
        if row["left_at"] is not None:
            break
        await asyncio.sleep(0.05)
    assert row["close_reason"] == "disconnect"


async def test_invisible_fair_is_not_found(client: TestClient[Any, Any], world: World) -> None:
    async with connected(client, world, "student_b") as sock:
        missing = await sock.call("fair.join", {"fair": "no-such-fair"})
        hidden = await sock.call("fair.join", {"fair": "campus"})
    assert (
        missing == hidden == {"ok": False, "error": {"code": "not_found", "message": "not found"}}
    )


async def test_spoofed_fields_and_bad_payloads_are_rejected(
    client: TestClient[Any, Any], world: World
) -> None:
    async with connected(client, world, "organiser_a") as sock:
        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        spoofed = await sock.call(
            "fair.announce", {"body": "hi", "client_id": "c1", "sender": 1, "role": "admin"}
        )
        assert spoofed["error"]["code"] == "request.invalid"
        assert set(spoofed["error"]["fields"]) == {"sender", "role"}
        not_a_dict = await sock.call("fair.announce", "hello")
        assert not_a_dict["error"]["code"] == "request.invalid"
        too_long = await sock.call("fair.announce", {"body": "x" * 2001, "client_id": "c2"})
        assert too_long["error"]["code"] == "request.invalid"
        # The socket survived all of that.
        assert (await sock.call("fair.leave"))["ok"]


async def test_announcement_reaches_the_fair_once_even_if_retried(
    client: TestClient[Any, Any], world: World
) -> None:
    async with (
        connected(client, world, "student_a") as student,
        connected(client, world, "organiser_a") as organiser,
    ):
        assert (await student.call("fair.join", {"fair": "campus"}))["ok"]
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        first = await organiser.call(
            "fair.announce", {"body": "<svg onload=alert(1)> Lunch", "client_id": "a1"}
        )
        again = await organiser.call(
            "fair.announce", {"body": "<svg onload=alert(1)> Lunch", "client_id": "a1"}
        )
        assert first["ok"] and again["ok"] and again["data"]["duplicate"]
        event = await student.wait_for("fair.announcement")
        assert event["body"] == "<svg onload=alert(1)> Lunch" and event["seq"] == 1
    async with client.app[DB].connect() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.announcements))
        ).scalar() == 1


async def test_students_cannot_announce(client: TestClient[Any, Any], world: World) -> None:
    async with connected(client, world, "student_a") as sock:
        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        reply = await sock.call("fair.announce", {"body": "hi", "client_id": "x"})
    assert reply["error"]["code"] == "not_found"


async def test_replay_after_reconnect(client: TestClient[Any, Any], world: World) -> None:
    async with connected(client, world, "organiser_a") as organiser:
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        async with connected(client, world, "student_a") as student:
            seen = (await student.call("fair.join", {"fair": "campus"}))["data"]["last_event_id"]
        for n in range(3):
            assert (
                await organiser.call("fair.announce", {"body": f"news {n}", "client_id": f"n{n}"})
            )["ok"]
        async with connected(client, world, "student_a") as student:
            reply = await student.call("fair.join", {"fair": "campus", "after": seen})
    missed = reply["data"]["missed"]
    assert [m["payload"]["body"] for m in missed] == ["news 0", "news 1", "news 2"]
    assert [m["seq"] for m in missed] == [seen + 1, seen + 2, seen + 3]


async def test_flooding_is_rate_limited(client: TestClient[Any, Any], world: World) -> None:
    async with connected(client, world, "student_a") as sock:
        started = time.monotonic()
        replies = await asyncio.gather(
            *(sock.call("fair.join", {"fair": "campus"}) for _ in range(200))
        )
        elapsed = time.monotonic() - started
        codes = {r["error"]["code"] for r in replies if not r["ok"]}
        assert codes == {"rate_limited"}
        # A burst of 30, then 10 a second.
        assert 30 <= sum(r["ok"] for r in replies) <= 30 + 10 * elapsed + 1


# Every fair.* event, for every role, in one scenario on the campus fair of school A:
# join, announce, leave. "ok" or the error code expected.
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "fair.join": {
        "student_a": "ok",
        "student_b": "not_found",
        "recruiter_a": "ok",
        "recruiter_b": "not_found",
        "organiser_a": "ok",
        "organiser_b": "not_found",
        "admin": "ok",
    },
    "fair.announce": {
        "student_a": "not_found",
        "student_b": "not_found",
        "recruiter_a": "not_found",
        "recruiter_b": "not_found",
        "organiser_a": "ok",
        "organiser_b": "not_found",
        "admin": "ok",
    },
    "fair.leave": {
        "student_a": "ok",
        "student_b": "not_found",
        "recruiter_a": "ok",
        "recruiter_b": "not_found",
        "organiser_a": "ok",
        "organiser_b": "not_found",
        "admin": "ok",
    },
}
SCENARIO = (
    ("fair.join", {"fair": "campus"}),
    ("fair.announce", {"body": "Welcome", "client_id": "decision"}),
    ("fair.leave", {}),
)


def outcome(reply: dict[str, Any]) -> str:
    return "ok" if reply["ok"] else str(reply["error"]["code"])


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_fair_event_decisions(client: TestClient[Any, Any], world: World, role: str) -> None:
    async with connected(client, world, role) as sock:
        seen = {event: outcome(await sock.call(event, data)) for event, data in SCENARIO}
    assert seen == {event: SOCKET_DECISIONS[event][role] for event, _ in SCENARIO}


async def test_logging_out_elsewhere_closes_the_live_socket_within_seconds(
    client: TestClient[Any, Any], world: World
) -> None:
    from fairserver.auth import end_user_sessions
    from fairserver.keys import SOCKETS
    from fairserver.socket.lifecycle import SESSION_CHECK_SECONDS

    async with connected(client, world, "recruiter_a") as sock:
        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        layer = client.app[SOCKETS]
        assert len(layer.connections) == 1
        # The company removes the recruiter: every session of theirs ends.
        await end_user_sessions(client.app[DB], world.users["recruiter_a"])
        started = time.monotonic()
        while layer.connections and time.monotonic() - started < SESSION_CHECK_SECONDS + 3:
            await asyncio.sleep(0.1)
        assert not layer.connections, "the socket outlived its session"
        assert time.monotonic() - started <= 5
    # Its visit was closed like any disconnect.
    async with client.app[DB].connect() as conn:
        row = (await conn.execute(sa.select(t.attendance))).mappings().one()
    assert row["left_at"] is not None
