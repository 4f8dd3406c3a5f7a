"""Durability: kill -9 during a fair, restart, and find every acknowledged write and no open interval."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.store import briefings as briefing_store
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from fairserver.store.db import Database
from tests.factories import CAMPUS_VIEWERS, World, build_world
from tests.servers import start_server
from tests.sockets import CONNECT_WAIT, Client, session_cookie


async def _socket(url: str, cookie: str) -> Client:
    sock = Client()
    await sock.sio.connect(
        url,
        headers={"Cookie": cookie},
        transports=["websocket"],
        wait_timeout=CONNECT_WAIT,
    )
    return sock


@pytest.fixture
async def crash_db(tmp_path: Path) -> AsyncIterator[tuple[str, Database]]:
    """A migrated SQLite file the server processes share, closed whatever the test does."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    db = Database(database_url)
    await db.migrate()
    yield database_url, db
    await db.dispose()


async def test_kill_9_loses_no_acknowledged_write_and_closes_intervals(
    tmp_path: Path, crash_db: tuple[str, Database]
) -> None:
    database_url, db = crash_db
    world = await build_world(db)
    env = {"FAIRSERVER_DATABASE_URL": database_url}
    server = start_server(tmp_path, env)
    socks: list[Client] = []
    try:
        students = [
            await _socket(server.url, await session_cookie(server.url, world, who))
            for who in ("student_a", "recruiter_a")
        ]
        organiser = await _socket(
            server.url, await session_cookie(server.url, world, "organiser_a")
        )
        socks = [*students, organiser]
        for sock in socks:
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        acknowledged = []
        for n in range(20):
            reply = await organiser.call(
                "fair.announce", {"body": f"notice {n}", "client_id": f"c{n}"}
            )
            if reply["ok"]:
                acknowledged.append(reply["data"]["id"])
        server.kill_hard()
    finally:
        for sock in socks:
            await sock.sio.disconnect()
            await sock.http.close()
        server.stop()
    async with db.connect() as conn:
        open_rows = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.attendance)
                .where(t.attendance.c.left_at.is_(None))
            )
        ).scalar()
    assert open_rows == 3  # the crash left them open...
    restarted = start_server(tmp_path, env)
    try:
        async with db.connect() as conn:
            rows = (await conn.execute(sa.select(t.attendance))).mappings().all()
            stored = set((await conn.execute(sa.select(t.announcements.c.id))).scalars())
    finally:
        assert restarted.stop() == 0, restarted.log()
    # ...and start-up closed them at their last heartbeat.
    assert {(r["close_reason"], r["left_at"] == r["last_seen_at"]) for r in rows} == {
        ("crash", True)
    }
    assert set(acknowledged) <= stored and len(acknowledged) >= 3


async def test_graceful_stop_tells_sockets_and_closes_intervals(
    tmp_path: Path, crash_db: tuple[str, Database]
) -> None:
    database_url, db = crash_db
    world = await build_world(db)
    server = start_server(tmp_path, {"FAIRSERVER_DATABASE_URL": database_url})
    disconnected = asyncio.Event()
    sock = await _socket(server.url, await session_cookie(server.url, world, "student_a"))
    try:

        @sock.sio.event
        async def disconnect(*_: Any) -> None:
            disconnected.set()

        assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        assert await asyncio.to_thread(server.stop) == 0, server.log()
        await asyncio.wait_for(disconnected.wait(), 10)
    finally:
        await sock.sio.disconnect()
        await sock.http.close()
    async with db.connect() as conn:
        row = (await conn.execute(sa.select(t.attendance))).mappings().one()
    assert row["close_reason"] == "shutdown"


async def _campus_briefing(db: Database, world: World) -> int:
    """Company A's briefing in the campus fair, scheduled around now."""
    now = datetime.now(UTC)
    async with db.begin() as conn:
        return await briefing_store.insert_briefing(
            conn,
            world.campus_fair,
            NewBriefing(
                company_id=world.company_a,
                title="Crash briefing",
                starts_at=now - timedelta(minutes=10),
                ends_at=now + timedelta(minutes=50),
            ),
            [world.users["recruiter_a"]],
        )


async def _send_until(
    stop: asyncio.Event,
    sock: Client,
    event: str,
    data: dict[str, Any],
    prefix: str,
    acknowledged: dict[str, int],
    retry: bool = False,
) -> None:
    """Sends `event` with fresh client ids until stopped or the server dies.

    A rate-limited send waits a little and tries again; an acknowledged one is recorded
    (client_id -> stored id) and, with `retry`, every third is sent again with the same
    client_id, as a client does when an ack is lost.
    """
    kind = "question" if event == "briefing.ask" else "message"
    n = 0
    while not stop.is_set():
        client_id = f"{prefix}-{n}"
        try:
            reply = await sock.sio.call(
                event, {**data, "body": f"{prefix} {n}", "client_id": client_id}, timeout=2
            )
        except Exception:  # the server was killed under us: stop sending
            return
        if reply["ok"]:
            stored_id = reply["data"][kind]["id"]
            if reply["data"]["duplicate"]:  # the retry: answered with the first write
                assert acknowledged[f"{prefix}:{client_id}"] == stored_id
                n += 1
            else:
                acknowledged[f"{prefix}:{client_id}"] = stored_id
                n += 0 if retry and n % 3 == 0 else 1
        elif reply["error"]["code"] == "rate_limited":
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(reply)


async def test_kill_9_during_a_briefing_loses_no_question_or_chat_message(
    tmp_path: Path, crash_db: tuple[str, Database]
) -> None:
    database_url, db = crash_db
    world = await build_world(db)
    briefing_id = await _campus_briefing(db, world)
    env = {"FAIRSERVER_DATABASE_URL": database_url}
    server = start_server(tmp_path, env)
    started = time.monotonic()
    people = sorted(CAMPUS_VIEWERS)  # everyone who may see the campus fair chats
    socks: dict[str, Client] = {}
    acknowledged: dict[str, int] = {}
    questions: dict[str, int] = {}
    try:
        for who in people:
            sock = await _socket(server.url, await session_cookie(server.url, world, who))
            socks[who] = sock
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
            joined = await sock.call("briefing.join", {"briefing_id": briefing_id})
            assert joined["ok"], joined
        stop = asyncio.Event()
        room = {"briefing_id": briefing_id}
        senders = [
            _send_until(stop, socks[who], "briefing.chat", room, who, acknowledged, retry=True)
            for who in people
        ]
        # Only students ask: student_a's burst of 3, then one every 5 s.
        senders.append(
            _send_until(stop, socks["student_a"], "briefing.ask", room, "ask", questions)
        )
        tasks = [asyncio.create_task(sender) for sender in senders]
        await asyncio.sleep(5.5)
        # kill -9 while every client is still sending.
        await asyncio.to_thread(server.kill_hard)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    finally:
        for sock in socks.values():
            with contextlib.suppress(Exception):
                await sock.sio.disconnect()
            await sock.http.close()
        server.stop()
    assert len(questions) >= 4 and len(acknowledged) >= 4 * len(people), (questions, acknowledged)

    restarted = start_server(tmp_path, env)
    try:
        async with db.connect() as conn:
            intervals = (await conn.execute(sa.select(t.attendance))).mappings().all()
            stored_questions = (
                await conn.execute(
                    sa.select(t.questions.c.id, t.questions.c.client_id).where(
                        t.questions.c.briefing_id == briefing_id
                    )
                )
            ).all()
            stored_messages = (
                await conn.execute(
                    sa.select(
                        t.chat_messages.c.id,
                        t.chat_messages.c.author_id,
                        t.chat_messages.c.client_id,
                    ).where(t.chat_messages.c.room == f"briefing:{briefing_id}")
                )
            ).all()
    finally:
        assert restarted.stop() == 0, restarted.log()

    # Each socket had a fair and a briefing interval; start-up closed them at their last
    # heartbeat, none is left open.
    assert {
        (r["kind"], r["close_reason"], r["left_at"] == r["last_seen_at"]) for r in intervals
    } == {
        ("fair", "crash", True),
        ("briefing", "crash", True),
    }
    assert len(intervals) == 2 * len(people)
    # Every acknowledged write is there, and each client id is stored once.
    assert set(questions.values()) <= {row.id for row in stored_questions}
    assert set(acknowledged.values()) <= {row.id for row in stored_messages}
    assert max(Counter(row.client_id for row in stored_questions).values()) == 1
    assert max(Counter((r.author_id, r.client_id) for r in stored_messages).values()) == 1
    assert time.monotonic() - started < 20
