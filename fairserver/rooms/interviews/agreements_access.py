"""Who may reach an intent agreement (I5), and who may make one from an offer.

An agreement is seen by its student, its company's recruiters, its school's organisers
and admins. To anyone else (another company's recruiter, another school's organiser,
another student) it does not exist: the same NotFound as a missing id, over HTTP and
the socket alike. The rule is a pure function (`party_of`), tested for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairserver.auth import Actor
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound
from fairserver.store import agreements as store
from fairserver.store import interviews as interview_store
from fairserver.store.agreements import AgreementRow, OfferFacts, SignatureRow
from fairserver.store.db import Database
from fairserver.store.interviews import InterviewRow

MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class AgreementAccess:
    """An agreement reached by a caller, with the side they see it from."""

    row: AgreementRow
    party: str  # student, company, school or admin
    signatures: list[SignatureRow]
    earlier: list[AgreementRow]  # the versions it replaced, newest first


@dataclass(frozen=True, slots=True)
class Offer:
    """An interview with an offer, reached by a recruiter on its panel."""

    interview: InterviewRow
    facts: OfferFacts | None  # None: the student has no profile yet
    current: AgreementRow | None  # the agreement already in force for it


def party_of(actor: Actor, row: AgreementRow) -> str | None:
    """The side the caller sees the agreement from; None for everyone else."""
    if actor.is_anonymous:
        return None
    if actor.role == "student" and actor.user_id == row.student_id:
        return "student"
    if actor.role == "recruiter" and actor.company_id == row.company_id:
        return "company"
    if actor.role == "organiser" and actor.school_id == row.school_id:
        return "school"
    if actor.is_admin:
        return "admin"
    return None


async def access_agreement(
    source: Database | Services, actor: Actor, agreement_id: int
) -> AgreementAccess:
    if not 1 <= agreement_id <= MAX_ID:
        raise NotFound()
    async with database_of(source).connect() as conn:
        row = await store.agreement(conn, agreement_id)
        party = party_of(actor, row) if row is not None else None
        if row is None or party is None:
            raise NotFound()
        signed = await store.signatures(conn, row.id)
        earlier = await store.earlier_versions(conn, row)
    return AgreementAccess(row, party, signed, earlier)


async def access_offer(source: Database | Services, actor: Actor, interview_id: int) -> Offer:
    """Recruiters of the interview's company on its panel; anyone else gets NotFound.
    Whether there is an offer to make an agreement from is the service's question."""
    if actor.role != "recruiter" or not 1 <= interview_id <= MAX_ID:
        raise NotFound()
    async with database_of(source).connect() as conn:
        interview = await interview_store.interview(conn, interview_id)
        me = await interview_store.participant(conn, interview_id, actor.user_id or 0)
        if (
            interview is None
            or me is None
            or me.role != "interviewer"
            or interview.company_id != actor.company_id
        ):
            raise NotFound()
        facts = await store.offer_facts(
            conn, interview.student_id, interview.company_id, interview.job_id
        )
        current = await store.current_for_interview(conn, interview_id)
    return Offer(interview, facts, current)


async def agreements_for(source: Database | Services, actor: Actor) -> list[AgreementRow]:
    """The list the caller may see: a student's own, a company's, an organiser's school's
    students', and every one for an admin. Nobody else has a list."""
    if actor.role == "student":
        condition = store.of_student(actor.user_id or 0)
    elif actor.role == "recruiter" and actor.company_id is not None:
        condition = store.of_company(actor.company_id)
    elif actor.role == "organiser" and actor.school_id is not None:
        condition = store.of_school(actor.school_id)
    elif actor.is_admin:
        condition = None
    else:
        raise NotFound()
    async with database_of(source).connect() as conn:
        if condition is None:
            return await store.agreements_where(conn)
        return await store.agreements_where(conn, condition)
