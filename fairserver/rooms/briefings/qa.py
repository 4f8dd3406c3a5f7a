"""Briefing Q&A (P3): ask, vote, and the moderators' approve, dismiss, pin and answer.

Who hears what:
- a new question is pending: only its asker (their user room) and the moderators;
- approving (or answering) makes it public: the whole question goes to the room,
  with the asker's name hidden from other students when it is anonymous;
- a dismissal, with its reason, goes to the moderators and the asker only;
- vote counts are coalesced (briefing_ticks.py): one briefing.votes per briefing
  per 250 ms tick, carrying the committed count.
Every state change is written with its event-log entry in one transaction, and
committed before the ack and before anyone hears of it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.briefings.chat import ensure_may_speak
from fairserver.rooms.briefings.live import PUBLIC_STATES, QuestionView, Seat, question_view
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import Outbound, moderators_room, user_room
from fairserver.store import briefing_live as store
from fairserver.store import events as event_log
from fairserver.store.briefing_live import NewQuestion, QuestionChange, QuestionRow
from fairserver.store.db import Database
from fairserver.text import csv_cell

Action = Literal["approve", "dismiss", "pin", "unpin", "answer"]

# action -> the states it applies to. Repeating an action on a question already in
# its resulting state changes nothing and emits nothing (a retried click).
FROM_STATES: dict[str, frozenset[str]] = {
    "approve": frozenset({"pending"}),
    "dismiss": frozenset({"pending", "approved"}),
    "answer": frozenset({"pending", "approved"}),
    "pin": PUBLIC_STATES,
    "unpin": PUBLIC_STATES,
}


class QuestionEvent(Outbound):
    room: str
    seq: int
    question: QuestionView


class QuestionRemoved(Outbound):
    room: str
    seq: int
    question_id: int


class Asked(QuestionEvent):
    """briefing.ask's answer for a new question."""

    duplicate: Literal[False] = False


class AskedBefore(Outbound):
    """briefing.ask's answer for a retry: the question as first stored."""

    room: str
    question: QuestionView
    duplicate: Literal[True] = True


class Voted(Outbound):
    question_id: int
    voted: bool
    votes: int


class Moderated(Outbound):
    question: QuestionView


async def ask(
    services: Services, actor: Actor, seat: Seat, body: str, anonymous: bool, client_id: str
) -> Asked | AskedBefore:
    """A new pending question; a retry with the same client_id is stored once."""
    user_id = actor.user_id or 0
    async with services.db.connect() as conn:
        existing = await store.question_by_client(conn, user_id, client_id)
    if existing is not None:
        return _duplicate(existing, seat)
    await ensure_may_speak(services, seat, user_id)
    now = services.clock()
    new = NewQuestion(
        briefing_id=seat.briefing_id,
        author_id=user_id,
        client_id=client_id,
        body=body,
        anonymous=anonymous,
        state="pending",
        created_at=now,
        updated_at=now,
    )
    try:
        event = await _store_question(services, seat, new)
    except IntegrityError:  # the same client_id raced in from another request
        async with services.db.connect() as conn:
            existing = await store.question_by_client(conn, user_id, client_id)
        if existing is None:
            raise
        return _duplicate(existing, seat)
    await services.notifier.emit(moderators_room(seat.room), "briefing.question", event)
    await services.notifier.emit(user_room(user_id), "briefing.question", event)
    return Asked(room=event.room, seq=event.seq, question=event.question)


async def _store_question(services: Services, seat: Seat, new: NewQuestion) -> QuestionEvent:
    """The question and its log entry (for the asker and moderators), in one transaction."""
    async with services.db.begin() as conn:
        question_id = await store.insert_question(conn, new)
        row = await store.question(conn, seat.briefing_id, question_id)
        assert row is not None
        view = question_view(row, names=True)
        seq = await event_log.append(
            conn,
            seat.room,
            "briefing.question",
            _payload(seat.room, view),
            audience_user_id=new.author_id,
            moderators_only=True,
        )
    return QuestionEvent(room=seat.room, seq=seq, question=view)


def _duplicate(row: QuestionRow, seat: Seat) -> AskedBefore:
    if row.briefing_id != seat.briefing_id:
        raise ServiceError("request.duplicate", _("This client_id was used for another question."))
    return AskedBefore(room=seat.room, question=question_view(row, names=True))


def _payload(room: str, view: QuestionView) -> dict[str, Any]:
    return {"room": room, "question": view.model_dump(mode="json")}


async def vote(services: Services, actor: Actor, seat: Seat, question_id: int, up: bool) -> Voted:
    """One vote per student on a public question; repeating a vote changes nothing."""
    user_id = actor.user_id or 0
    async with services.db.begin() as conn:
        row = await store.question(conn, seat.briefing_id, question_id)
        # Pending and dismissed questions are invisible to other students: not found.
        if row is None or row.state not in PUBLIC_STATES:
            raise NotFound()
        if up:
            changed = await store.add_vote(conn, question_id, user_id, services.clock())
        else:
            changed = await store.remove_vote(conn, question_id, user_id)
        votes = await store.vote_count(conn, question_id)
    if changed:
        services.ticks.mark_vote(seat.briefing_id, question_id)
    return Voted(question_id=question_id, voted=up, votes=votes)


async def moderate(
    services: Services, seat: Seat, question_id: int, action: Action, reason: str = ""
) -> Moderated:
    """A moderator's decision on a question, committed and sent to its audience."""
    now = services.clock()
    async with services.db.begin() as conn:
        row = await store.question(conn, seat.briefing_id, question_id)
        if row is None:
            raise NotFound()
        changes = _changes(row, action, reason, now)
        if changes is None:  # already done: nothing to store or tell
            return Moderated(question=question_view(row, names=True))
        await store.update_question(conn, question_id, changes, now)
        updated = dataclasses.replace(row, **changes.values(), updated_at=now)
        sent = await _log(conn, seat.room, row, updated)
    for room, event, data in sent:
        await services.notifier.emit(room, event, data)
    return Moderated(question=question_view(updated, names=True))


def _changes(row: QuestionRow, action: Action, reason: str, now: datetime) -> QuestionChange | None:
    state, pinned = row.state, row.pinned
    options = {
        "approve": QuestionChange(state="approved"),
        "dismiss": QuestionChange(state="dismissed", dismiss_reason=reason, pinned=False),
        "answer": QuestionChange(state="answered", answered_at=now),
        "pin": QuestionChange(pinned=True),
        "unpin": QuestionChange(pinned=False),
    }
    wanted = options[action]
    if action in {"approve", "dismiss", "answer"} and state == wanted.state:
        return None
    if action in {"pin", "unpin"} and pinned == wanted.pinned and state in PUBLIC_STATES:
        return None
    if state not in FROM_STATES[action]:
        raise ServiceError(
            "briefing.question_state",
            _("This question is %(state)s; it cannot be changed that way.") % {"state": state},
        )
    return wanted


async def _log(
    conn: AsyncConnection, room: str, before: QuestionRow, after: QuestionRow
) -> list[tuple[str, str, Outbound]]:
    """Event-log entries for a change, and the (room, event, data) to send after commit."""
    sent: list[tuple[str, str, Outbound]] = []
    if after.state in PUBLIC_STATES:
        view = question_view(after, names=False)
        seq = await event_log.append(conn, room, "briefing.question", _payload(room, view))
        sent.append((room, "briefing.question", QuestionEvent(room=room, seq=seq, question=view)))
        return sent
    # A dismissal. If the question was public, everyone drops it first...
    if before.state in PUBLIC_STATES:
        payload = {"room": room, "question_id": before.id}
        seq = await event_log.append(conn, room, "briefing.question_removed", payload)
        removed = QuestionRemoved(room=room, seq=seq, question_id=before.id)
        sent.append((room, "briefing.question_removed", removed))
    # ...then the moderators and the asker learn the state and the reason.
    view = question_view(after, names=True)
    seq = await event_log.append(
        conn,
        room,
        "briefing.question",
        _payload(room, view),
        audience_user_id=after.author_id,
        moderators_only=True,
    )
    event = QuestionEvent(room=room, seq=seq, question=view)
    sent.append((moderators_room(room), "briefing.question", event))
    sent.append((user_room(after.author_id), "briefing.question", event))
    return sent


# Export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "asked_at",
    "state",
    "votes",
    "pinned",
    "anonymous",
    "asker",
    "question",
    "dismiss_reason",
    "answered_at",
)


def _export_cell(value: object, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return csv_cell(value)


async def questions_csv(db: Database, briefing_id: int, timezone: str) -> str:
    """Every question of a briefing, for its moderators: askers are named even when
    anonymous to students. Cells go through csv_cell, so a question typed as
    "=HYPERLINK(...)" stays text in a spreadsheet."""
    async with db.connect() as conn:
        rows = await store.export_questions(conn, briefing_id)
    zone = ZoneInfo(timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        shown = {
            **dataclasses.asdict(row),
            "asked_at": row.created_at,
            "asker": row.author_name,
            "question": row.body,
        }
        writer.writerow([_export_cell(shown[column], zone) for column in EXPORT_COLUMNS])
    return out.getvalue()
