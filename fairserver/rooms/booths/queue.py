"""The honest queue (B5): positions, estimated waits, calls that expire, and no silent drops.

queue_entries is the record (who joined when, who called them, how it ended); live
state orders the waiting line and arbitrates races. Live keys:
  booth:{id}:queue              waiting students, score = joined time (epoch seconds)
  booth:{id}:grace              disconnected waiting students, score = end of their grace
  booth:{id}:calls              pending calls, member = entry id, score = call deadline
  call:{student}                "{booth}:{entry}": the one booth calling or chatting with them
  queue-entry:{id}:decision     accepted | declined | timeout | skipped | left, claimed once:
                                whoever claims it first decides how a call ends
Deadlines are enforced twice: a timer in this process sweeps the booth when one
falls due, and every queue action sweeps first, so a call whose worker died still
expires on the next action at that booth.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from fairserver.rooms.booths.live import Booth, available_staff
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import booth_live as store

log = logging.getLogger(__name__)

# Module constants so tests can shorten them (monkeypatch): read at call time.
CALL_SECONDS = 60.0  # a called student has this long to accept
GRACE_SECONDS = 60.0  # a disconnected student keeps their place this long
CLAIM_SLACK = 5.0  # the call claim outlives the deadline until the sweep ends it
CHAT_CLAIM_SECONDS = 2 * 3600.0  # a student in a chat is not called elsewhere
DECISION_TTL = 24 * 3600.0
DEFAULT_CHAT_SECONDS = 300  # the ETA's chat length before any chat was served
RECENT_CHATS = 10


class QueuePosition(Outbound):
    booth_id: int
    entry_id: int
    position: int
    length: int
    eta_seconds: int


class QueueLength(Outbound):
    booth_id: int
    length: int


class QueueRow(Outbound):
    entry_id: int
    student_id: int
    name: str
    state: str  # waiting | called | chatting
    position: int | None
    joined_at: datetime
    away: bool


class QueueList(Outbound):
    booth_id: int
    length: int
    entries: list[QueueRow]


class Called(Outbound):
    booth_id: int
    entry_id: int
    company: str
    recruiter_id: int
    recruiter: str
    expires_at: datetime
    seconds: float


class CallAccepted(Outbound):
    booth_id: int
    entry_id: int
    student_id: int
    student: str


class QueueEnded(Outbound):
    booth_id: int
    entry_id: int
    student_id: int
    student: str
    outcome: str
    reason: str


def queue_key(booth: Booth) -> str:
    return f"{booth.room}:queue"


def grace_key(booth: Booth) -> str:
    return f"{booth.room}:grace"


def calls_key(booth: Booth) -> str:
    return f"{booth.room}:calls"


def call_key(student_id: int) -> str:
    return f"call:{student_id}"


def decision_key(entry_id: int) -> str:
    return f"queue-entry:{entry_id}:decision"


_TIME = TypeAdapter(datetime)


def json_time(value: datetime) -> str:
    """The same text as a datetime inside an outbound event ("…Z")."""
    return str(_TIME.dump_python(value, mode="json"))


def eta_seconds(position: int, staff_available: int, average_chat_seconds: int) -> int:
    """ceil(position / max(1, staff online and not away)) × average recent chat length."""
    return math.ceil(position / max(1, staff_available)) * average_chat_seconds


async def average_chat_seconds(services: Services, booth: Booth) -> int:
    async with services.db.connect() as conn:
        durations = await store.served_durations(conn, booth.id, RECENT_CHATS)
    if not durations:
        return DEFAULT_CHAT_SECONDS
    return max(1, round(sum(durations) / len(durations)))


async def state_of(services: Services, row: dict[str, Any]) -> str:
    if row["called_at"] is None:
        return "waiting"
    accepted = await services.live.get(decision_key(row["id"])) == "accepted"
    return "chatting" if accepted else "called"


async def ensure_loaded(services: Services, booth: Booth) -> None:
    """After a restart of the live store, rebuilds the waiting line from the record."""
    marker = f"{booth.room}:queue-loaded"
    if await services.live.get(marker) is not None:
        return
    async with services.db.connect() as conn:
        rows = await store.open_entries(conn, booth.id)
    for row in rows:
        if row["called_at"] is None:
            await services.live.queue_push(
                queue_key(booth), str(row["student_id"]), row["joined_at"].timestamp()
            )
    await services.live.put(marker, "1")


# --- what each audience hears ----------------------------------------------------------


async def queue_list(services: Services, booth: Booth) -> QueueList:
    """The staff's view: everyone waiting, called or chatting, in order."""
    members = await services.live.queue_members(queue_key(booth))
    ranks = {member: n for n, (member, _score) in enumerate(members, start=1)}
    away = {member for member, _score in await services.live.queue_members(grace_key(booth))}
    async with services.db.connect() as conn:
        rows = await store.open_entries(conn, booth.id)
    entries = []
    for row in rows:
        member = str(row["student_id"])
        state = await state_of(services, row)
        entries.append(
            QueueRow(
                entry_id=row["id"],
                student_id=row["student_id"],
                name=row["student_name"],
                state=state,
                position=ranks.get(member) if state == "waiting" else None,
                joined_at=row["joined_at"],
                away=member in away,
            )
        )
    return QueueList(booth_id=booth.id, length=len(members), entries=entries)


async def publish(services: Services, booth: Booth, *, positions: bool = True) -> None:
    """Positions to each waiting student, the length to the booth, the list to its staff."""
    members = await services.live.queue_members(queue_key(booth))
    if positions and members:
        average = await average_chat_seconds(services, booth)
        staff = await available_staff(services, booth)
        async with services.db.connect() as conn:
            entry_ids = {r["student_id"]: r["id"] for r in await store.open_entries(conn, booth.id)}
        for position, (member, _score) in enumerate(members, start=1):
            event = QueuePosition(
                booth_id=booth.id,
                entry_id=entry_ids.get(int(member), 0),
                position=position,
                length=len(members),
                eta_seconds=eta_seconds(position, staff, average),
            )
            await services.notifier.emit(user_room(int(member)), "booth.queue_position", event)
    length = QueueLength(booth_id=booth.id, length=len(members))
    await services.notifier.emit(booth.room, "booth.queue", length)
    await services.notifier.emit(
        booth.staff_room, "booth.queue_list", await queue_list(services, booth)
    )


async def my_state(services: Services, booth: Booth, student_id: int) -> dict[str, Any]:
    """A student's place at the booth, or how their last visit to the queue ended."""
    length = len(await services.live.queue_members(queue_key(booth)))
    async with services.db.connect() as conn:
        row = await store.open_entry(conn, booth.id, student_id)
        last = None if row is not None else await store.last_entry(conn, booth.id, student_id)
    if row is None:
        outcome = None if last is None else last["outcome"]
        return {"length": length, "state": "none", "last_outcome": outcome}
    state = await state_of(services, row)
    mine: dict[str, Any] = {"length": length, "state": state, "entry_id": row["id"]}
    if state == "waiting":
        position = await services.live.queue_rank(queue_key(booth), str(student_id))
        mine["position"] = position
        if position is not None:
            staff = await available_staff(services, booth)
            average = await average_chat_seconds(services, booth)
            mine["eta_seconds"] = eta_seconds(position, staff, average)
    else:
        async with services.db.connect() as conn:
            recruiter = await store.user_brief(conn, int(row["called_by"]))
        mine["recruiter_id"] = row["called_by"]
        mine["recruiter"] = "" if recruiter is None else recruiter["display_name"]
        mine["company"] = booth.company_name
    if state == "called":
        expires = row["called_at"] + timedelta(seconds=CALL_SECONDS)
        mine["expires_at"] = json_time(expires)
        mine["seconds_left"] = max(0.0, (expires - services.clock()).total_seconds())
    return mine


# --- ending an entry -------------------------------------------------------------------


async def finish(
    services: Services,
    booth: Booth,
    row: dict[str, Any],
    outcome: str,
    *,
    event: str = "booth.queue_ended",
    reason: str = "",
) -> bool:
    """Records how the entry ended and tells the student and the staff: nobody vanishes."""
    async with services.db.begin() as conn:
        ended = await store.end_entry(conn, row["id"], outcome, services.clock())
    if not ended:
        return False
    student_id = int(row["student_id"])
    await services.live.queue_remove(queue_key(booth), str(student_id))
    await services.live.queue_remove(grace_key(booth), str(student_id))
    await services.live.queue_remove(calls_key(booth), str(row["id"]))
    await services.live.release(call_key(student_id), f"{booth.id}:{row['id']}")
    message = QueueEnded(
        booth_id=booth.id,
        entry_id=row["id"],
        student_id=student_id,
        student=row["student_name"],
        outcome=outcome,
        reason=reason,
    )
    await services.notifier.emit(user_room(student_id), event, message)
    await services.notifier.emit(booth.staff_room, event, message)
    return True


async def open_entry(services: Services, booth: Booth, student_id: int) -> dict[str, Any]:
    async with services.db.connect() as conn:
        row = await store.open_entry(conn, booth.id, student_id)
    if row is None:
        raise NotFound()
    return row


# --- deadlines -------------------------------------------------------------------------


async def sweep(services: Services, booth: Booth) -> None:
    """Ends calls past their deadline and graces that ran out; cheap when nothing is due."""
    now = services.clock().timestamp()
    changed = False
    for member, deadline in await services.live.queue_members(calls_key(booth)):
        if deadline > now:
            break
        changed = await _expire_call(services, booth, int(member)) or changed
    for member, deadline in await services.live.queue_members(grace_key(booth)):
        if deadline > now:
            break
        changed = await _expire_grace(services, booth, int(member)) or changed
    if changed:
        await publish(services, booth)


async def _expire_call(services: Services, booth: Booth, entry_id: int) -> bool:
    await services.live.queue_remove(calls_key(booth), str(entry_id))
    if not await services.live.claim(decision_key(entry_id), "timeout", DECISION_TTL):
        return False  # accepted, declined or skipped in time
    async with services.db.connect() as conn:
        row = await store.entry(conn, entry_id)
    if row is None:
        return False
    return await finish(services, booth, row, "timeout", event="booth.call_expired")


async def _expire_grace(services: Services, booth: Booth, student_id: int) -> bool:
    if await student_online(services, booth.fair_id, student_id):
        await services.live.queue_remove(grace_key(booth), str(student_id))
        return False  # back on another page of the fair: keeps the place
    async with services.db.connect() as conn:
        row = await store.open_entry(conn, booth.id, student_id)
    await services.live.queue_remove(grace_key(booth), str(student_id))
    if row is None or row["called_at"] is not None:
        return False
    return await finish(services, booth, row, "left", reason="disconnected")


_timers: set[asyncio.TimerHandle] = set()
_sweeps: set[asyncio.Task[None]] = set()


def schedule_sweep(services: Services, booth: Booth, delay: float) -> None:
    """Sweeps the booth just after a deadline, so expiry needs no one to act."""
    loop = asyncio.get_running_loop()

    def fire() -> None:
        _timers.discard(handle)
        task = loop.create_task(_sweep_safely(services, booth))
        _sweeps.add(task)
        task.add_done_callback(_sweeps.discard)

    handle = loop.call_later(max(0.0, delay) + 0.05, fire)
    _timers.add(handle)


async def _sweep_safely(services: Services, booth: Booth) -> None:
    try:
        await sweep(services, booth)
    except Exception:
        log.exception("queue sweep of booth %s failed", booth.id)


def cancel_timers() -> None:
    """Graceful stop: no sweep may start against a closing database."""
    for handle in _timers:
        handle.cancel()
    _timers.clear()
    for task in _sweeps:
        task.cancel()


async def student_online(services: Services, fair_id: int, student_id: int) -> bool:
    return student_id in await fairlive.online_users(services, fair_id)
