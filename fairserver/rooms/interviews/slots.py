"""Interview slots (I1): who may reach them, the booking window, and booking, cancelling and
rescheduling one. Publishing a series, withdrawing and "continue later" are in
slot_publish.py; waitlists in waitlist.py; the timers (lapsed offers, reminders,
no-shows) in slot_timers.py.

A booking is the conditional UPDATE ``open -> booked`` (store/slots.py ``book``): two
students racing for the last slot leave one booking. One student's bookings are
serialised by a lock on their user row, so "one active booking per (booth, job)" holds
even for two tabs at once. Outside the fair's booking window nobody books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Actor
from fairserver.i18n import current_locale
from fairserver.i18n import gettext as _
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths.access import BoothAccess, access_booth
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import waitlist
from fairserver.rooms.interviews.waitlist import SlotBooked, SlotCancelled, Waiting
from fairserver.rooms.notify import user_room
from fairserver.rows import FairRow
from fairserver.store import history, slot_bookings
from fairserver.store import slots as store
from fairserver.store import waitlist as waitlist_store
from fairserver.store.db import Database
from fairserver.store.interviews import InterviewRow
from fairserver.store.slot_bookings import BookingRow
from fairserver.store.slots import SlotRow


@dataclass(frozen=True)
class Scope:
    """A booth, or one of its jobs, whose slots a caller may see."""

    booth: BoothAccess
    job_id: int | None
    job_title: str | None

    @property
    def fair(self) -> FairRow:
        return self.booth.fair.fair

    @property
    def url(self) -> str:
        return waitlist.slots_url(self.fair.slug, self.booth.id, self.job_id)


@dataclass(frozen=True)
class SlotPage:
    """What the student's slot page shows."""

    scope: Scope
    free: list[SlotRow]
    booking: SlotRow | None
    booking_interview: int | None
    entry: Waiting | None
    offered: SlotRow | None  # the slot held for the student by their waitlist offer
    offer_expires_at: datetime | None
    closed: str | None  # why nobody can book now, or None inside the window
    lapsed: bool  # the student's last waitlist offer here lapsed
    jobs: list[tuple[int, str]]
    may_book: bool


async def access_scope(
    source: Database | Services, actor: Actor, slug: str, booth_id: int, job_id: int | None
) -> Scope:
    """A booth the caller may see, and (when given) a job posted at it; else NotFound."""
    found = await access_booth(source, actor, slug, booth_id)
    title = None
    if job_id is not None:
        async with database_of(source).connect() as conn:
            title = await store.booth_job(conn, booth_id, job_id)
        if title is None:
            raise NotFound()
    return Scope(found, job_id, title)


def may_book(actor: Actor, scope: Scope) -> bool:
    """Students who may take part in the fair book; everyone else only looks."""
    return can(actor, Right.FAIR_JOIN, scope.booth.fair)


def require_booker(actor: Actor, scope: Scope) -> None:
    if not may_book(actor, scope):
        raise NotFound()


def local_time(value: datetime, fair: FairRow) -> str:
    zone = ZoneInfo(fair.timezone)
    return format_datetime(value, "short", tzinfo=zone, locale=current_locale())


def closed_reason(fair: FairRow, now: datetime) -> str | None:
    """Why bookings are refused now: before, after, or without a window; None inside."""
    opens, closes = fair.booking_opens_at, fair.booking_closes_at
    if opens is None or closes is None:
        return _("Bookings are closed for this fair.")
    if now < opens:
        return _("Bookings open at %(when)s (%(tz)s).") % {
            "when": local_time(opens, fair),
            "tz": fair.timezone,
        }
    if now >= closes:
        return _("Bookings closed at %(when)s (%(tz)s).") % {
            "when": local_time(closes, fair),
            "tz": fair.timezone,
        }
    return None


def _require_window(fair: FairRow, now: datetime) -> None:
    reason = closed_reason(fair, now)
    if reason is not None:
        raise ServiceError("slot.closed", reason)


async def slot_page(services: Services, actor: Actor, scope: Scope) -> SlotPage:
    now, me = services.clock(), actor.user_id or 0
    booth_id, job_id = scope.booth.id, scope.job_id
    async with services.db.connect() as conn:
        rows = await store.scope_slots(conn, booth_id, job_id, now)
        booking = await store.student_booking(conn, me, booth_id, job_id, now)
        interview_id = None if booking is None else await store.slot_interview(conn, booking.id, me)
        found = await waitlist_store.last_entry(conn, me, booth_id, job_id)
        lapsed = found is not None and found.state == "expired"
        if found is not None and found.state not in waitlist_store.ACTIVE:
            found = None
        entry = None if found is None else await waitlist.entry_view(conn, found)
        jobs = await store.booth_jobs(conn, booth_id)
        offered = None
        if found is not None and found.state == "offered" and found.offered_slot_id:
            # Read on its own: a slot freed by a no-show has started, so it is not in rows.
            offered = await store.slot(conn, found.offered_slot_id)
    free = [
        r
        for r in rows
        if r.state == "open" or (r.state == "held" and r.held_until and r.held_until <= now)
    ]
    return SlotPage(
        scope=scope,
        free=free,
        booking=booking,
        booking_interview=interview_id,
        entry=entry,
        offered=offered,
        offer_expires_at=None if found is None else found.offer_expires_at,
        closed=closed_reason(scope.fair, now),
        lapsed=lapsed and booking is None,
        jobs=jobs,
        may_book=may_book(actor, scope),
    )


def _in_scope(slot: SlotRow | None, scope: Scope) -> SlotRow:
    """A slot of this booth and job; any other is missing."""
    if slot is None or slot.booth_id != scope.booth.id or slot.job_id != scope.job_id:
        raise NotFound()
    return slot


def _taken() -> ServiceError:
    return ServiceError("slot.taken", _("Someone else has just booked this slot."))


async def book(services: Services, actor: Actor, scope: Scope, slot_id: int) -> SlotBooked:
    """Books a slot for the student: one booking per booth (or job), inside the window."""
    require_booker(actor, scope)
    assert actor.user_id is not None
    student, now = actor.user_id, services.clock()
    _require_window(scope.fair, now)
    async with services.db.begin() as conn:
        await store.lock_users(conn, student)
        slot = _in_scope(await store.slot(conn, slot_id), scope)
        if await store.bookings_in_scope(conn, student, slot.booth_id, slot.job_id, now):
            raise ServiceError(
                "slot.already_booked",
                _("You already have a booking here: cancel or reschedule it."),
            )
        if not await store.book(conn, slot.id, student, now):
            raise _taken()
        interview_id = await store.insert_booking(conn, slot, student, student, now, "booked")
        pending = await waitlist.after_booking(services, conn, student, slot, now)
    booked = waitlist.booked_event(slot, interview_id, scope.fair.slug)
    await services.notifier.emit(user_room(student), "slot.booked", booked)
    await waitlist.emit_all(services, pending)
    return booked


async def cancel(services: Services, actor: Actor, scope: Scope, slot_id: int) -> SlotCancelled:
    """The student cancels their own booking; the slot is offered to the waitlist."""
    require_booker(actor, scope)
    assert actor.user_id is not None
    student, now = actor.user_id, services.clock()
    async with services.db.begin() as conn:
        await store.lock_users(conn, student)
        slot = _in_scope(await store.slot(conn, slot_id), scope)
        if slot.booked_by != student:
            raise NotFound()  # another student's booking is not there for this one
        if slot.starts_at <= now:
            raise ServiceError("slot.started", _("This slot has started: it cannot be cancelled."))
        interview_id = await unbook(conn, slot, student, student, now, "cancelled")
        fresh = await store.slot(conn, slot.id)
        assert fresh is not None
        pending = await waitlist.offer_next(services, conn, fresh, now)
    cancelled = SlotCancelled(
        slot_id=slot.id,
        interview_id=interview_id,
        booth_id=slot.booth_id,
        job_id=slot.job_id,
        by="student",
        url=scope.url,
    )
    await services.notifier.emit(user_room(student), "slot.cancelled", cancelled)
    await waitlist.emit_all(services, pending)
    return cancelled


async def unbook(
    conn: AsyncConnection, slot: SlotRow, student: int, actor_id: int, now: datetime, kind: str
) -> int | None:
    """Frees the student's slot and cancels its interview with a history row ``kind``."""
    if not await store.free(conn, slot.id, student):
        raise NotFound()
    interview_id = await store.slot_interview(conn, slot.id, student)
    if interview_id is not None and await store.cancel_interview(conn, interview_id, now):
        await history.record(conn, interview_id, actor_id, now, kind, slot_id=slot.id)
    return interview_id


async def reschedule(
    services: Services, actor: Actor, scope: Scope, from_slot: int, to_slot: int
) -> SlotBooked:
    """Moves the student's booking to another free slot of the same booth and job, in one
    transaction: the new one booked, the old one freed (and offered to the waitlist)."""
    require_booker(actor, scope)
    assert actor.user_id is not None
    student, now = actor.user_id, services.clock()
    _require_window(scope.fair, now)
    async with services.db.begin() as conn:
        await store.lock_users(conn, student)
        old = _in_scope(await store.slot(conn, from_slot), scope)
        new = _in_scope(await store.slot(conn, to_slot), scope)
        if old.booked_by != student or old.id == new.id:
            raise NotFound()
        if not await store.book(conn, new.id, student, now):
            raise _taken()
        await unbook(conn, old, student, student, now, "rescheduled")
        interview_id = await store.insert_booking(conn, new, student, student, now, "rescheduled")
        freed = await store.slot(conn, old.id)
        assert freed is not None
        pending = await waitlist.offer_next(services, conn, freed, now)
    booked = waitlist.booked_event(new, interview_id, scope.fair.slug)
    await services.notifier.emit(user_room(student), "slot.booked", booked)
    await waitlist.emit_all(services, pending)
    return booked


async def join_waitlist(services: Services, actor: Actor, scope: Scope) -> Waiting:
    require_booker(actor, scope)
    return await waitlist.join_waitlist(
        services, actor, scope.fair.id, scope.booth.id, scope.job_id
    )


# The booking window (the organiser's) --------------------------------------------------


def parse_local(value: str, fair: FairRow) -> datetime | None:
    """A datetime-local field's value in the fair's zone, as UTC; None when empty."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ServiceError("slot.window_invalid", _("Enter a date and time.")) from None
    if parsed.tzinfo is not None or not 1970 <= parsed.year <= 2200:
        raise ServiceError("slot.window_invalid", _("Enter a date and time."))
    return parsed.replace(second=0, microsecond=0, tzinfo=ZoneInfo(fair.timezone)).astimezone(UTC)


def window_inputs(fair: FairRow) -> dict[str, str]:
    """The window as datetime-local values in the fair's zone (empty when closed)."""
    zone = ZoneInfo(fair.timezone)

    def shown(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    return {"opens": shown(fair.booking_opens_at), "closes": shown(fair.booking_closes_at)}


async def set_booking_window(
    db: Database, fa: FairAccess, opens_text: str, closes_text: str
) -> None:
    """Both empty closes bookings; otherwise both are needed and closes after opens."""
    opens, closes = parse_local(opens_text, fa.fair), parse_local(closes_text, fa.fair)
    if (opens is None) != (closes is None):
        raise ServiceError(
            "slot.window_invalid",
            _("Give both the opening and the closing time, or neither to close bookings."),
        )
    if opens is not None and closes is not None and closes <= opens:
        raise ServiceError("slot.window_invalid", _("Bookings must close after they open."))
    async with db.begin() as conn:
        await store.set_booking_window(conn, fa.id, opens, closes)


async def bookings_of(source: Database | Services, actor: Actor, fair_id: int) -> list[BookingRow]:
    """The student's booked interviews in a fair still to happen (their agenda)."""
    if actor.user_id is None:
        return []
    async with database_of(source).connect() as conn:
        return await slot_bookings.bookings_of(conn, actor.user_id, fair_id)


async def interview_slot(source: Database | Services, interview: InterviewRow) -> SlotRow:
    """The slot an interview was booked in (reached with access_interview); none: NotFound."""
    if interview.slot_id is None:
        raise NotFound()
    async with database_of(source).connect() as conn:
        slot = await store.slot(conn, interview.slot_id)
    if slot is None:
        raise NotFound()
    return slot
