"""Scorecards, notes, outcomes and their release (I4), and a job's applications (B2).

Recruiters only; everything is authorised from the database on each event (no join
needed): an interview's scorecard events answer only its panel (rooms/interviews/access.py
access_panel), job.applications only the job's company (access_company_job). Everyone
else, the candidate included, gets not_found. The same services serve the HTTP pages
(http/interviews/outcomes.py, http/booths/applications.py).
"""

from __future__ import annotations

from pydantic import Field, StrictInt

from fairserver.rooms.booths import applications
from fairserver.rooms.booths.access import access_company_job
from fairserver.rooms.context import Services
from fairserver.rooms.interviews import outcomes, scorecards
from fairserver.rooms.interviews.access import access_panel
from fairserver.rooms.interviews.outcomes import Outcome
from fairserver.rooms.interviews.scorecards import NoteView, OutcomeView, Scorecard, ScorecardView
from fairserver.socket.kit import Connection, EventRegistry, Payload, Rate
from fairserver.text import Text

events = EventRegistry()
MAX_ID = 2**31 - 1
RECRUITERS = frozenset({"recruiter"})
READ = Rate(per_second=5, burst=20)
WRITE = Rate(per_second=2, burst=10)


class InterviewRef(Payload):
    interview_id: StrictInt = Field(ge=1, le=MAX_ID)


class RatingIn(Payload):
    criterion_id: StrictInt = Field(ge=1, le=MAX_ID)
    rating: StrictInt = Field(ge=1, le=10)


class Score(InterviewRef):
    ratings: list[RatingIn] = Field(min_length=1, max_length=scorecards.MAX_CRITERIA)


class Note(InterviewRef):
    body: Text = Field(min_length=1, max_length=scorecards.MAX_NOTE)


class SetOutcome(InterviewRef):
    outcome: Outcome
    message: Text = Field(default="", max_length=outcomes.MAX_MESSAGE)


class Release(InterviewRef):
    outcome: Outcome  # the one the releaser sees: a colleague's newer one is not released


class JobRef(Payload):
    job_id: StrictInt = Field(ge=1, le=MAX_ID)


@events.on("interview.scorecard", InterviewRef, roles=RECRUITERS, rate=READ)
async def scorecard(services: Services, conn: Connection, payload: InterviewRef) -> ScorecardView:
    interview = await access_panel(services, conn.actor, payload.interview_id)
    return await scorecards.scorecard_view(services, conn.actor, interview)


@events.on("interview.score", Score, roles=RECRUITERS, rate=WRITE)
async def score(services: Services, conn: Connection, payload: Score) -> Scorecard:
    interview = await access_panel(services, conn.actor, payload.interview_id)
    ratings = {r.criterion_id: r.rating for r in payload.ratings}
    return await scorecards.save_scores(services, conn.actor, interview, ratings)


@events.on("interview.note", Note, roles=RECRUITERS, rate=WRITE)
async def note(services: Services, conn: Connection, payload: Note) -> NoteView:
    interview = await access_panel(services, conn.actor, payload.interview_id)
    return await scorecards.add_note(services, conn.actor, interview, payload.body)


@events.on("interview.outcome", SetOutcome, roles=RECRUITERS, rate=WRITE)
async def outcome(services: Services, conn: Connection, payload: SetOutcome) -> OutcomeView:
    interview = await access_panel(services, conn.actor, payload.interview_id)
    return await outcomes.set_outcome(
        services, conn.actor, interview, payload.outcome, payload.message
    )


@events.on("interview.release", Release, roles=RECRUITERS, rate=WRITE)
async def release(services: Services, conn: Connection, payload: Release) -> OutcomeView:
    interview = await access_panel(services, conn.actor, payload.interview_id)
    return await outcomes.release(services, conn.actor, interview, payload.outcome)


@events.on("job.applications", JobRef, roles=RECRUITERS, rate=READ)
async def job_applications(
    services: Services, conn: Connection, payload: JobRef
) -> applications.Applications:
    job = await access_company_job(services, conn.actor, payload.job_id)
    return await applications.applications(services, job)
