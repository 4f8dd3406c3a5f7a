"""When a booked slot's room opens (I2), and its times as the page shows them.

A slot interview's room opens at the slot's start. Its interviewers may come in
INTERVIEWERS_EARLY before that, to set up their camera and talk among themselves; the
candidate cannot knock and nobody can be admitted until the start (interview.not_open).
From the start the waiting room works as for any interview. Interviews without a slot
(the queue, an escalated chat) are open from the moment they exist. docs/decisions.md §26.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.notify import Outbound
from fairserver.store import interviews as store
from fairserver.store.db import Database
from fairserver.store.interviews import ColleagueRow, InterviewRow, ParticipantRow, SlotTimesRow

INTERVIEWERS_EARLY = timedelta(minutes=5)


def opens_at(slot: SlotTimesRow, role: str) -> datetime:
    """When the room opens for a participant of this role."""
    return slot.starts_at - INTERVIEWERS_EARLY if role == "interviewer" else slot.starts_at


def not_open_error(slot: SlotTimesRow) -> ServiceError:
    return ServiceError(
        "interview.not_open",
        "the room opens at the slot's start",
        opens_at=slot.starts_at.isoformat(),
    )


class SlotView(Outbound):
    """A slot interview's times in interview.join's snapshot (``isoformat()`` strings)."""

    starts_at: str
    ends_at: str
    minutes: int  # the slot's length, the timer's "/ 30:00"
    opens_at: str  # for the caller: interviewers a few minutes before the start
    open: bool  # whether the room is open to the caller now
    wrap_up_at: str | None  # when the wrap-up warning went out, if it has


def slot_view(slot: SlotTimesRow, role: str, now: datetime) -> SlotView:
    opening = opens_at(slot, role)
    return SlotView(
        starts_at=slot.starts_at.isoformat(),
        ends_at=slot.ends_at.isoformat(),
        minutes=round((slot.ends_at - slot.starts_at).total_seconds() / 60),
        opens_at=opening.isoformat(),
        open=now >= opening,
        wrap_up_at=slot.wrap_up_at.isoformat() if slot.wrap_up_at else None,
    )


async def page_context(
    source: Database | Services,
    interview: InterviewRow,
    me: ParticipantRow,
    staff: list[ColleagueRow],
) -> dict[str, Any]:
    """What the interview page shows of a slot's times, and whom an interviewer may hand
    the interview to (every other active recruiter of its company)."""
    slot = None
    if interview.slot_id is not None:
        async with database_of(source).connect() as conn:
            slot = await store.slot_times(conn, interview.id)
    interviewer = me.role == "interviewer"
    return {
        "slot": slot,
        "opens_at": opens_at(slot, me.role) if slot else None,
        "early_minutes": int(INTERVIEWERS_EARLY.total_seconds() // 60),
        "hand_off_to": [c for c in staff if c.id != me.user_id] if interviewer else [],
    }
