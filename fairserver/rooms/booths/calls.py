"""Queue actions (B5): join, leave, call the next student, accept, decline, skip, end a chat.

The machinery they share (live keys, positions, deadlines, grace) is in booth_queue.py.
Every action sweeps the booth first, so an expired call is ended before anyone acts on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.booths import queue as q
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import user_room
from fairserver.store import booth_live as store

JOIN_LOCK_SECONDS = 5.0


async def _prepare(services: Services, booth: Booth) -> None:
    await q.ensure_loaded(services, booth)
    await q.sweep(services, booth)


def _user(actor: Actor) -> int:
    assert actor.user_id is not None
    return actor.user_id


async def join(services: Services, actor: Actor, booth: Booth) -> dict[str, Any]:
    """Idempotent: a student already in the queue keeps their place."""
    student_id = _user(actor)
    await _prepare(services, booth)
    lock = f"{booth.room}:joining:{student_id}"
    if not await services.live.claim(lock, "1", JOIN_LOCK_SECONDS):
        return await q.my_state(services, booth, student_id)  # a concurrent retry
    now = services.clock()
    try:
        async with services.db.begin() as conn:
            existing = await store.open_entry(conn, booth.id, student_id)
            if existing is None:
                await store.insert_entry(conn, booth.id, student_id, now)
        if existing is None:
            await services.live.queue_push(q.queue_key(booth), str(student_id), now.timestamp())
    finally:
        await services.live.release(lock, "1")
    if existing is None:
        await q.publish(services, booth)
    return await q.my_state(services, booth, student_id)


async def leave(services: Services, actor: Actor, booth: Booth) -> dict[str, Any]:
    """Leaving is an outcome ("left"), seen by the staff, never a silent drop."""
    student_id = _user(actor)
    await _prepare(services, booth)
    row = await q.open_entry(services, booth, student_id)
    if row["called_at"] is not None:
        decision = q.decision_key(row["id"])
        if not await services.live.claim(decision, "left", q.DECISION_TTL):
            if await services.live.get(decision) != "accepted":
                raise ServiceError("booth.queue_changed", _("Your place changed; reload."))
    await services.live.queue_remove(q.queue_key(booth), str(student_id))
    await q.finish(services, booth, row, "left")
    await q.publish(services, booth)
    return await q.my_state(services, booth, student_id)


async def call_next(services: Services, actor: Actor, booth: Booth) -> dict[str, Any]:
    """Calls the first waiting student whom no other booth is calling or chatting with."""
    await _prepare(services, booth)
    members = await services.live.queue_members(q.queue_key(booth))
    away = {member for member, _score in await services.live.queue_members(q.grace_key(booth))}
    async with services.db.connect() as conn:
        rows = await store.open_entries(conn, booth.id)
    waiting = {row["student_id"]: row for row in rows if row["called_at"] is None}
    for member, _score in members:
        row = waiting.get(int(member))
        if row is None:
            continue
        if member in away:
            if not await q.student_online(services, booth.fair_id, int(member)):
                continue  # disconnected: keeps the place, but is not called now
            await services.live.queue_remove(q.grace_key(booth), member)
        called = await _try_call(services, actor, booth, row)
        if called is not None:
            return {"called": called}
    return {"called": None}


async def _try_call(
    services: Services, actor: Actor, booth: Booth, row: dict[str, Any]
) -> dict[str, Any] | None:
    student_id, entry_id = int(row["student_id"]), int(row["id"])
    claim, value = q.call_key(student_id), f"{booth.id}:{entry_id}"
    if not await services.live.claim(claim, value, q.CALL_SECONDS + q.CLAIM_SLACK):
        return None  # called by, or chatting with, another booth
    if not await services.live.queue_remove(q.queue_key(booth), str(student_id)):
        await services.live.release(claim, value)  # left a moment ago
        return None
    now = services.clock()
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
    return {
        "entry_id": entry_id,
        "student_id": student_id,
        "student": row["student_name"],
        "expires_at": q.json_time(expires),
    }


async def _called_entry(services: Services, booth: Booth, student_id: int) -> dict[str, Any]:
    async with services.db.connect() as conn:
        row = await store.open_entry(conn, booth.id, student_id)
        last = await store.last_entry(conn, booth.id, student_id)
    if row is not None and row["called_at"] is not None:
        return row
    if row is None and last is not None and last["outcome"] == "timeout":
        raise ServiceError("booth.call_expired", _("The call has expired."))
    raise NotFound()


async def accept(services: Services, actor: Actor, booth: Booth) -> dict[str, Any]:
    student_id = _user(actor)
    await _prepare(services, booth)
    row = await _called_entry(services, booth, student_id)
    decision = q.decision_key(row["id"])
    if not await services.live.claim(decision, "accepted", q.DECISION_TTL):
        if await services.live.get(decision) == "accepted":
            return await q.my_state(services, booth, student_id)  # a retried accept
        raise ServiceError("booth.call_expired", _("The call has expired."))
    # While they chat, no other booth may call them.
    value = f"{booth.id}:{row['id']}"
    await services.live.put(q.call_key(student_id), value, ttl=q.CHAT_CLAIM_SECONDS)
    await services.live.queue_remove(q.calls_key(booth), str(row["id"]))
    event = q.CallAccepted(
        booth_id=booth.id, entry_id=row["id"], student_id=student_id, student=row["student_name"]
    )
    await services.notifier.emit(booth.staff_room, "booth.call_accepted", event)
    await services.notifier.emit(user_room(student_id), "booth.call_accepted", event)
    await q.publish(services, booth, positions=False)
    return await q.my_state(services, booth, student_id)


async def decline(services: Services, actor: Actor, booth: Booth) -> dict[str, Any]:
    student_id = _user(actor)
    await _prepare(services, booth)
    row = await _called_entry(services, booth, student_id)
    if not await services.live.claim(q.decision_key(row["id"]), "declined", q.DECISION_TTL):
        raise ServiceError("booth.call_expired", _("The call has expired."))
    await q.finish(services, booth, row, "declined")
    await q.publish(services, booth)
    return await q.my_state(services, booth, student_id)


async def skip(
    services: Services, actor: Actor, booth: Booth, student_id: int, reason: str
) -> dict[str, Any]:
    """The staff pass over a student, who is told (with the reason, when given)."""
    await _prepare(services, booth)
    row = await q.open_entry(services, booth, student_id)
    if row["called_at"] is None:
        if not await services.live.queue_remove(q.queue_key(booth), str(student_id)):
            raise ServiceError("booth.queue_changed", _("The queue changed; try again."))
    elif not await services.live.claim(q.decision_key(row["id"]), "skipped", q.DECISION_TTL):
        raise ServiceError("booth.in_chat", _("End the chat instead of skipping."))
    await q.finish(services, booth, row, "skipped", reason=reason)
    await q.publish(services, booth)
    return {"entry_id": row["id"], "student_id": student_id, "outcome": "skipped"}


async def end_chat(
    services: Services, actor: Actor, booth: Booth, student_id: int
) -> dict[str, Any]:
    """A chat the student accepted ends as "served"; its length feeds the ETA."""
    await _prepare(services, booth)
    row = await q.open_entry(services, booth, student_id)
    if await q.state_of(services, row) != "chatting":
        raise ServiceError("booth.not_in_chat", _("This student is not in a chat with you."))
    await q.finish(services, booth, row, "served")
    await q.publish(services, booth)
    return {"entry_id": row["id"], "student_id": student_id, "outcome": "served"}


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
        booth = Booth(
            id=row["booth_id"], fair_id=fair_id, company_id=row["company_id"], company_name=""
        )
        await services.live.queue_push(q.grace_key(booth), str(student_id), deadline)
        q.schedule_sweep(services, booth, q.GRACE_SECONDS)
        await q.publish(services, booth, positions=False)


async def resume(services: Services, student_id: int, fair_id: int) -> None:
    async with services.db.connect() as conn:
        rows = await store.waiting_entries_of_student(conn, student_id, fair_id)
    for row in rows:
        booth = Booth(
            id=row["booth_id"], fair_id=fair_id, company_id=row["company_id"], company_name=""
        )
        if await services.live.queue_remove(q.grace_key(booth), str(student_id)):
            await q.publish(services, booth, positions=False)


async def snapshot(services: Services, booth: Booth, actor: Actor, staff: bool) -> dict[str, Any]:
    """The queue part of a booth.join reply: one's own place, or the staff's list."""
    await q.ensure_loaded(services, booth)
    if actor.role == "student" and actor.user_id is not None:
        await resume(services, actor.user_id, booth.fair_id)
        return {"queue": await q.my_state(services, booth, actor.user_id)}
    length = len(await services.live.queue_members(q.queue_key(booth)))
    result: dict[str, Any] = {"queue": {"length": length, "state": "none"}}
    if staff:
        result["queue_list"] = (await q.queue_list(services, booth)).model_dump(mode="json")
    return result
