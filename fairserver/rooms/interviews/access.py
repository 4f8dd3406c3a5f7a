"""Who may reach an interview: only its participants. To anyone else it does not exist,
the same NotFound as a missing id (the page and every interview.* event alike)."""

from __future__ import annotations

from fairserver.auth import Actor
from fairserver.permissions import Right, can
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound
from fairserver.store import interviews as store
from fairserver.store.db import Database
from fairserver.store.interviews import ColleagueRow, InterviewRow, MyInterviewRow, ParticipantRow

CLOSED_STATES = store.CLOSED_STATES


async def access_interview(
    source: Database | Services, actor: Actor, interview_id: int
) -> tuple[InterviewRow, ParticipantRow]:
    """The interview and the caller's own participant row in it."""
    async with database_of(source).connect() as conn:
        row = await store.interview(conn, interview_id)
        me = await store.participant(conn, interview_id, actor.user_id or 0) if row else None
    if row is None or me is None:
        raise NotFound()
    return row, me


async def interviews_of(source: Database | Services, actor: Actor) -> list[MyInterviewRow]:
    """The interviews the caller takes part in."""
    async with database_of(source).connect() as conn:
        return await store.interviews_of(conn, actor.user_id or 0)


async def panel(
    source: Database | Services, interview: InterviewRow
) -> tuple[list[ParticipantRow], list[ColleagueRow]]:
    """(participants, the company's recruiters) of an interview reached with access_interview."""
    async with database_of(source).connect() as conn:
        people = await store.participants(conn, interview.id)
        staff = await store.colleagues(conn, interview.company_id)
    return people, staff


async def access_panel(
    source: Database | Services, actor: Actor, interview_id: int
) -> InterviewRow:
    """An interview whose scorecards, notes and outcome the caller may read and write: a
    recruiter of its company on its panel (decisions §24). A colleague off the panel, another
    company, the candidate, organisers and admins get the NotFound of a missing id."""
    async with database_of(source).connect() as conn:
        row = await store.interview(conn, interview_id)
        me = await store.participant(conn, interview_id, actor.user_id or 0) if row else None
    if (
        row is None
        or me is None
        or me.role != "interviewer"
        or not can(actor, Right.COMPANY_HIRE, row.company_id)
    ):
        raise NotFound()
    return row


def hiring_company(actor: Actor) -> int:
    """The caller's company, whose criteria they manage; NotFound for anyone else."""
    if actor.company_id is None or not can(actor, Right.COMPANY_HIRE, actor.company_id):
        raise NotFound()
    return actor.company_id
