"""The slots' timers (I1): one component that sweeps, every SWEEP_SECONDS, for

- waitlist offers that have lapsed: expired, and the slot offered to the next one;
- booked interviews starting within ``reminder_minutes``: slot.reminder to the student,
  once (the conditional UPDATE of interviews.reminded_at picks one worker);
- no-shows: a booked interview whose candidate never entered the room
  ``no_show_minutes`` after the slot started is ended with outcome no_show (history
  no_show, actor NULL), and the slot, if it has not ended, goes to the waitlist.

Every worker sweeps; the conditional UPDATEs make each step happen once. Time is
``services.clock()``, so tests move it and call ``sweep()`` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fairserver.rooms.context import Services
from fairserver.rooms.fairs.live import staff_room
from fairserver.rooms.interviews import waitlist
from fairserver.rooms.interviews.media import interview_room
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import history, slot_bookings
from fairserver.store import interviews as interview_store
from fairserver.store import slots as store
from fairserver.store.slot_bookings import BookingRow

SWEEP_SECONDS = 15.0


class Reminder(Outbound):
    """slot.reminder: the student's booked interview starts soon."""

    interview_id: int
    fair_slug: str
    company_name: str
    job_title: str | None
    starts_at: datetime
    url: str


class NoShow(Outbound):
    """interview.no_show: to the interview's room and the fair's staff room."""

    interview_id: int
    fair_id: int
    booth_id: int
    slot_id: int
    student_id: int
    company_name: str
    starts_at: datetime


@dataclass(frozen=True)
class Swept:
    expired: int
    reminded: int
    no_shows: int


class SlotTimers:
    def __init__(self, services: Services) -> None:
        self.services = services

    def start(self) -> None:
        """Called once the app runs (socket/lifecycle.py); stopped with services.tasks."""
        self.services.tasks.every(SWEEP_SECONDS, self.sweep, name="slot timers")

    async def sweep(self) -> Swept:
        return Swept(
            expired=await waitlist.expire_lapsed(self.services),
            reminded=await self.remind(),
            no_shows=await self.detect_no_shows(),
        )

    async def remind(self) -> int:
        services = self.services
        now = services.clock()
        until = now + timedelta(minutes=services.settings.reminder_minutes)
        async with services.db.connect() as conn:
            due = await slot_bookings.due_reminders(conn, until, now)
        sent = 0
        for row in due:
            async with services.db.begin() as conn:
                if not await slot_bookings.mark_reminded(conn, row.interview_id, now):
                    continue
            reminder = Reminder(
                interview_id=row.interview_id,
                fair_slug=row.fair_slug,
                company_name=row.company_name,
                job_title=row.job_title,
                starts_at=row.starts_at,
                url=f"/interviews/{row.interview_id}",
            )
            await services.notifier.emit(user_room(row.student_id), "slot.reminder", reminder)
            sent += 1
        return sent

    async def detect_no_shows(self) -> int:
        services = self.services
        now = services.clock()
        started_before = now - timedelta(minutes=services.settings.no_show_minutes)
        async with services.db.connect() as conn:
            missed = await slot_bookings.no_show_candidates(conn, started_before)
        found = 0
        for row in missed:
            pending = await self._no_show(row, now)
            if pending is not None:
                found += 1
                await waitlist.emit_all(services, pending)
        return found

    async def _no_show(self, row: BookingRow, now: datetime) -> waitlist.Pending | None:
        services = self.services
        async with services.db.begin() as conn:
            await store.lock_users(conn, row.student_id)
            if not await slot_bookings.end_no_show(conn, row.interview_id, now):
                return None  # someone ended it, or the candidate came in meanwhile
            await interview_store.set_outcome(conn, row.interview_id, "no_show", None, now)
            await history.record(conn, row.interview_id, None, now, "no_show", slot_id=row.slot_id)
            pending: waitlist.Pending = []
            if row.ends_at > now and await store.free(conn, row.slot_id, row.student_id):
                slot = await store.slot(conn, row.slot_id)
                assert slot is not None
                pending += await waitlist.offer_next(services, conn, slot, now)
        event = NoShow(
            interview_id=row.interview_id,
            fair_id=row.fair_id,
            booth_id=row.booth_id,
            slot_id=row.slot_id,
            student_id=row.student_id,
            company_name=row.company_name,
            starts_at=row.starts_at,
        )
        return [
            (interview_room(row.interview_id), "interview.no_show", event),
            (staff_room(row.fair_id), "interview.no_show", event),
            *pending,
        ]
