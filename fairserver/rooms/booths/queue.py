"""The honest queue (B5): positions, estimated waits, calls that expire, and no silent drops.

queue_entries is the record and the queue's one order: the open entries of a booth, in
the order they joined, are its queue (docs/decisions.md §20). Live state holds only
what is transient and arbitrates races between workers. Live keys:
  booth:{id}:grace              disconnected waiting students, score = end of their grace
  booth:{id}:calls              pending calls, member = entry id, score = call deadline
  call:{student}                "{booth}:{entry}": the one booth calling or chatting with them
  queue-entry:{id}:decision     accepted | declined | timeout | skipped | left, claimed once:
                                whoever claims it first decides how a call ends
Each action decides, writes, then reads one snapshot (`load`: one SQL statement and one
live-state read) from which every event it sends and its reply are derived.
Deadlines are enforced twice: a timer in this process sweeps the booth when one
falls due, and every queue action sweeps first, so a call whose worker died still
expires on the next action at that booth.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import TypeAdapter

from fairserver.rooms.booths.live import (
    Booth,
    count_available,
    staff_on_duty,
    staff_presence_key,
    status_key,
)
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import booth_live as store
from fairserver.store.booth_live import EntryRow, LastEntry, OpenEntryRow

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


class NotQueued(Outbound):
    """A student's place at the booth when they have none: how their last visit ended."""

    length: int
    state: Literal["none"] = "none"
    last_outcome: str | None


class Waiting(Outbound):
    length: int
    state: Literal["waiting"] = "waiting"
    entry_id: int
    position: int
    eta_seconds: int


class InChat(Outbound):
    """Called but not yet accepted without a deadline, or chatting."""

    length: int
    state: str  # called | chatting
    entry_id: int
    recruiter_id: int | None
    recruiter: str
    company: str


class CalledNow(Outbound):
    """Called, with the call's deadline."""

    length: int
    state: Literal["called"] = "called"
    entry_id: int
    recruiter_id: int | None
    recruiter: str
    company: str
    expires_at: datetime
    seconds_left: float


# One model per case: each case has its own keys (the wire never had null padding).
MyPlace = NotQueued | Waiting | CalledNow | InChat


class QueueEnded(Outbound):
    booth_id: int
    entry_id: int
    student_id: int
    student: str
    outcome: str
    reason: str


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


def average_of(durations: list[float]) -> int:
    """The mean of the recent chats' lengths, or the default before any was served."""
    if not durations:
        return DEFAULT_CHAT_SECONDS
    return max(1, round(sum(durations) / len(durations)))


async def average_chat_seconds(services: Services, booth: Booth) -> int:
    async with services.db.connect() as conn:
        durations = await store.served_durations(conn, booth.id, RECENT_CHATS)
    return average_of(durations)


# --- one snapshot per action -----------------------------------------------------------


@dataclass(frozen=True)
class QueueView:
    """The booth's queue at one moment: what every event and reply is derived from."""

    booth: Booth
    entries: list[OpenEntryRow]  # open entries in joining order, each with its state
    away: frozenset[int]  # students in their grace after a disconnect
    staff_available: int
    average_seconds: int
    last: LastEntry | None  # the asked-about student's last entry, open or ended
    now: datetime

    @property
    def waiting(self) -> list[OpenEntryRow]:
        return [row for row in self.entries if row.state == "waiting"]

    def entry_of(self, student_id: int) -> OpenEntryRow | None:
        return next((row for row in self.entries if row.student_id == student_id), None)

    def eta(self, position: int) -> int:
        return eta_seconds(position, self.staff_available, self.average_seconds)

    def positions(self) -> list[QueuePosition]:
        waiting = self.waiting
        return [
            QueuePosition(
                booth_id=self.booth.id,
                entry_id=row.id,
                position=position,
                length=len(waiting),
                eta_seconds=self.eta(position),
            )
            for position, row in enumerate(waiting, start=1)
        ]

    def queue_list(self) -> QueueList:
        """The staff's view: everyone waiting, called or chatting, in order."""
        ranks = {row.id: n for n, row in enumerate(self.waiting, start=1)}
        entries = [
            QueueRow(
                entry_id=row.id,
                student_id=row.student_id,
                name=row.student_name,
                state=row.state,
                position=ranks.get(row.id),
                joined_at=row.joined_at,
                away=row.student_id in self.away,
            )
            for row in self.entries
        ]
        return QueueList(booth_id=self.booth.id, length=len(ranks), entries=entries)

    def mine(self, student_id: int) -> MyPlace:
        """A student's place at the booth, or how their last visit to the queue ended."""
        length = len(self.waiting)
        row = self.entry_of(student_id)
        if row is None:
            outcome = None if self.last is None else self.last.outcome
            return NotQueued(length=length, last_outcome=outcome)
        if row.state == "waiting":
            position = 1 + [r.id for r in self.waiting].index(row.id)
            return Waiting(
                length=length, entry_id=row.id, position=position, eta_seconds=self.eta(position)
            )
        if row.state == "called" and row.called_at is not None:
            expires = row.called_at + timedelta(seconds=CALL_SECONDS)
            return CalledNow(
                length=length,
                entry_id=row.id,
                recruiter_id=row.called_by,
                recruiter=row.recruiter_name or "",
                company=self.booth.company_name,
                expires_at=expires,
                seconds_left=max(0.0, (expires - self.now).total_seconds()),
            )
        return InChat(
            length=length,
            state=row.state,
            entry_id=row.id,
            recruiter_id=row.called_by,
            recruiter=row.recruiter_name or "",
            company=self.booth.company_name,
        )


async def load(services: Services, booth: Booth, student_id: int | None = None) -> QueueView:
    """One SQL statement (entries, recent chats, the company's recruiters, the student's
    last entry), then one live-state read (who is away, which calls were accepted,
    the staff on duty and their statuses)."""
    async with services.db.connect() as conn:
        record = await store.queue_snapshot(
            conn, booth.id, booth.company_id, student_id, RECENT_CHATS
        )
    called = [row for row in record.open if row.called_at is not None]
    recruiters: list[int] = record.staff
    seen = await services.live.read(
        values=[decision_key(row.id) for row in called]
        + [status_key(booth, user_id) for user_id in recruiters],
        queues=[grace_key(booth)],
        presences=[staff_presence_key(booth)],
    )
    entries = []
    for row in record.open:
        if row.called_at is None:
            state = "waiting"
        elif seen.values[decision_key(row.id)] == "accepted":
            state = "chatting"
        else:
            state = "called"
        entries.append(dataclasses.replace(row, state=state))
    statuses = {user_id: seen.values[status_key(booth, user_id)] for user_id in recruiters}
    on_duty = staff_on_duty(seen.presences[staff_presence_key(booth)])
    return QueueView(
        booth=booth,
        entries=entries,
        away=frozenset(int(member) for member, _ in seen.queues[grace_key(booth)]),
        staff_available=count_available(on_duty, statuses),
        average_seconds=average_of(record.served),
        last=record.last,
        now=services.clock(),
    )


# --- what each audience hears ----------------------------------------------------------


async def announce(services: Services, view: QueueView, *, positions: bool = True) -> None:
    """Positions to each waiting student, the length to the booth, the list to its staff."""
    booth = view.booth
    if positions:
        for row, event in zip(view.waiting, view.positions(), strict=True):
            await services.notifier.emit(
                user_room(int(row.student_id)), "booth.queue_position", event
            )
    length = QueueLength(booth_id=booth.id, length=len(view.waiting))
    await services.notifier.emit(booth.room, "booth.queue", length)
    await services.notifier.emit(booth.staff_room, "booth.queue_list", view.queue_list())


async def publish(
    services: Services, booth: Booth, *, positions: bool = True, student_id: int | None = None
) -> QueueView:
    """Reads the snapshot and announces it; returns it for the caller's reply (about
    `student_id`, when given)."""
    view = await load(services, booth, student_id)
    await announce(services, view, positions=positions)
    return view


async def queue_list(services: Services, booth: Booth) -> QueueList:
    return (await load(services, booth)).queue_list()


async def my_state(services: Services, booth: Booth, student_id: int) -> MyPlace:
    return (await load(services, booth, student_id)).mine(student_id)


# --- ending an entry -------------------------------------------------------------------


async def finish(
    services: Services,
    booth: Booth,
    row: EntryRow | OpenEntryRow,
    outcome: str,
    *,
    event: str = "booth.queue_ended",
    reason: str = "",
    waiting: bool = False,
) -> bool:
    """Records how the entry ended and tells the student and the staff: nobody vanishes.

    With `waiting` the entry ends only while it is still waiting (False once called).
    A row read while waiting is ended with waiting=True, so its called_at is current."""
    async with services.db.begin() as conn:
        ended = await store.end_entry(conn, row.id, outcome, services.clock(), waiting=waiting)
    if not ended:
        return False
    student_id = int(row.student_id)
    await services.live.queue_remove(grace_key(booth), str(student_id))
    if row.called_at is not None:
        await services.live.queue_remove(calls_key(booth), str(row.id))
        await services.live.release(call_key(student_id), f"{booth.id}:{row.id}")
    message = QueueEnded(
        booth_id=booth.id,
        entry_id=row.id,
        student_id=student_id,
        student=row.student_name,
        outcome=outcome,
        reason=reason,
    )
    await services.notifier.emit(user_room(student_id), event, message)
    await services.notifier.emit(booth.staff_room, event, message)
    return True


async def open_entry(services: Services, booth: Booth, student_id: int) -> EntryRow:
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
    due = await services.live.read(queues=[calls_key(booth), grace_key(booth)])
    for member, deadline in due.queues[calls_key(booth)]:
        if deadline > now:
            break
        changed = await _expire_call(services, booth, int(member)) or changed
    for member, deadline in due.queues[grace_key(booth)]:
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
    if row is None or row.called_at is not None:
        return False
    return await finish(services, booth, row, "left", reason="disconnected", waiting=True)


def schedule_sweep(services: Services, booth: Booth, delay: float) -> None:
    """Sweeps the booth just after a deadline, so expiry needs no one to act."""
    services.tasks.later(
        max(0.0, delay) + 0.05,
        lambda: _sweep_safely(services, booth),
        name=f"queue sweep of booth {booth.id}",
    )


async def _sweep_safely(services: Services, booth: Booth) -> None:
    try:
        await sweep(services, booth)
    except Exception:
        log.exception("queue sweep of booth %s failed", booth.id)


def cancel_timers(services: Services) -> None:
    """Graceful stop: no sweep may start once the worker is closing (the app's
    Supervisor also stops the sweeps already running, before the database closes)."""
    services.tasks.cancel_timers()


async def student_online(services: Services, fair_id: int, student_id: int) -> bool:
    return student_id in await fairlive.online_users(services, fair_id)
