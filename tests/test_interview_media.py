"""Interview media end to end (I2, I3): a real server, real socket.io clients, and
in-process aiortc peers standing in for the participants' browsers. Every frame goes
through the server's forwarding core; nobody connects to anybody else."""

from __future__ import annotations

import errno
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import av
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SOCKETS
from fairserver.settings import Settings
from fairserver.store import tables as t
from fairserver.webrtc.peers import PeerRegistry
from fairserver.webrtc.recorder import Recorder
from tests.conftest import test_settings as settings_for
from tests.factories import World
from tests.interview_helpers import (
    code,
    ok,
    opened,
    registry_of,
    send_offer,
)
from tests.sockets import Client, connected
from tests.webrtc.media import camera_browser, viewer_browser, wait_until


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, recordings_dir=tmp_path / "recordings")


async def watching(
    sock: Client, iid: int, browsers: PeerRegistry, name: str, user_id: int
) -> dict[str, list[Any]]:
    browser, received = viewer_browser(browsers, name)
    answer = ok(await send_offer(sock, "interview.watch", iid, browser, user_id=user_id))
    assert answer["type"] == "answer" and answer["user_id"] == user_id
    return received  # type: ignore[return-value]


async def test_two_participants_see_each_other_through_the_server(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, browsers: PeerRegistry
) -> None:
    iid, recruiter, student = await opened(stack, client, world)
    ids = world.users
    # Nobody publishes yet: there is nothing to watch.
    nothing = await send_offer(
        student,
        "interview.watch",
        iid,
        viewer_browser(browsers, "x")[0],
        user_id=ids["recruiter_a"],
    )
    assert code(nothing) == "interview.not_publishing"
    ok(await send_offer(recruiter, "interview.publish", iid, camera_browser(browsers, "r")))
    ok(await send_offer(student, "interview.publish", iid, camera_browser(browsers, "s")))
    media = await student.wait_for("interview.media", lambda e: len(e["publishers"]) == 2)
    assert {p["user_id"] for p in media["publishers"]} == {ids["recruiter_a"], ids["student_a"]}
    at_student = await watching(student, iid, browsers, "s-watch", ids["recruiter_a"])
    at_recruiter = await watching(recruiter, iid, browsers, "r-watch", ids["student_a"])
    await wait_until(
        lambda: all(len(r["video"]) >= 10 and r["audio"] for r in (at_student, at_recruiter)),
        10,
        "frames both ways",
    )
    assert at_student["video"][0].keyframe and at_recruiter["video"][0].keyframe
    # Watching yourself is not a thing; watching a stranger is not found.
    self_watch = await send_offer(
        student, "interview.watch", iid, viewer_browser(browsers, "y")[0], user_id=ids["student_a"]
    )
    assert code(self_watch) == "not_found"
    assert len(registry_of(client)) == 4  # two publishers, two viewers
    # A third party cannot publish or watch, and leaves no peer behind.
    async with connected(client, world, "student_b") as stranger:
        assert code(await stranger.call("interview.join", {"interview_id": iid})) == "not_found"
        refused = await send_offer(
            stranger,
            "interview.watch",
            iid,
            viewer_browser(browsers, "z")[0],
            user_id=ids["student_a"],
        )
        assert code(refused) == "not_found"
        published = await send_offer(
            stranger, "interview.publish", iid, camera_browser(browsers, "zz")
        )
        assert code(published) == "not_found"
    assert len(registry_of(client)) == 4
    # Leaving closes the leaver's peers and the peers watching them; the other one hears.
    ok(await recruiter.call("interview.leave", {"interview_id": iid}))
    await wait_until(lambda: len(registry_of(client)) == 1, 1.0, "leaver's peers closed")
    await student.wait_for("interview.media", lambda e: len(e["publishers"]) == 1)
    # A disconnect does the same for the rest.
    await student.sio.disconnect()
    await wait_until(lambda: len(registry_of(client)) == 0, 2.0, "every peer closed")


async def consenting(
    stack: AsyncExitStack, client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> tuple[int, Client, Client]:
    """An open interview where both have consented to recording; the recruiter publishes."""
    iid, recruiter, student = await opened(stack, client, world)
    for sock in (recruiter, student):
        ok(await sock.call("interview.consent", {"interview_id": iid, "consent": True}))
    ok(await send_offer(recruiter, "interview.publish", iid, camera_browser(browsers, "r")))
    return iid, recruiter, student


async def test_a_recording_per_publisher_while_everyone_consents(
    client: TestClient[Any, Any],
    world: World,
    stack: AsyncExitStack,
    browsers: PeerRegistry,
    settings: Settings,
) -> None:
    iid, recruiter, student = await consenting(stack, client, world, browsers)
    me = {"interview_id": iid}
    ok(await recruiter.call("interview.record", {**me, "on": True}))
    # The student starts publishing during the recording: they get one too.
    ok(await send_offer(student, "interview.publish", iid, camera_browser(browsers, "s")))

    async def recordings() -> list[dict[str, Any]]:
        async with client.app[DB].connect() as conn:
            found = await conn.execute(sa.select(t.recordings).order_by(t.recordings.c.id))
            return [dict(r) for r in found.mappings()]

    running = await recordings()
    assert [(r["kind"], r["subject_id"], r["state"]) for r in running] == [
        ("interview", iid, "recording"),
        ("interview", iid, "recording"),
    ]
    files = [settings.recordings_dir / r["file_name"] for r in running]
    room = client.app[SOCKETS].services.interview_rooms.rooms[iid]
    active = list(room.recordings.values())
    assert len(active) == 2
    await wait_until(lambda: all(a.recorder.stats.written > 30 for a in active), 10, "writes")
    # The student withdraws consent: every file is finalised at once.
    ok(await student.call("interview.consent", {**me, "consent": False}))
    await recruiter.wait_for("interview.recording", lambda e: not e["on"])
    done = await recordings()
    assert {r["state"] for r in done} == {"complete"} and not room.recordings
    assert all(r["bytes"] > 1000 for r in done)
    for path in files:
        with av.open(str(path)) as container:
            assert {s.type for s in container.streams} == {"video", "audio"}


async def test_a_recording_whose_file_cannot_be_written_stops_for_everyone(
    client: TestClient[Any, Any],
    world: World,
    stack: AsyncExitStack,
    browsers: PeerRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iid, recruiter, student = await consenting(stack, client, world, browsers)
    me = {"interview_id": iid}
    ok(await send_offer(student, "interview.publish", iid, camera_browser(browsers, "s")))
    # The disk fills up under one of the two files (fault injection: ENOSPC from the muxer).
    write_packet = Recorder._write_packet
    broken: list[Recorder] = []

    def full_disk(recorder: Recorder, *args: Any) -> None:
        if recorder in broken or (not broken and recorder.stats.written >= 20):
            broken.append(recorder)
            raise OSError(errno.ENOSPC, "No space left on device")
        write_packet(recorder, *args)

    monkeypatch.setattr(Recorder, "_write_packet", full_disk)
    ok(await recruiter.call("interview.record", {**me, "on": True}))

    # Nobody is left believing they are recorded: the indicator goes off everywhere.
    for sock in (recruiter, student):
        stopped = await sock.wait_for("interview.recording", lambda e: not e["on"])
        assert stopped["reason"] == "failed"
    room = client.app[SOCKETS].services.interview_rooms.rooms[iid]
    await wait_until(lambda: not room.recordings, 5, "every file closed")
    async with client.app[DB].connect() as conn:
        found = await conn.execute(sa.select(t.recordings.c.file_name, t.recordings.c.state))
        states = {row.file_name: row.state for row in found}
    assert sorted(states.values()) == ["complete", "failed"]
    assert states[broken[0].path.name] == "failed"
    assert ok(await recruiter.call("interview.join", me))["recording"]["on"] is False
