"""build_services: the one place where the rooms' components are made and joined."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fairserver.clock import utcnow
from fairserver.rooms.briefings.live import make_ticks
from fairserver.rooms.briefings.recording import BriefingRecordings
from fairserver.rooms.briefings.stage import Stage
from fairserver.rooms.context import Services
from fairserver.rooms.fairs.dashboard import Tickers
from fairserver.rooms.interviews import recording as interview_recording
from fairserver.rooms.interviews.media import InterviewRooms
from fairserver.rooms.interviews.slot_timers import SlotTimers
from fairserver.rooms.interviews.wrapup import WrapUps
from fairserver.rooms.media.homes import MediaHomes
from fairserver.rooms.media.recordings import Registry
from fairserver.rooms.notify import Notifier
from fairserver.settings import Settings
from fairserver.store.db import Database
from fairserver.store.live import LiveState, MemoryLive
from fairserver.webrtc.ice import bundled_configuration
from fairserver.webrtc.session import MediaSessions


async def live_backend(settings: Settings) -> LiveState:
    """Redis when the settings name one (several workers share it); else in memory."""
    if settings.redis_url:
        # Imported here: a single-process setup never loads the Redis client.
        from fairserver.store.live_redis import RedisLive

        return await RedisLive.connect(settings.redis_url)
    return MemoryLive()


def build_services(
    *,
    db: Database,
    live: LiveState,
    notifier: Notifier,
    worker_id: str,
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Services:
    services = Services(
        db=db,
        live=live,
        notifier=notifier,
        worker_id=worker_id,
        clock=clock,
        settings=settings or Settings(),
    )
    services.ticks = make_ticks(services)
    # One owner for every peer connection, whichever room it is in.
    services.media_sessions = MediaSessions(bundled_configuration(services.settings))
    services.stage = Stage(services, services.media_sessions)
    services.interview_rooms = InterviewRooms(
        services,
        services.media_sessions,
        on_publisher_started=interview_recording.publisher_started,
        on_publisher_stopped=interview_recording.publisher_stopped,
    )
    services.homes = MediaHomes(services)
    services.recordings = Registry()
    services.briefing_recordings = BriefingRecordings()
    services.dashboard_tickers = Tickers()
    services.slot_timers = SlotTimers(services)

    services.wrap_ups = WrapUps(services)
    return services
