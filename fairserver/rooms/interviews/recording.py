"""Recording an interview (I3): nothing is recorded unless everyone in the room consents.

"Everyone in the room" is every admitted participant row. An interviewer may start a
recording only while all of them have consented; the recording stops at once when one of
them withdraws consent, or someone without consent is admitted or added. While it runs,
every publishing participant's video and audio are recorded (one recording each; someone
who starts publishing later gets one too), and every participant sees the indicator
(interview.recording to the interview's room).
"""

from __future__ import annotations

import logging
from datetime import datetime

from fairserver.rooms.context import Services
from fairserver.rooms.interviews.media import (
    InterviewRoom,
    InterviewRooms,
    Publisher,
    interview_room,
)
from fairserver.rooms.media import recordings
from fairserver.rooms.media.recordings import ActiveRecording
from fairserver.rooms.notify import Outbound
from fairserver.store.interviews import ParticipantRow

log = logging.getLogger(__name__)


class RecordingChanged(Outbound):
    interview_id: int
    on: bool
    started_at: datetime | None
    # started, stopped, consent_missing (someone withdrew or joined without consent), ended,
    # failed (a file could not be started or written: nobody is told "recording" while a
    # publisher is not being recorded)
    reason: str


def missing_consent(participants: list[ParticipantRow]) -> list[int]:
    """Admitted participants who have not consented (or withdrew)."""
    return [p.user_id for p in participants if p.admitted_at is not None and p.consented_at is None]


class RecordingView(Outbound):
    """Whether the room records now (the join snapshot, interview.record's answer)."""

    on: bool
    started_at: str | None  # isoformat(), as the snapshot's other times


def recording_view(room: InterviewRoom | None) -> RecordingView:
    since = room.recording_since if room is not None else None
    return RecordingView(on=since is not None, started_at=since.isoformat() if since else None)


async def _announce(services: Services, room: InterviewRoom, reason: str) -> None:
    event = RecordingChanged(
        interview_id=room.interview_id,
        on=room.recording_since is not None,
        started_at=room.recording_since,
        reason=reason,
    )
    await services.notifier.emit(interview_room(room.interview_id), "interview.recording", event)


async def start(services: Services, room: InterviewRoom, started_by: int) -> None:
    """The caller has checked consent. Starting a running recording changes nothing."""
    if room.recording_since is not None:
        return
    room.recording_since, room.recording_by = services.clock(), started_by
    for publisher in list(room.publishers.values()):
        if not await _start_publisher(services, room, publisher):
            await stop(services, room, "failed")
            return
    await _announce(services, room, "started")


async def stop(services: Services, room: InterviewRoom, reason: str) -> None:
    if room.recording_since is None:
        return
    room.recording_since = room.recording_by = None
    for participant in list(room.recordings):
        await _stop_publisher(services, room, participant)
    await _announce(services, room, reason)


async def publisher_started(
    rooms: InterviewRooms, room: InterviewRoom, publisher: Publisher
) -> None:
    if room.recording_since is not None and not await _start_publisher(
        rooms.services, room, publisher
    ):
        await stop(rooms.services, room, "failed")


async def publisher_stopped(
    rooms: InterviewRooms, room: InterviewRoom, publisher: Publisher
) -> None:
    await _stop_publisher(rooms.services, room, publisher.participant)


async def _start_publisher(services: Services, room: InterviewRoom, publisher: Publisher) -> bool:
    """False when the file could not be started (a disk problem, which must not take the
    interview down with it)."""
    if publisher.participant in room.recordings:
        return True
    try:
        recording = await start_publisher_file(services, room, publisher)
    except Exception:
        log.exception("recording of %s could not start", publisher.participant)
        return False
    if recording is not None:
        room.recordings[publisher.participant] = recording
    return True


async def _stop_publisher(services: Services, room: InterviewRoom, participant: str) -> None:
    recording = room.recordings.pop(participant, None)
    if recording is None:
        return
    try:
        await stop_publisher_file(services, recording)
    except Exception:
        log.exception("recording of %s did not stop cleanly", participant)


# --- the recording files (fairserver/rooms/media/recordings.py) ------------------------------


async def start_publisher_file(
    services: Services, room: InterviewRoom, publisher: Publisher
) -> ActiveRecording | None:
    """One recording of this publisher's video and audio; it stops by itself when the
    publisher's sources end (they leave, their peer fails, the room closes)."""
    sources = [
        room.media.sources[source_id]
        for source_id in publisher.sources.values()
        if source_id in room.media.sources
    ]
    if not sources:
        return None
    active = await recordings.start_recording(
        services,
        fair_id=room.fair_id,
        kind="interview",
        subject_id=room.interview_id,
        started_by=room.recording_by or 0,
        sources=sources,
    )

    async def stopped(done: ActiveRecording) -> None:
        if room.recordings.get(publisher.participant) is not done:
            return  # stopped on purpose: whoever stopped it has already let it go
        del room.recordings[publisher.participant]
        if done.recorder.error is not None:  # the writer gave up (a full disk): stop for all
            await stop(services, room, "failed")

    active.on_stopped.append(stopped)
    return active


async def stop_publisher_file(services: Services, recording: ActiveRecording) -> None:
    await recordings.stop_recording(services, recording)
