"""Recordings of briefings (P7) and interviews (I3): the row, the file, and their life.

A recording remuxes the given Sources of a media room into one WebM file (see
fairserver/webrtc/recorder.py): no decoding, nothing per viewer. Who may start one, and
what consent it needs, is the caller's decision (rooms/briefings/recording.py for a
briefing's presenter; the interview room asks every participant first).

The row is committed as "recording" before start_recording returns. It is closed as
"complete" (or "failed", when nothing playable was written) by stop_recording: called by
the caller, when any recorded Source ends (publisher left, room closed), when writing
fails, and for every running recording at shutdown. Rows left as "recording" by a crash
are closed at the next start-up (close_after_crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from fairserver.rooms.context import Services
from fairserver.rows import RecordingRow
from fairserver.store import recordings as store
from fairserver.store.recordings import NewRecording
from fairserver.webrtc.recorder import Recorder, RecordingResult, is_playable
from fairserver.webrtc.sources import Source

log = logging.getLogger(__name__)

Kind = Literal["briefing", "interview"]
StopCallback = Callable[["ActiveRecording"], Awaitable[None]]


@dataclass(eq=False)
class ActiveRecording:
    id: int
    fair_id: int
    kind: Kind
    subject_id: int
    started_by: int
    started_at: datetime
    path: Path
    recorder: Recorder
    sources: list[Source]
    # Awaited once the row is closed (e.g. to tell the room the indicator is off).
    on_stopped: list[StopCallback] = field(default_factory=list)
    state: str = "recording"
    _stopping: asyncio.Task[None] | None = None
    _end_listeners: list[tuple[Source, Callable[[Source], None]]] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return self.path.name


@dataclass
class Registry:
    """This worker's running recordings, and the stops in flight."""

    active: dict[int, ActiveRecording] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def new_file_name(kind: str) -> str:
    """Chosen by the server, never guessable: the name alone grants nothing, though."""
    return f"{kind}-{secrets.token_hex(16)}.webm"


async def start_recording(
    services: Services,
    *,
    fair_id: int,
    kind: Kind,
    subject_id: int,
    started_by: int,
    sources: Sequence[Source],
) -> ActiveRecording:
    """Starts writing ``sources`` to a new file; the row is committed before this returns."""
    if not sources:
        raise ValueError("nothing to record")
    directory = services.settings.recordings_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / new_file_name(kind)
    started_at = services.clock()
    async with services.db.begin() as conn:
        recording_id = await store.insert_recording(
            conn,
            NewRecording(
                fair_id=fair_id,
                kind=kind,
                subject_id=subject_id,
                started_by=started_by,
                file_name=path.name,
                state="recording",
                started_at=started_at,
            ),
        )
    recorder = Recorder(path, sources)
    active = ActiveRecording(
        recording_id, fair_id, kind, subject_id, started_by, started_at, path, recorder, [*sources]
    )
    try:
        recorder.start()
    except Exception:
        await _close_row(services, recording_id, "failed", 0)
        raise
    services.recordings.active[recording_id] = active

    def source_ended(_source: Source) -> None:
        _stop_soon(services, active)

    for source in active.sources:
        source.end_listeners.append(source_ended)
        active._end_listeners.append((source, source_ended))
    recorder.done().add_done_callback(lambda _done: _stop_soon(services, active, failed=True))
    return active


async def stop_recording(
    services: Services, recording: ActiveRecording, *, failed: bool = False
) -> None:
    """Finalises the file and closes the row (complete, or failed); safe to call twice."""
    if recording._stopping is None:
        recording._stopping = asyncio.ensure_future(_stop(services, recording, failed))
    await asyncio.shield(recording._stopping)


async def stop_all(services: Services) -> None:
    """Shutdown: every running recording is finalised and its row closed."""
    registry = services.recordings
    for recording in list(registry.active.values()):
        with contextlib.suppress(Exception):
            await stop_recording(services, recording)
    if registry.tasks:
        await asyncio.gather(*registry.tasks, return_exceptions=True)


def _stop_soon(services: Services, recording: ActiveRecording, failed: bool = False) -> None:
    """A source ended or the writer gave up: stop without anyone awaiting it."""
    if recording._stopping is not None:
        return
    task = services.tasks.spawn(
        stop_recording(services, recording, failed=failed), name=f"stop recording {recording.id}"
    )
    tasks = services.recordings.tasks  # stop_all waits for these before the app stops
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _stop(services: Services, recording: ActiveRecording, failed: bool) -> None:
    try:
        result = await recording.recorder.stop()
    except Exception:
        log.exception("recording %s did not stop cleanly", recording.id)
        result = RecordingResult(bytes=_size(recording.path), ok=False)
    for source, listener in recording._end_listeners:
        if listener in source.end_listeners:
            source.end_listeners.remove(listener)
    recording.state = "complete" if result.ok and not failed else "failed"
    await _close_row(services, recording.id, recording.state, result.bytes)
    services.recordings.active.pop(recording.id, None)
    for callback in recording.on_stopped:
        try:
            await callback(recording)
        except Exception:
            log.exception("a callback of recording %s failed", recording.id)


async def _close_row(services: Services, recording_id: int, state: str, size: int) -> None:
    async with services.db.begin() as conn:
        await store.finish_recording(
            conn, recording_id, state=state, ended_at=services.clock(), size=size
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# Queries --------------------------------------------------------------------------------


async def recordings_of_briefing(
    services: Services, briefing_id: int, *, completed: bool = True
) -> list[RecordingRow]:
    states = ("complete",) if completed else ("recording", "complete", "failed")
    async with services.db.connect() as conn:
        return await store.recordings_of(conn, "briefing", briefing_id, states=states)


async def recording_by_id(services: Services, recording_id: int) -> RecordingRow | None:
    async with services.db.connect() as conn:
        return await store.recording(conn, recording_id)


# After a crash --------------------------------------------------------------------------


async def close_after_crash(services: Services) -> int:
    """Rows a crashed process left as "recording": complete if the file still plays
    (truncated: its end is where the last write landed), failed otherwise."""
    async with services.db.connect() as conn:
        rows = await store.running(conn)
    for row in rows:
        await _close_dead(services, row)
    return len(rows)


# A running recording's file grows all the time (its muxer flushes every few seconds even
# for audio alone); one untouched for this long has lost its writer.
STALE_AFTER_SECONDS = 120.0


async def close_stale(services: Services, now: float | None = None) -> int:
    """With several workers: rows whose writer died with another worker. Only files this
    worker can see and that stopped growing count; this worker's own are never touched."""
    async with services.db.connect() as conn:
        rows = await store.running(conn)
    mine = services.recordings.active
    now = time.time() if now is None else now
    closed = 0
    for row in rows:
        path = services.settings.recordings_dir / row.file_name
        if row.id in mine or not path.is_file():
            continue
        if now - path.stat().st_mtime >= STALE_AFTER_SECONDS:
            await _close_dead(services, row)
            closed += 1
    return closed


async def _close_dead(services: Services, row: RecordingRow) -> None:
    path = services.settings.recordings_dir / row.file_name
    playable = path.is_file() and await asyncio.to_thread(is_playable, path)
    ended_at = services.clock()
    if playable:
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        ended_at = max(row.started_at, min(written, ended_at))
    async with services.db.begin() as conn:
        await store.finish_recording(
            conn,
            row.id,
            state="complete" if playable else "failed",
            ended_at=ended_at,
            size=_size(path),
        )
