"""Recording a briefing (P7): opt-in by a presenter, seen by everyone in the room.

A seated presenter starts and stops it; it records the stage's primary publisher (camera
and microphone) on this worker, the stage's media home. Everyone in the briefing room
hears recording.state, so every viewer sees the indicator while it runs. It also stops
when the recorded publisher leaves (its sources end), and at shutdown.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.briefings.live import Seat, briefing_room
from fairserver.rooms.briefings.stage import HomeReply, ensure_presenter
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.media import recordings
from fairserver.rooms.media.homes import Caller, HomeCommand, HomeRoutes, Seated
from fairserver.rooms.media.recordings import ActiveRecording
from fairserver.rooms.notify import Outbound


class RecordingState(Outbound):
    room: str
    briefing_id: int
    on: bool
    started_at: datetime | None


class BriefingRecordings:
    """This worker's running briefing recordings, one per briefing."""

    def __init__(self) -> None:
        self.running: dict[int, ActiveRecording] = {}
        self.lock = asyncio.Lock()


def state(services: Services, briefing_id: int) -> RecordingState:
    running = services.briefing_recordings.running.get(briefing_id)
    return RecordingState(
        room=briefing_room(briefing_id),
        briefing_id=briefing_id,
        on=running is not None,
        started_at=running.started_at if running is not None else None,
    )


async def announce(services: Services, briefing_id: int) -> RecordingState:
    event = state(services, briefing_id)
    await services.notifier.emit(event.room, "recording.state", event)
    return event


async def start(services: Services, actor: Actor, seat: Seat) -> RecordingState:
    """Records the primary publisher; starting again while it runs changes nothing."""
    await ensure_presenter(services, actor, seat)
    held = services.briefing_recordings
    async with held.lock:  # two presenters clicking at once make one recording
        if seat.briefing_id in held.running:
            return state(services, seat.briefing_id)
        room = services.stage.rooms.get(seat.briefing_id)
        primary = room.primary() if room is not None else None
        if room is None or primary is None:
            raise ServiceError("recording.not_live", _("Nobody is live on this stage."))
        # The camera and microphone: a WebM player shows one video track.
        wanted = [primary.sources.get(kind) for kind in ("video", "audio")]
        sources = [room.media.sources[i] for i in wanted if i in room.media.sources]
        if not sources:
            raise ServiceError("recording.not_live", _("Nobody is live on this stage."))
        active = await recordings.start_recording(
            services,
            fair_id=seat.fair_id,
            kind="briefing",
            subject_id=seat.briefing_id,
            started_by=actor.user_id or 0,
            sources=sources,
        )
        held.running[seat.briefing_id] = active

        async def stopped(recording: ActiveRecording) -> None:
            if held.running.get(seat.briefing_id) is recording:
                del held.running[seat.briefing_id]
            await announce(services, seat.briefing_id)

        active.on_stopped.append(stopped)
    return await announce(services, seat.briefing_id)


async def stop(services: Services, actor: Actor, seat: Seat) -> RecordingState:
    """Finalises the file; stopping when nothing runs changes nothing."""
    await ensure_presenter(services, actor, seat)
    running = services.briefing_recordings.running.get(seat.briefing_id)
    if running is not None:
        await recordings.stop_recording(services, running)
    return state(services, seat.briefing_id)


# --- on the stage's media home (the recorder reads the stage's sources) -------------------


class RecordingCall(HomeCommand):
    caller: Caller
    seat: Seat


class RecordingStart(RecordingCall):
    call: ClassVar[str] = "recording.start"


class RecordingStop(RecordingCall):
    call: ClassVar[str] = "recording.stop"


class RecordingStatus(RecordingCall):
    call: ClassVar[str] = "recording.status"


HOME_ROUTES = HomeRoutes()
# Each call answers RecordingState as JSON: the reply may cross to another worker over
# pub/sub (rooms/media/homes.py); the socket handler validates it back into the model.


@HOME_ROUTES.on(RecordingStart)
async def _start(services: Services, command: RecordingStart, seated: Seated) -> HomeReply:
    return (await start(services, command.caller.actor(), command.seat)).model_dump(mode="json")


@HOME_ROUTES.on(RecordingStop)
async def _stop(services: Services, command: RecordingStop, seated: Seated) -> HomeReply:
    return (await stop(services, command.caller.actor(), command.seat)).model_dump(mode="json")


@HOME_ROUTES.on(RecordingStatus)
async def _status(services: Services, command: RecordingStatus, seated: Seated) -> HomeReply:
    return state(services, command.seat.briefing_id).model_dump(mode="json")
