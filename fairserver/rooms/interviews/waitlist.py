"""Waitlists for interview slots (I1): a student waits for a slot of a booth or of a job;
a slot freed by a cancellation or a no-show is offered to the first one waiting.

An offer holds the slot for that student (slot state ``held``, entry ``offered``) until
``waitlist_offer_minutes`` have passed. The student takes it (both rows change by
conditional UPDATEs, so a take from two tabs at once books once), declines it, or lets it
lapse; then the slot goes to the next one waiting (the sweep in slot_timers.py). Every
step is told to the student's user room after the commit.

The events of a booking (SlotBooked, SlotCancelled) are defined here, below slots.py,
which imports this module for offering a slot it frees.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import slots as slot_store
from fairserver.store import waitlist as store
from fairserver.store.slots import SlotRow
from fairserver.store.waitlist import EntryRow

Pending = list[tuple[str, str, Outbound]]  # (room, event, model), sent after the commit


def slots_url(fair_slug: str, booth_id: int, job_id: int | None) -> str:
    base = f"/fairs/{fair_slug}/booths/{booth_id}/slots"
    return base if job_id is None else f"{base}?job={job_id}"


class SlotBooked(Outbound):
    """slot.booked (to the student) and the answer of a booking, a take or a reschedule."""

    slot_id: int
    interview_id: int
    booth_id: int
    job_id: int | None
    starts_at: datetime
    ends_at: datetime
    url: str  # the slots page
    room_url: str  # the interview room


class SlotCancelled(Outbound):
    """slot.cancelled: the student's booking ended (by them, or the company withdrew it)."""

    slot_id: int
    interview_id: int | None
    booth_id: int
    job_id: int | None
    by: Literal["student", "company"]
    url: str


class Offered(Outbound):
    """slot.offered: a freed slot is held for this student until expires_at."""

    entry_id: int
    slot_id: int
    booth_id: int
    job_id: int | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime
    url: str


class OfferExpired(Outbound):
    """slot.offer_expired: the offer lapsed (or the company withdrew the slot)."""

    entry_id: int
    slot_id: int
    booth_id: int
    job_id: int | None
    url: str


class Waiting(Outbound):
    """The answer of joining a waitlist, and the page's view of one's entry."""

    entry_id: int
    booth_id: int
    job_id: int | None
    state: str
    position: int  # 1 = next to be offered; 0 once offered


class Declined(Outbound):
    entry_id: int
    state: str


async def emit_all(services: Services, pending: Pending) -> None:
    for room, event, model in pending:
        await services.notifier.emit(room, event, model)


async def _fair_slug(conn: AsyncConnection, slot: SlotRow) -> str:
    return await slot_store.fair_slug(conn, slot.fair_id)


async def offer_next(
    services: Services, conn: AsyncConnection, slot: SlotRow, now: datetime
) -> Pending:
    """Offers an open slot to the first student waiting in its scope, inside the caller's
    transaction. A slot that has ended is offered to nobody; the hold never outlasts the
    slot's start (or, for a slot freed by a no-show after it started, its end)."""
    if slot.ends_at <= now:
        return []
    limit = slot.starts_at if slot.starts_at > now else slot.ends_at
    until = min(now + timedelta(minutes=services.settings.waitlist_offer_minutes), limit)
    skip: set[int] = set()
    while (found := await store.first_waiting(conn, slot.booth_id, slot.job_id, skip)) is not None:
        skip.add(found.id)
        if await slot_store.bookings_in_scope(
            conn, found.student_id, slot.booth_id, slot.job_id, now
        ):
            continue  # booked another slot of the scope since joining
        if not await slot_store.hold(conn, slot.id, found.student_id, until):
            return []  # someone booked it meanwhile
        if not await store.offer(conn, found.id, slot.id, now, until):
            await slot_store.release_hold(conn, slot.id, found.student_id)
            continue  # they left the list meanwhile
        offered = Offered(
            entry_id=found.id,
            slot_id=slot.id,
            booth_id=slot.booth_id,
            job_id=slot.job_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            expires_at=until,
            url=slots_url(await _fair_slug(conn, slot), slot.booth_id, slot.job_id),
        )
        return [(user_room(found.student_id), "slot.offered", offered)]
    return []


async def _own_entry(conn: AsyncConnection, actor: Actor, entry_id: int) -> EntryRow:
    """The caller's own entry; another student's is missing, like an unknown id."""
    found = await store.entry(conn, entry_id)
    if found is None or found.student_id != actor.user_id:
        raise NotFound()
    return found


def _gone() -> ServiceError:
    return ServiceError("slot.offer_gone", _("This offer is no longer open."))


async def take_offer(services: Services, actor: Actor, entry_id: int) -> SlotBooked:
    """The student takes the slot offered to them: the entry's conditional UPDATE decides
    which of two tabs wins; the other is told the offer is gone."""
    assert actor.user_id is not None
    student, now = actor.user_id, services.clock()
    async with services.db.begin() as conn:
        await slot_store.lock_users(conn, student)
        found = await _own_entry(conn, actor, entry_id)
        if found.offered_slot_id is None or not await store.take(conn, entry_id, student, now):
            raise _gone()
        if not await slot_store.take_hold(conn, found.offered_slot_id, student):
            raise _gone()  # rolls the entry back too
        slot = await slot_store.slot(conn, found.offered_slot_id)
        assert slot is not None
        if await slot_store.bookings_in_scope(conn, student, slot.booth_id, slot.job_id, now) > 1:
            raise ServiceError("slot.already_booked", _("You already have a booking here."))
        interview_id = await slot_store.insert_booking(
            conn, slot, student, student, now, "offer_taken"
        )
        slug = await _fair_slug(conn, slot)
    booked = booked_event(slot, interview_id, slug)
    await services.notifier.emit(user_room(student), "slot.booked", booked)
    return booked


def booked_event(slot: SlotRow, interview_id: int, fair_slug: str) -> SlotBooked:
    return SlotBooked(
        slot_id=slot.id,
        interview_id=interview_id,
        booth_id=slot.booth_id,
        job_id=slot.job_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        url=slots_url(fair_slug, slot.booth_id, slot.job_id),
        room_url=f"/interviews/{interview_id}",
    )


async def _end_offer(
    services: Services, conn: AsyncConnection, found: EntryRow, state: str, now: datetime
) -> Pending | None:
    """offered -> ``state``, the slot released and offered to the next one; None when the
    offer had already ended."""
    if found.offered_slot_id is None or not await store.end_offer(conn, found.id, state, now):
        return None
    pending: Pending = []
    if await slot_store.release_hold(conn, found.offered_slot_id, found.student_id):
        slot = await slot_store.slot(conn, found.offered_slot_id)
        assert slot is not None
        if state == "expired":
            lapsed = OfferExpired(
                entry_id=found.id,
                slot_id=slot.id,
                booth_id=slot.booth_id,
                job_id=slot.job_id,
                url=slots_url(await _fair_slug(conn, slot), slot.booth_id, slot.job_id),
            )
            pending.append((user_room(found.student_id), "slot.offer_expired", lapsed))
        pending += await offer_next(services, conn, slot, now)
    return pending


async def after_booking(
    services: Services,
    conn: AsyncConnection,
    student: int,
    slot: SlotRow,
    now: datetime,
) -> Pending:
    """A student who booked a slot of a scope stops waiting there. An offer they held in it
    ends too: for the slot they booked, nothing more; for another, that slot goes on to the
    next one waiting."""
    found = await store.active_entry(conn, student, slot.booth_id, slot.job_id)
    if found is None:
        return []
    if found.state == "waiting":
        await store.booked_in_scope(conn, student, slot.booth_id, slot.job_id, now)
        return []
    return await _end_offer(services, conn, found, "booked", now) or []


async def decline_offer(services: Services, actor: Actor, entry_id: int) -> Declined:
    """The student turns the offer down and leaves the list; the slot goes to the next."""
    assert actor.user_id is not None
    now = services.clock()
    async with services.db.begin() as conn:
        await slot_store.lock_users(conn, actor.user_id)
        found = await _own_entry(conn, actor, entry_id)
        pending = await _end_offer(services, conn, found, "left", now)
    if pending is None:
        raise _gone()
    await emit_all(services, pending)
    return Declined(entry_id=entry_id, state="left")


async def expire_lapsed(services: Services) -> int:
    """Ends every offer whose time is up and moves its slot on; returns how many."""
    now = services.clock()
    async with services.db.connect() as conn:
        lapsed = await store.lapsed_offers(conn, now)
    done = 0
    for found in lapsed:
        async with services.db.begin() as conn:
            await slot_store.lock_users(conn, found.student_id)
            pending = await _end_offer(services, conn, found, "expired", now)
        if pending is not None:
            done += 1
            await emit_all(services, pending)
    return done


async def entry_view(conn: AsyncConnection, found: EntryRow) -> Waiting:
    position = await store.position(conn, found) if found.state == "waiting" else 0
    return Waiting(
        entry_id=found.id,
        booth_id=found.booth_id,
        job_id=found.job_id,
        state=found.state,
        position=position,
    )


async def join_waitlist(
    services: Services, actor: Actor, fair_id: int, booth_id: int, job_id: int | None
) -> Waiting:
    """Joins the scope's list (the caller checked access); only when no slot is free and
    the student has no booking there. Joining twice answers the same entry."""
    assert actor.user_id is not None
    student, now = actor.user_id, services.clock()
    async with services.db.begin() as conn:
        await slot_store.lock_users(conn, student)
        found = await store.active_entry(conn, student, booth_id, job_id)
        if found is None:
            if await slot_store.bookings_in_scope(conn, student, booth_id, job_id, now):
                raise ServiceError("slot.already_booked", _("You already have a booking here."))
            if await slot_store.free_in_scope(conn, booth_id, job_id, now):
                raise ServiceError(
                    "slot.available", _("A slot is free: book it instead of waiting.")
                )
            await store.join(conn, fair_id, booth_id, job_id, student, now)
            found = await store.active_entry(conn, student, booth_id, job_id)
            assert found is not None
        return await entry_view(conn, found)


async def leave_waitlist(services: Services, actor: Actor, entry_id: int) -> Declined:
    """A waiting student leaves the list (an offered one declines instead)."""
    assert actor.user_id is not None
    async with services.db.begin() as conn:
        await slot_store.lock_users(conn, actor.user_id)
        found = await _own_entry(conn, actor, entry_id)
        if found.state == "offered":
            pending = await _end_offer(services, conn, found, "left", services.clock())
        elif await store.leave(conn, entry_id, found.student_id, services.clock()):
            pending = []
        else:
            pending = None
    if pending is None:
        raise ServiceError("slot.not_waiting", _("You are not on this waitlist."))
    await emit_all(services, pending)
    return Declined(entry_id=entry_id, state="left")


async def withdraw_offer(conn: AsyncConnection, slot: SlotRow) -> Pending:
    """The company withdraws a held slot: its offer ends and the student waits again."""
    found = await store.offer_of_slot(conn, slot.id)
    if found is None or not await store.unoffer(conn, found.id):
        return []
    lapsed = OfferExpired(
        entry_id=found.id,
        slot_id=slot.id,
        booth_id=slot.booth_id,
        job_id=slot.job_id,
        url=slots_url(await _fair_slug(conn, slot), slot.booth_id, slot.job_id),
    )
    return [(user_room(found.student_id), "slot.offer_expired", lapsed)]
