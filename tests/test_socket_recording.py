"""Recording a briefing (P7) end to end: a real server, real socket.io clients, and an
in-process aiortc presenter. recruiter_a presents company A's briefing at the open fair."""

from __future__ import annotations

from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient, TestServer

from fairserver.app import create_app
from fairserver.keys import DB, SETTINGS, SOCKETS
from fairserver.rooms.media import recordings
from fairserver.rows import RecordingRow
from fairserver.settings import Settings
from fairserver.store import recordings as store
from fairserver.store.db import Database
from fairserver.webrtc.peers import PeerRegistry
from tests.factories import ROLES, World, build_world
from tests.test_socket_briefing import make_briefing, seated
from tests.test_socket_media import live_presenter, presenter_browser, send_offer
from tests.webrtc.media import wait_until

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


def ok(reply: dict[str, Any]) -> Any:
    assert reply["ok"], reply
    return reply["data"]


def code(reply: dict[str, Any]) -> str:
    return "ok" if reply["ok"] else str(reply["error"]["code"])


def running(client: TestClient[Any, Any]) -> dict[int, recordings.ActiveRecording]:
    return client.app[SOCKETS].services.recordings.active


async def rows(client: TestClient[Any, Any], bid: int) -> list[RecordingRow]:
    async with client.app[DB].connect() as conn:
        states = ("recording", "complete", "failed")
        return await store.recordings_of(conn, "briefing", bid, states=states)


async def test_a_presenter_records_and_everyone_sees_the_indicator(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    b = {"briefing_id": bid}
    async with (
        seated(client, world, "recruiter_a", bid) as (presenter, _),
        seated(client, world, "student_a", bid) as (alice, _),
    ):
        # Nobody live: nothing to record.
        assert code(await presenter.call("recording.start", b)) == "recording.not_live"
        ok(await send_offer(presenter, "media.publish", bid, presenter_browser(browsers, "p")))
        started = ok(await presenter.call("recording.start", b))
        assert started["on"] is True and started["started_at"]
        event = await alice.wait_for("recording.state", lambda e: e["on"])
        assert event == {**started, "room": f"briefing:{bid}"}
        # Committed before the ack; starting again changes nothing.
        assert [r.state for r in await rows(client, bid)] == ["recording"]
        assert ok(await presenter.call("recording.start", b)) == started
        assert len(running(client)) == 1
        # A page that joins now asks, and sees the indicator too.
        async with seated(client, world, "student_b", bid) as (bob, _):
            assert ok(await bob.call("recording.status", b)) == started
        await wait_until(
            lambda: next(iter(running(client).values())).recorder.stats.written > 60,
            10,
            "2 s written",
        )
        stopped = ok(await presenter.call("recording.stop", b))
        assert stopped["on"] is False and stopped["started_at"] is None
        await alice.wait_for("recording.state", lambda e: not e["on"])
        assert ok(await presenter.call("recording.stop", b))["on"] is False  # again: no-op
    [row] = await rows(client, bid)
    assert row.state == "complete" and row.started_by == world.users["recruiter_a"]
    path = client.app[SETTINGS].recordings_dir / row.file_name
    assert row.bytes == path.stat().st_size > 0
    with av.open(str(path)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]


async def test_the_presenter_leaving_stops_the_recording(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "student_a", bid) as (alice, _):
        async with live_presenter(client, world, bid, browsers) as presenter:
            ok(await presenter.call("recording.start", {"briefing_id": bid}))
            await alice.wait_for("recording.state", lambda e: e["on"])
        # The presenter's socket closed: their peer, its sources and the recording end.
        await alice.wait_for("recording.state", lambda e: not e["on"])
        assert not running(client)
        assert ok(await alice.call("recording.status", {"briefing_id": bid}))["on"] is False
    [row] = await rows(client, bid)
    assert row.state in {"complete", "failed"} and row.ended_at is not None


async def test_shutdown_finalises_a_running_recording(
    settings: Settings, browsers: PeerRegistry
) -> None:
    async with TestClient(TestServer(create_app(settings))) as client:
        world = await build_world(client.app[DB], client.app)
        bid = await make_briefing(client, world)
        async with live_presenter(client, world, bid, browsers) as presenter:
            ok(await presenter.call("recording.start", {"briefing_id": bid}))
            [active] = running(client).values()
            await wait_until(lambda: active.recorder.stats.written > 30, 10, "frames written")
            await client.close()  # graceful stop: sockets, then the app's cleanup
            # Finished by the time the app has stopped, not some time later.
            assert active._stopping is not None and active._stopping.done()
            assert not running(client)
    db = Database(settings.database_url)
    try:
        async with db.connect() as conn:
            row = await store.recording(conn, active.id)
    finally:
        await db.dispose()
    assert row is not None and row.state == "complete" and row.ended_at is not None
    with av.open(str(active.path)) as container:  # finalised: it has its duration
        assert container.duration is not None and container.duration > 0


# Every recording.* event for every role ----------------------------------------------------

PRESENTERS = {"recruiter_a"}


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "recording.status": _row(set(SIGNED_IN)),
    "recording.start": _row(PRESENTERS),
    "recording.stop": _row(PRESENTERS),
}


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_recording_event_decisions(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry, role: str
) -> None:
    bid = await make_briefing(client, world)
    b = {"briefing_id": bid}
    async with (
        live_presenter(client, world, bid, browsers),
        seated(client, world, role, bid) as (sock, _),
    ):
        seen = {
            "recording.status": code(await sock.call("recording.status", b)),
            "recording.start": code(await sock.call("recording.start", b)),
            "recording.stop": code(await sock.call("recording.stop", b)),
        }
        # Unseated (another briefing, or none): not found, whoever asks.
        other = {"briefing_id": await make_briefing(client, world)}
        assert {code(await sock.call(e, other)) for e in SOCKET_DECISIONS} == {"not_found"}
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)
    assert not running(client)
