"""Queue actions (B5): join, leave, call the next student, accept, decline, skip, end a chat.

The machinery they share (live keys, positions, deadlines, grace) is in queue.py.
Every action sweeps the booth first, so an expired call is ended before anyone acts on it;
then it decides and writes, and derives its events and reply from one snapshot (q.load)
read after the write, so the last snapshot read sees every worker's committed writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.booths import queue as q
from fairserver.rooms.booths.live import Booth, BoothSnapshot
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import booth_live as store
from fairserver.store.booth_live import EntryRow, OpenEntryRow

JOIN_LOCK_SECONDS = 5.0


class CalledStudent(Outbound):
    entry_id: int
    student_id: int
    student: str
    expires_at: datetime


class CallNext(Outbound):
    """booth.queue_next's answer: whom it called, or None when nobody could be."""

    called: CalledStudent | None


class EntryEnded(Outbound):
    """booth.queue_skip's and booth.chat_end's answer."""

    entry_id: int
    student_id: int
    outcome: str


class QueueGlance(Outbound):
    """The queue part of booth.join for those who neither queue nor staff the booth."""

    length: int
    state: Literal["none"] = "none"


class BoothJoined(BoothSnapshot):
    """booth.join's answer: the booth's snapshot and one's own place in its queue."""

    queue: q.MyPlace | QueueGlance


class StaffBoothJoined(BoothSnapshot):
    """booth.join's answer for the booth's staff: the snapshot, the length, the list."""

    queue: QueueGlance
    queue_list: q.QueueList


def _user(actor: Actor) -> int:
    assert actor.user_id is not None
    return actor.user_id


async def join(services: Services, actor: Actor, booth: Booth) -> q.MyPlace:
    """Idempotent: a student already in the queue keeps their place."""
    student_id = _user(actor)
    await q.sweep(services, booth)
    lock = f"{booth.room}:joining:{student_id}"
    if not await services.live.claim(lock, "1", JOIN_LOCK_SECONDS):
        return await q.my_state(services, booth, student_id)  # a concurrent retry
    try:
        async with services.db.begin() as conn:
            entry_id = await store.insert_entry_unless_open(
                conn, booth.id, student_id, services.clock()
            )
    finally:
        await services.live.release(lock, "1")
    view = await q.load(services, booth, student_id)
    if entry_id is not None:
        await q.announce(services, view)
    return view.mine(student_id)


async def leave(services: Services, actor: Actor, booth: Booth) -> q.MyPlace:
    """Leaving is an outcome ("left"), seen by the staff, never a silent drop."""
    student_id = _user(actor)
    await q.sweep(services, booth)
    row: EntryRow | None = await q.open_entry(services, booth, student_id)
    if row is not None and row.called_at is None:
        if not await q.finish(services, booth, row, "left", waiting=True):
            row = await _still_open(services, booth, student_id)  # called meanwhile
    if row is not None and row.called_at is not None:
        decision = q.decision_key(row.id)
        if not await services.live.claim(decision, "left", q.DECISION_TTL):
            if await services.live.get(decision) != "accepted":
                raise ServiceError("booth.queue_changed", _("Your place changed; reload."))
        await q.finish(services, booth, row, "left")
    view = await q.publish(services, booth, student_id=student_id)
    return view.mine(student_id)


async def _still_open(services: Services, booth: Booth, student_id: int) -> EntryRow | None:
    async with services.db.connect() as conn:
        return await store.open_entry(conn, booth.id, student_id)


async def call_next(services: Services, actor: Actor, booth: Booth) -> CallNext:
    """Calls the first waiting student whom no other booth is calling or chatting with."""
    await q.sweep(services, booth)
    view = await q.load(services, booth)
    for row in view.waiting:
        member = int(row.student_id)
        if member in view.away:
            if not await q.student_online(services, booth.fair_id, member):
                continue  # disconnected: keeps the place, but is not called now
            await services.live.queue_remove(q.grace_key(booth), str(member))
        called = await _try_call(services, actor, booth, row)
        if called is not None:
            return CallNext(called=called)
    return CallNext(called=None)


async def _try_call(
    services: Services, actor: Actor, booth: Booth, row: OpenEntryRow
) -> CalledStudent | None:
    student_id, entry_id = int(row.student_id), int(row.id)
    claim, value = q.call_key(student_id), f"{booth.id}:{entry_id}"
    if not await services.live.claim(claim, value, q.CALL_SECONDS + q.CLAIM_SLACK):
        return None  # called by, or chatting with, another booth
    now = services.clock()
    # The record arbitrates: one recruiter's UPDATE marks the entry, a left one is not marked.
    async with services.db.begin() as conn:
        marked = await store.mark_called(conn, entry_id, _user(actor), now)
    if not marked:
        await services.live.release(claim, value)
        return None
    expires = now + timedelta(seconds=q.CALL_SECONDS)
    await services.live.queue_push(q.calls_key(booth), str(entry_id), expires.timestamp())
    q.schedule_sweep(services, booth, q.CALL_SECONDS)
    event = q.Called(
        booth_id=booth.id,
        entry_id=entry_id,
        company=booth.company_name,
        recruiter_id=_user(actor),
        recruiter=actor.display_name,
        expires_at=expires,
        seconds=q.CALL_SECONDS,
    )
    await services.notifier.emit(user_room(student_id), "booth.called", event)
    await q.publish(services, booth)
    return CalledStudent(
        entry_id=entry_id, student_id=student_id, student=row.student_name, expires_at=expires
    )


async def _called_entry(services: Services, booth: Booth, student_id: int) -> EntryRow:
    """The student's open entry, called; an open entry is always their last one."""
    async with services.db.connect() as conn:
        last = await store.last_entry(conn, booth.id, student_id)
    if last is not None and last.ended_at is None and last.called_at is not None:
        return last
    if last is not None and last.ended_at is not None and last.outcome == "timeout":
        raise ServiceError("booth.call_expired", _("The call has expired."))
    raise NotFound()


async def accept(services: Services, actor: Actor, booth: Booth) -> q.MyPlace:
    student_id = _user(actor)
    await q.sweep(services, booth)
    row = await _called_entry(services, booth, student_id)
    decision = q.decision_key(row.id)
    if not await services.live.claim(decision, "accepted", q.DECISION_TTL):
        if await services.live.get(decision) == "accepted":
            return await q.my_state(services, booth, student_id)  # a retried accept
        raise ServiceError("booth.call_expired", _("The call has expired."))
    # While they chat, no other booth may call them.
    value = f"{booth.id}:{row.id}"
    await services.live.put(q.call_key(student_id), value, ttl=q.CHAT_CLAIM_SECONDS)
    await services.live.queue_remove(q.calls_key(booth), str(row.id))
    event = q.CallAccepted(
        booth_id=booth.id, entry_id=row.id, student_id=student_id, student=row.student_name
    )
    await services.notifier.emit(booth.staff_room, "booth.call_accepted", event)
    await services.notifier.emit(user_room(student_id), "booth.call_accepted", event)
    view = await q.publish(services, booth, positions=False, student_id=student_id)
    return view.mine(student_id)


async def decline(services: Services, actor: Actor, booth: Booth) -> q.MyPlace:
    student_id = _user(actor)
    await q.sweep(services, booth)
    row = await _called_entry(services, booth, student_id)
    if not await services.live.claim(q.decision_key(row.id), "declined", q.DECISION_TTL):
        raise ServiceError("booth.call_expired", _("The call has expired."))
    await q.finish(services, booth, row, "declined")
    view = await q.publish(services, booth, student_id=student_id)
    return view.mine(student_id)


async def skip(
    services: Services, actor: Actor, booth: Booth, student_id: int, reason: str
) -> EntryEnded:
    """The staff pass over a student, who is told (with the reason, when given)."""
    await q.sweep(services, booth)
    row = await q.open_entry(services, booth, student_id)
    if row.called_at is None:
        if not await q.finish(services, booth, row, "skipped", reason=reason, waiting=True):
            raise ServiceError("booth.queue_changed", _("The queue changed; try again."))
    elif not await services.live.claim(q.decision_key(row.id), "skipped", q.DECISION_TTL):
        raise ServiceError("booth.in_chat", _("End the chat instead of skipping."))
    else:
        await q.finish(services, booth, row, "skipped", reason=reason)
    await q.publish(services, booth)
    return EntryEnded(entry_id=row.id, student_id=student_id, outcome="skipped")


async def end_chat(services: Services, actor: Actor, booth: Booth, student_id: int) -> EntryEnded:
    """A chat the student accepted ends as "served"; its length feeds the ETA."""
    await q.sweep(services, booth)
    row = await q.open_entry(services, booth, student_id)
    chatting = row.called_at is not None and (
        await services.live.get(q.decision_key(row.id)) == "accepted"
    )
    if not chatting:
        raise ServiceError("booth.not_in_chat", _("This student is not in a chat with you."))
    await q.finish(services, booth, row, "served")
    await q.publish(services, booth)
    return EntryEnded(entry_id=row.id, student_id=student_id, outcome="served")


# --- grace after a disconnect ----------------------------------------------------------


async def start_grace(services: Services, student_id: int, fair_id: int) -> None:
    """A student's last connection to the fair dropped: each waiting place is kept for
    q.GRACE_SECONDS; reconnecting anywhere in the fair keeps it for good."""
    if await q.student_online(services, fair_id, student_id):
        return
    async with services.db.connect() as conn:
        rows = await store.waiting_entries_of_student(conn, student_id, fair_id)
    deadline = services.clock().timestamp() + q.GRACE_SECONDS
    for row in rows:
        booth = Booth(id=row.booth_id, fair_id=fair_id, company_id=row.company_id, company_name="")
        await services.live.queue_push(q.grace_key(booth), str(student_id), deadline)
        q.schedule_sweep(services, booth, q.GRACE_SECONDS)
        await q.publish(services, booth, positions=False)


async def resume(services: Services, student_id: int, fair_id: int) -> None:
    async with services.db.connect() as conn:
        rows = await store.waiting_entries_of_student(conn, student_id, fair_id)
    for row in rows:
        booth = Booth(id=row.booth_id, fair_id=fair_id, company_id=row.company_id, company_name="")
        if await services.live.queue_remove(q.grace_key(booth), str(student_id)):
            await q.publish(services, booth, positions=False)


async def joined(
    services: Services, booth: Booth, actor: Actor, entered: BoothSnapshot
) -> BoothJoined | StaffBoothJoined:
    """booth.join's answer: the booth's snapshot (live.enter) with the queue part, one's
    own place for a student, the staff's list for the booth's staff."""
    base = dict(entered)
    if actor.role == "student" and actor.user_id is not None:
        await resume(services, actor.user_id, booth.fair_id)
        return BoothJoined(**base, queue=await q.my_state(services, booth, actor.user_id))
    view = await q.load(services, booth)
    glance = QueueGlance(length=len(view.waiting))
    if entered.is_staff:
        return StaffBoothJoined(**base, queue=glance, queue_list=view.queue_list())
    return BoothJoined(**base, queue=glance)
