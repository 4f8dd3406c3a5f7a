"""Recording rows and files (rooms/media/recordings.py) on SQLite and PostgreSQL, with in-process
aiortc publishers: start commits the row, stop finalises file and row, a source ending
stops the recording, and rows a crash left running are closed at start-up."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import av
import pytest
from aiortc import RTCConfiguration

from fairserver.rooms.media import recordings
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.rows import RecordingRow
from fairserver.settings import Settings
from fairserver.store import recordings as store
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from fairserver.store.recordings import NewRecording
from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy
from fairserver.webrtc.peers import PeerRegistry
from fairserver.webrtc.sources import Source
from tests.clock import FakeTime
from tests.factories import World, build_world
from tests.webrtc.media import CounterVideoSource, ToneAudioSource, publish, wait_until

NO_ICE = RTCConfiguration(iceServers=[])


class Setup:
    def __init__(self, db: Database, world: World, directory: Path) -> None:
        self.db, self.world, self.time = db, world, FakeTime()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=RecordingNotifier(),
            worker_id="w1",
            clock=self.time.wall,
            settings=Settings(recordings_dir=directory),
        )
        self.room = MediaRoom(RoomPolicy(publishers={"camera", "microphone"}, watchers=set()))
        self.server = PeerRegistry(NO_ICE)
        self.browsers = PeerRegistry(NO_ICE)

    async def live_sources(self) -> list[Source]:
        _, video = await publish(
            self.room, self.server, self.browsers, "camera", CounterVideoSource()
        )
        _, audio = await publish(
            self.room, self.server, self.browsers, "microphone", ToneAudioSource()
        )
        sources = [self.room.sources[video], self.room.sources[audio]]
        await wait_until(lambda: all(s.frames > 3 for s in sources), 10, "media flowing")
        return sources

    async def start(self, sources: list[Source]) -> recordings.ActiveRecording:
        return await recordings.start_recording(
            self.services,
            fair_id=self.world.open_fair,
            kind="briefing",
            subject_id=42,
            started_by=self.world.users["recruiter_a"],
            sources=sources,
        )

    async def row(self, recording_id: int) -> RecordingRow:
        async with self.db.connect() as conn:
            found = await store.recording(conn, recording_id)
        assert found is not None
        return found


@pytest.fixture
async def setup(db: Database, tmp_path: Path) -> AsyncIterator[Setup]:
    made = Setup(db, await build_world(db), tmp_path / "recordings")
    yield made
    await recordings.stop_all(made.services)
    await made.server.close_all()
    await made.browsers.close_all()


async def test_start_commits_the_row_and_stop_finalises_file_and_row(setup: Setup) -> None:
    sources = await setup.live_sources()
    active = await setup.start(sources)
    row = await setup.row(active.id)
    assert row.state == "recording" and row.started_at == active.started_at
    assert row.ended_at is None and row.kind == "briefing" and row.subject_id == 42
    # A server-chosen, unguessable name inside the recordings directory.
    assert active.path.parent == setup.services.settings.recordings_dir
    assert row.file_name == active.path.name and len(active.path.stem) > 30
    assert active.id in setup.services.recordings.active

    await asyncio.sleep(1.5)
    setup.time.advance(90)
    stopped: list[int] = []

    async def heard(done: recordings.ActiveRecording) -> None:
        stopped.append(done.id)

    active.on_stopped.append(heard)
    await recordings.stop_recording(setup.services, active)
    await recordings.stop_recording(setup.services, active)  # twice: nothing more happens

    row = await setup.row(active.id)
    assert row.state == "complete" and stopped == [active.id]
    assert row.ended_at - row.started_at == timedelta(seconds=90)
    assert row.bytes == active.path.stat().st_size > 1000
    assert not setup.services.recordings.active
    assert all(not s.listeners and not s.end_listeners for s in sources)
    with av.open(str(active.path)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    found = await recordings.recordings_of_briefing(setup.services, 42)
    assert [r.id for r in found] == [active.id]
    assert (await recordings.recording_by_id(setup.services, active.id)) == row


async def test_the_publisher_leaving_stops_and_completes_the_recording(setup: Setup) -> None:
    active = await setup.start(await setup.live_sources())
    await asyncio.sleep(1)
    setup.room.leave("camera")  # the source ends, as when the presenter's peer closes
    await wait_until(lambda: active.state != "recording", 5, "the recording to stop")
    await asyncio.sleep(0.1)
    row = await setup.row(active.id)
    assert row.state == "complete" and row.bytes > 0
    assert not setup.services.recordings.active


async def test_a_recording_stopped_as_failed_or_with_nothing_written_is_failed(
    setup: Setup,
) -> None:
    sources = await setup.live_sources()
    failed = await setup.start(sources)
    await asyncio.sleep(0.5)
    await recordings.stop_recording(setup.services, failed, failed=True)
    assert (await setup.row(failed.id)).state == "failed"
    # A silent source: nothing ever reaches the file.
    silent = MediaRoom(RoomPolicy(publishers={"x"}, watchers=set()))
    _, quiet_id = await publish(silent, setup.server, setup.browsers, "x", CounterVideoSource())
    quiet = silent.sources[quiet_id]
    empty = await setup.start([quiet])
    quiet.end()  # before any keyframe reached the recorder
    await wait_until(lambda: empty.state != "recording", 5, "the empty recording to stop")
    await asyncio.sleep(0.1)
    assert (await setup.row(empty.id)).state == "failed"


async def test_recordings_left_running_by_a_crash_are_closed_at_start_up(setup: Setup) -> None:
    directory = setup.services.settings.recordings_dir
    active = await setup.start(await setup.live_sources())
    await asyncio.sleep(1.5)
    await recordings.stop_recording(setup.services, active)
    # Three rows a crashed process left running: a file cut short, none, and garbage.
    good = directory / "briefing-cut.webm"
    shutil.copy(active.path, good)
    with good.open("r+b") as handle:  # no index, no end: a crash mid-write
        handle.truncate(good.stat().st_size * 2 // 3)
    (directory / "briefing-garbage.webm").write_bytes(b"not a webm file" * 10)
    ids = {}
    async with setup.db.begin() as conn:
        for name in ("briefing-cut.webm", "briefing-missing.webm", "briefing-garbage.webm"):
            ids[name] = await store.insert_recording(
                conn,
                NewRecording(
                    fair_id=setup.world.open_fair,
                    kind="briefing",
                    subject_id=42,
                    started_by=setup.world.users["recruiter_a"],
                    file_name=name,
                    state="recording",
                    started_at=setup.time.wall() - timedelta(hours=1),
                ),
            )
    assert await recordings.close_after_crash(setup.services) == 3
    cut = await setup.row(ids["briefing-cut.webm"])
    assert cut.state == "complete" and cut.bytes == good.stat().st_size
    assert cut.started_at <= cut.ended_at <= setup.time.wall()
    assert (await setup.row(ids["briefing-missing.webm"])).state == "failed"
    assert (await setup.row(ids["briefing-garbage.webm"])).state == "failed"
    assert (await setup.row(active.id)).state == "complete"  # untouched
    assert await recordings.close_after_crash(setup.services) == 0


async def test_stop_all_finalises_every_running_recording(setup: Setup) -> None:
    sources = await setup.live_sources()
    first, second = await setup.start(sources[:1]), await setup.start(sources[1:])
    await asyncio.sleep(1)
    await recordings.stop_all(setup.services)  # what the app's cleanup does at shutdown
    assert not setup.services.recordings.active
    for active in (first, second):
        row = await setup.row(active.id)
        assert row.state == "complete" and row.bytes == active.path.stat().st_size


async def test_a_dead_workers_recordings_are_closed_once_their_files_stop_growing(
    setup: Setup,
) -> None:
    directory = setup.services.settings.recordings_dir
    sources = await setup.live_sources()
    finished = await setup.start(sources)
    await asyncio.sleep(1.0)
    await recordings.stop_recording(setup.services, finished)
    orphan = directory / "briefing-orphan.webm"  # what a killed worker left behind
    shutil.copy(finished.path, orphan)
    mine = await setup.start(sources)  # this worker's own: never touched
    async with setup.db.begin() as conn:
        orphan_id = await store.insert_recording(
            conn,
            NewRecording(
                fair_id=setup.world.open_fair,
                kind="briefing",
                subject_id=43,
                started_by=setup.world.users["recruiter_a"],
                file_name=orphan.name,
                state="recording",
                started_at=setup.time.wall() - timedelta(minutes=5),
            ),
        )
        elsewhere_id = await store.insert_recording(  # another machine's disk: not visible
            conn,
            NewRecording(
                fair_id=setup.world.open_fair,
                kind="briefing",
                subject_id=44,
                started_by=setup.world.users["recruiter_a"],
                file_name="briefing-elsewhere.webm",
                state="recording",
                started_at=setup.time.wall() - timedelta(minutes=5),
            ),
        )
    written = orphan.stat().st_mtime
    # Still growing (written just now): its writer may be alive on another worker.
    assert await recordings.close_stale(setup.services, now=written + 5) == 0
    later = written + recordings.STALE_AFTER_SECONDS + 1
    assert await recordings.close_stale(setup.services, now=later) == 1
    assert (await setup.row(orphan_id)).state == "complete"
    assert (await setup.row(elsewhere_id)).state == "recording"
    assert (await setup.row(mine.id)).state == "recording"
    await recordings.stop_recording(setup.services, mine)
