"""Durability: kill -9 during a fair, restart, and find every acknowledged write and no open interval."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import build_world
from tests.servers import start_server
from tests.sockets import Client, session_cookie


async def _socket(url: str, cookie: str) -> Client:
    sock = Client()
    await sock.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"])
    return sock


async def test_kill_9_loses_no_acknowledged_write_and_closes_intervals(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    db = Database(database_url)
    await db.migrate()
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
        await db.dispose()
    # ...and start-up closed them at their last heartbeat.
    assert {(r["close_reason"], r["left_at"] == r["last_seen_at"]) for r in rows} == {
        ("crash", True)
    }
    assert set(acknowledged) <= stored and len(acknowledged) >= 3


async def test_graceful_stop_tells_sockets_and_closes_intervals(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"
    db = Database(database_url)
    await db.migrate()
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
    await db.dispose()
    assert row["close_reason"] == "shutdown"
