"""An interview's outcome (I4) and its release to the student.

The panel sets an outcome (advance, offer, reject, hold, no_show) with a message for the
student; the student sees the outcome and the message only once someone on the panel
releases it. A new outcome after a release withdraws that release: the student sees
nothing until the new one is released too (decisions §24). The release names the outcome
the releaser saw, so that a colleague's change made meanwhile is never released unseen.
Each change is committed with its history row before it is acknowledged; the student's
event (interview.outcome_released, the outcome and the message only) goes after the commit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.context import Services
from fairserver.rooms.errors import Refused
from fairserver.rooms.interviews.scorecards import OutcomeView, outcome_view
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import history
from fairserver.store import interviews as interview_store
from fairserver.store import scorecards as store
from fairserver.store.interviews import InterviewRow
from fairserver.text import Text

MAX_MESSAGE = 2000
Outcome = Literal["advance", "offer", "reject", "hold", "no_show"]


class OutcomeForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    message: Text = Field(default="", max_length=MAX_MESSAGE)


class ReleaseForm(BaseModel):
    """The outcome the releaser is looking at."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome


class ReleasedOutcome(Outbound):
    """What the student is told, and all they are told: interview.outcome_released."""

    interview_id: int
    outcome: str
    message: str


async def set_outcome(
    services: Services, actor: Actor, interview: InterviewRow, outcome: str, message: str
) -> OutcomeView:
    """Records the outcome and message, unreleased. The same outcome and message again is
    no change (a resubmitted form must not withdraw a release)."""
    now, by = services.clock(), actor.user_id or 0
    async with services.db.begin() as conn:
        before = await store.outcome(conn, interview.id)
        if before is not None and (before.outcome, before.student_message) == (outcome, message):
            return outcome_view(interview.id, before)
        await interview_store.set_outcome(conn, interview.id, outcome, by, now, message)
        await history.record(
            conn,
            interview.id,
            by,
            now,
            "outcome",
            outcome=outcome,
            previous=before.outcome if before else None,
            release_withdrawn=bool(before and before.released_at),
        )
        after = await store.outcome(conn, interview.id)
    return outcome_view(interview.id, after)


async def release(
    services: Services, actor: Actor, interview: InterviewRow, outcome: str
) -> OutcomeView:
    """Releases ``outcome`` to the student, once: a second release of it (another tab, a
    colleague) changes nothing and sends nothing."""
    now, by = services.clock(), actor.user_id or 0
    async with services.db.begin() as conn:
        released = await store.release(conn, interview.id, outcome, now)
        if released:
            await history.record(conn, interview.id, by, now, "released", outcome=outcome)
        row = await store.outcome(conn, interview.id)
    view = outcome_view(interview.id, row)
    if not released:
        if view.outcome is None:
            raise Refused("outcome", _("Choose an outcome first."), "outcome.missing")
        if view.outcome != outcome:
            raise Refused(
                "outcome",
                _("The outcome was changed meanwhile. Check it and release again."),
                "outcome.changed",
            )
        return view
    await services.notifier.emit(
        user_room(interview.student_id),
        "interview.outcome_released",
        ReleasedOutcome(interview_id=interview.id, outcome=outcome, message=view.message),
    )
    return view


def released_outcome(interview: InterviewRow) -> ReleasedOutcome | None:
    """What the student may see of an interview's outcome: nothing until it is released."""
    if interview.released_at is None or interview.outcome is None:
        return None
    return ReleasedOutcome(
        interview_id=interview.id, outcome=interview.outcome, message=interview.student_message
    )
