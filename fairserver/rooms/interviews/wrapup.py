"""The soft wrap-up (I2): settings.wrap_up_minutes before a booked slot's end, the room
hears interview.wrap_up once. Nothing is cut off: the timer counts overtime after the end.

Every worker runs the same round; the conditional UPDATE of interviews.wrap_up_at lets
exactly one of them send each warning. The snapshot carries wrap_up_at, so a page opened
after the warning shows it too. The clock is services.clock (tests move it).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fairserver.rooms.context import Services
from fairserver.rooms.interviews.media import interview_room
from fairserver.rooms.notify import Outbound
from fairserver.store import interviews as store

# Module constant so tests could shorten it: a warning goes out at most this late.
ROUND_SECONDS = 10.0


class WrapUp(Outbound):
    """interview.wrap_up: the slot ends soon."""

    interview_id: int
    wrap_up_at: datetime
    ends_at: datetime
    minutes_left: int


class WrapUps:
    """The component (one per Services, built in rooms/wiring.py)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.task: asyncio.Task[object] | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = self.services.tasks.every(
                ROUND_SECONDS, self.round, name="interview wrap-up"
            )

    async def round(self) -> int:
        """Sends every warning that is due; returns how many this worker sent."""
        services = self.services
        now = services.clock()
        within = timedelta(minutes=services.settings.wrap_up_minutes)
        async with services.db.connect() as conn:
            due = await store.wrap_up_due(conn, now, within)
        sent = 0
        for row in due:
            async with services.db.begin() as conn:
                mine = await store.mark_wrap_up(conn, row.id, now)
            if not mine:  # another worker sent this one
                continue
            left = max(0, round((row.ends_at - now).total_seconds() / 60))
            event = WrapUp(
                interview_id=row.id, wrap_up_at=now, ends_at=row.ends_at, minutes_left=left
            )
            await services.notifier.emit(interview_room(row.id), "interview.wrap_up", event)
            sent += 1
        return sent
