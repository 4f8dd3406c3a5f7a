"""What every service needs, in one object the app builds once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fairserver.clock import utcnow
from fairserver.rooms.notify import Notifier
from fairserver.settings import Settings
from fairserver.store.db import Database
from fairserver.store.live import LiveState


@dataclass
class Services:
    db: Database
    live: LiveState
    notifier: Notifier
    # Names this process in connection ids, so workers never close each other's intervals.
    worker_id: str
    clock: Callable[[], datetime] = field(default=utcnow)
    settings: Settings = field(default_factory=Settings)
