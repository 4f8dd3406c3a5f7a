"""Scorecards (I4): a company's criteria, each interviewer's ratings, and private notes.

Everything here belongs to the company: the panel reads and writes it, the student never
sees any of it (not on a page, not in a reply, not in an event), and no event is sent
when it changes. Each interviewer writes only their own scorecard: the author is the
session's user, never a field of the request. Every change is committed with its
interview_history row in one transaction before it is acknowledged.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.booths.candidate import StudentCard
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, Refused
from fairserver.rooms.notify import Outbound
from fairserver.store import booth_live, history
from fairserver.store import scorecards as store

# Re-exported: the transports name it and never import the store.
from fairserver.store.interviews import InterviewRow as InterviewRow
from fairserver.store.scorecards import CriterionRow, ScoreRow
from fairserver.text import Line, Text

MAX_NOTE = 5000
MAX_CRITERIA = 50


class CriterionForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=100)
    scale: int = Field(default=5, ge=2, le=10)


class CriterionView(Outbound):
    id: int
    name: str
    scale: int
    archived: bool


class Rating(Outbound):
    criterion_id: int
    rating: int


class Scorecard(Outbound):
    """One interviewer's ratings (archived criteria's included: they keep their scores)."""

    author_id: int
    author_name: str
    ratings: list[Rating]
    updated_at: datetime | None


class NoteView(Outbound):
    id: int
    author_id: int
    author_name: str
    body: str
    created_at: datetime


class HistoryEntry(Outbound):
    at: datetime
    actor_id: int | None
    actor_name: str | None  # None: the server did it
    kind: str
    detail: dict[str, Any]


Candidate = StudentCard  # the scorecard's candidate: as the booth desk shows them


class OutcomeView(Outbound):
    """The outcome as the panel sees it (the student sees ReleasedOutcome, once released)."""

    interview_id: int
    outcome: str | None
    message: str
    outcome_at: datetime | None
    released_at: datetime | None


class ScorecardView(Outbound):
    """interview.scorecard's answer, and what GET /interviews/{id}/scorecard shows."""

    interview_id: int
    state: str
    fair_timezone: str
    candidate: Candidate | None
    criteria: list[CriterionView]  # active ones first, in order; then archived ones
    mine: Scorecard
    others: list[Scorecard]
    notes: list[NoteView]
    outcome: OutcomeView
    history: list[HistoryEntry]


def criterion_view(row: CriterionRow) -> CriterionView:
    return CriterionView(
        id=row.id, name=row.name, scale=row.scale, archived=row.archived_at is not None
    )


# --- criteria ----------------------------------------------------------------------------


async def company_criteria(services: Services, company_id: int) -> list[CriterionView]:
    async with services.db.connect() as conn:
        return [criterion_view(r) for r in await store.criteria(conn, company_id, archived=True)]


async def add_criterion(services: Services, company_id: int, form: CriterionForm) -> int:
    try:
        async with services.db.begin() as conn:
            if len(await store.criteria(conn, company_id)) >= MAX_CRITERIA:
                raise Refused("name", _("A company has at most 50 criteria."), "criterion.full")
            return await store.add_criterion(
                conn, company_id, form.name, form.scale, services.clock()
            )
    except IntegrityError:  # the name is taken, archived or not (or by a concurrent add)
        raise Refused(
            "name",
            _("Your company already has a criterion with this name."),
            "criterion.exists",
        ) from None


async def move_criterion(
    services: Services, company_id: int, criterion_id: int, direction: Literal["up", "down"]
) -> None:
    """Swaps an active criterion with its neighbour; at either end nothing changes."""
    async with services.db.begin() as conn:
        ordered = [c.id for c in await store.criteria(conn, company_id)]
        if criterion_id not in ordered:
            raise NotFound()
        at = ordered.index(criterion_id)
        other = at - 1 if direction == "up" else at + 1
        if 0 <= other < len(ordered):
            ordered[at], ordered[other] = ordered[other], ordered[at]
            await store.set_positions(conn, company_id, ordered)


async def archive_criterion(services: Services, company_id: int, criterion_id: int) -> None:
    async with services.db.begin() as conn:
        if not await store.archive_criterion(conn, company_id, criterion_id, services.clock()):
            raise NotFound()


# --- my scorecard ------------------------------------------------------------------------


def _checked_ratings(active: list[CriterionRow], ratings: dict[int, int]) -> None:
    scales = {c.id: c.scale for c in active}
    for criterion_id, rating in ratings.items():
        scale = scales.get(criterion_id)
        if scale is None:
            raise Refused(
                "ratings", _("This criterion is no longer offered."), "score.unknown_criterion"
            )
        if not 1 <= rating <= scale:
            raise Refused(
                "ratings",
                _("Rate from 1 to %(scale)s.") % {"scale": scale},
                "score.out_of_scale",
            )
    if not ratings:
        raise Refused("ratings", _("Rate at least one criterion."), "score.empty")


async def save_scores(
    services: Services, actor: Actor, interview: InterviewRow, ratings: dict[int, int]
) -> Scorecard:
    """Replaces the caller's ratings on the active criteria with ``ratings`` (a criterion
    left out is cleared); their ratings on archived criteria stay."""
    author_id = actor.user_id or 0
    now = services.clock()
    async with services.db.begin() as conn:
        active = await store.criteria(conn, interview.company_id)
        _checked_ratings(active, ratings)
        clear = [c.id for c in active if c.id not in ratings]
        await store.save_scores(conn, interview.id, author_id, ratings, clear, now)
        await history.record(
            conn,
            interview.id,
            author_id,
            now,
            "score",
            ratings={str(k): v for k, v in sorted(ratings.items())},
        )
        rows = await store.scores(conn, interview.id)
    return _scorecard(author_id, actor.display_name, [r for r in rows if r.author_id == author_id])


def _scorecard(author_id: int, author_name: str, rows: list[ScoreRow]) -> Scorecard:
    return Scorecard(
        author_id=author_id,
        author_name=author_name,
        ratings=[Rating(criterion_id=r.criterion_id, rating=r.rating) for r in rows],
        updated_at=max((r.updated_at for r in rows), default=None),
    )


def scorecards(rows: list[ScoreRow], me: int, my_name: str) -> tuple[Scorecard, list[Scorecard]]:
    """(mine, the other interviewers') from every rating of an interview."""
    by_author: dict[int, list[ScoreRow]] = {}
    for row in rows:
        by_author.setdefault(row.author_id, []).append(row)
    mine = _scorecard(me, my_name, by_author.pop(me, []))
    others = [_scorecard(a, rs[0].author_name, rs) for a, rs in by_author.items()]
    return mine, others


# --- notes -------------------------------------------------------------------------------


async def add_note(
    services: Services, actor: Actor, interview: InterviewRow, body: str
) -> NoteView:
    """Append-only: a note is never edited or deleted."""
    author_id = actor.user_id or 0
    now = services.clock()
    async with services.db.begin() as conn:
        note_id = await store.add_note(conn, interview.id, author_id, body, now)
        await history.record(conn, interview.id, author_id, now, "note", note_id=note_id)
    return NoteView(
        id=note_id, author_id=author_id, author_name=actor.display_name, body=body, created_at=now
    )


class NoteForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: Text = Field(min_length=1, max_length=MAX_NOTE)


# --- the whole view ----------------------------------------------------------------------


def outcome_view(interview_id: int, row: store.OutcomeRow | None) -> OutcomeView:
    if row is None:
        raise NotFound()
    return OutcomeView(
        interview_id=interview_id,
        outcome=row.outcome,
        message=row.student_message,
        outcome_at=row.outcome_at,
        released_at=row.released_at,
    )


async def scorecard_view(
    services: Services, actor: Actor, interview: InterviewRow
) -> ScorecardView:
    """For a caller reached through access_panel only."""
    async with services.db.connect() as conn:
        profile = await booth_live.student_profile(conn, interview.student_id)
        criteria = await store.criteria(conn, interview.company_id, archived=True)
        rows = await store.scores(conn, interview.id)
        notes = await store.notes(conn, interview.id)
        outcome = await store.outcome(conn, interview.id)
        changes = await history.history(conn, interview.id)
        timezone = await store.fair_timezone(conn, interview.fair_id)
    mine, others = scorecards(rows, actor.user_id or 0, actor.display_name)
    return ScorecardView(
        interview_id=interview.id,
        state=interview.state,
        fair_timezone=timezone,
        candidate=None if profile is None else _candidate(profile),
        criteria=[criterion_view(c) for c in criteria],
        mine=mine,
        others=others,
        notes=[NoteView(**asdict(n)) for n in notes],
        outcome=outcome_view(interview.id, outcome),
        history=[
            HistoryEntry(
                at=h.at, actor_id=h.actor_id, actor_name=h.actor_name, kind=h.kind, detail=h.details
            )
            for h in changes
        ],
    )


def _candidate(profile: booth_live.StudentProfileRow) -> Candidate:
    return StudentCard.of(profile)
