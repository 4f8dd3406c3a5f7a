"""What every service needs, in one typed object the app builds once (rooms/wiring.py).

The core (database, live state, notifier, clock, settings) is given; the components (the
media sessions, the stage, interview rooms, media homes, recordings, ticks, dashboard
tickers) are built from it by ``build_services``, never lazily, and every background task
they start belongs to ``tasks``, which the app stops on shutdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from fairserver.clock import utcnow
from fairserver.rooms.notify import Notifier
from fairserver.settings import Settings
from fairserver.store.db import Database
from fairserver.store.live import LiveState
from fairserver.tasks import Supervisor

if TYPE_CHECKING:  # the components build on Services: their types only, never imported
    from fairserver.rooms.briefings.live import Ticks
    from fairserver.rooms.briefings.recording import BriefingRecordings
    from fairserver.rooms.briefings.stage import Stage
    from fairserver.rooms.fairs.dashboard import Tickers
    from fairserver.rooms.interviews.media import InterviewRooms
    from fairserver.rooms.interviews.slot_timers import SlotTimers
    from fairserver.rooms.interviews.wrapup import WrapUps
    from fairserver.rooms.media.homes import MediaHomes
    from fairserver.rooms.media.recordings import Registry
    from fairserver.webrtc.session import MediaSessions


@dataclass(eq=False)
class Services:
    db: Database
    live: LiveState
    notifier: Notifier
    # Names this process in connection ids, so workers never close each other's intervals.
    worker_id: str
    clock: Callable[[], datetime] = field(default=utcnow)
    settings: Settings = field(default_factory=Settings)
    tasks: Supervisor = field(default_factory=Supervisor)
    # Components, set once by build_services.
    ticks: Ticks = field(init=False)
    # Every live room's media session and the one registry of all peer connections.
    media_sessions: MediaSessions = field(init=False)
    stage: Stage = field(init=False)
    interview_rooms: InterviewRooms = field(init=False)
    homes: MediaHomes = field(init=False)
    recordings: Registry = field(init=False)
    briefing_recordings: BriefingRecordings = field(init=False)
    dashboard_tickers: Tickers = field(init=False)
    # I1: lapsed waitlist offers, reminders and no-shows, swept on a timer.
    slot_timers: SlotTimers = field(init=False)

    # The soft wrap-up warnings of booked slots' rooms (I2).
    wrap_ups: WrapUps = field(init=False)


def database_of(source: Database | Services) -> Database:
    """The database behind what a caller holds: HTTP views have it, socket handlers Services."""
    return source.db if isinstance(source, Services) else source
