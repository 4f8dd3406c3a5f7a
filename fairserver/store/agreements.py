"""SQL for intent agreements (I5): versions, their immutable signatures, and the lists.

Every state change is a conditional UPDATE whose WHERE names the state it expects, run
as the first statement of its transaction: on PostgreSQL the row lock makes a second
writer wait and then find the state changed; on SQLite the write lock does the same.
The unique (agreement, party) constraint on signatures is the backstop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

ag, sig, u = t.agreements, t.agreement_signatures, t.users
# An agreement that is still the one in force for its interview.
CURRENT_STATES = ("sent", "accepted")
MAX_LIST = 500


@dataclass(frozen=True, slots=True)
class AgreementRow:
    id: int
    fair_id: int
    interview_id: int
    company_id: int
    student_id: int
    school_id: int
    job_id: int | None
    version: int
    supersedes_id: int | None
    position: str
    location: str
    salary: int
    start_date: date
    term_years: int
    subsidy_text: str
    text: str
    text_sha256: str
    state: str
    sent_at: datetime
    sent_by: int
    responded_at: datetime | None
    countersigned_at: datetime | None
    countersigned_by: int | None
    company_name: str
    school_name: str
    student_name: str  # the real name on the profile
    fair_title: str
    fair_timezone: str
    superseded_by_id: int | None
    kept_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewAgreement:
    fair_id: int
    interview_id: int
    company_id: int
    student_id: int
    school_id: int
    job_id: int | None
    version: int
    supersedes_id: int | None
    position: str
    location: str
    salary: int
    start_date: date
    term_years: int
    subsidy_text: str
    text: str
    text_sha256: str
    sent_at: datetime
    sent_by: int
    state: str = "sent"


@dataclass(frozen=True, slots=True)
class SignatureRow:
    id: int
    agreement_id: int
    party: str
    decision: str
    user_id: int
    user_name: str
    at: datetime
    text_sha256: str


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What an agreement is made from: the student's profile and the interview's job."""

    student_name: str
    school_id: int
    school_name: str
    company_name: str
    job_title: str | None
    job_location: str | None
    job_salary: int | None  # the band's lower end


def _select() -> sa.Select[Any]:
    later = ag.alias("later")
    return (
        sa.select(
            *ag.c,
            t.companies.c.name.label("company_name"),
            t.schools.c.name.label("school_name"),
            t.student_profiles.c.real_name.label("student_name"),
            t.fairs.c.title.label("fair_title"),
            t.fairs.c.timezone.label("fair_timezone"),
            later.c.id.label("superseded_by_id"),
        )
        .join(t.companies, t.companies.c.id == ag.c.company_id)
        .join(t.schools, t.schools.c.id == ag.c.school_id)
        .join(t.student_profiles, t.student_profiles.c.user_id == ag.c.student_id)
        .join(t.fairs, t.fairs.c.id == ag.c.fair_id)
        .outerjoin(later, later.c.supersedes_id == ag.c.id)
    )


async def agreement(conn: AsyncConnection, agreement_id: int) -> AgreementRow | None:
    return await fetch_one_as(conn, _select().where(ag.c.id == agreement_id), AgreementRow)


async def current_for_interview(conn: AsyncConnection, interview_id: int) -> AgreementRow | None:
    stmt = _select().where(ag.c.interview_id == interview_id, ag.c.state.in_(CURRENT_STATES))
    return await fetch_one_as(conn, stmt.order_by(ag.c.id.desc()).limit(1), AgreementRow)


async def earlier_versions(conn: AsyncConnection, row: AgreementRow) -> list[AgreementRow]:
    """The versions this one replaced, newest first (a short chain: one per change)."""
    found: list[AgreementRow] = []
    previous = row.supersedes_id
    while previous is not None and len(found) < 100:
        older = await agreement(conn, previous)
        if older is None:
            break
        found.append(older)
        previous = older.supersedes_id
    return found


async def agreements_where(conn: AsyncConnection, *conditions: Any) -> list[AgreementRow]:
    """Latest versions only (a superseded one is reached from its successor), newest first."""
    stmt = (
        _select()
        .where(ag.c.state != "superseded", *conditions)
        .order_by(ag.c.sent_at.desc(), ag.c.id.desc())
        .limit(MAX_LIST)
    )
    return await fetch_all_as(conn, stmt, AgreementRow)


def of_student(student_id: int) -> Any:
    return ag.c.student_id == student_id


def of_company(company_id: int) -> Any:
    return ag.c.company_id == company_id


def of_school(school_id: int) -> Any:
    return ag.c.school_id == school_id


async def signatures(conn: AsyncConnection, agreement_id: int) -> list[SignatureRow]:
    stmt = (
        sa.select(*sig.c, u.c.display_name.label("user_name"))
        .join(u, u.c.id == sig.c.user_id)
        .where(sig.c.agreement_id == agreement_id)
        .order_by(sig.c.at, sig.c.id)
    )
    return await fetch_all_as(conn, stmt, SignatureRow)


async def offer_facts(
    conn: AsyncConnection, student_id: int, company_id: int, job_id: int | None
) -> OfferFacts | None:
    """None when the student has no profile (no real name or school to put in the text)."""
    p, s, j = t.student_profiles, t.schools, t.jobs
    stmt = (
        sa.select(
            p.c.real_name.label("student_name"),
            p.c.school_id,
            s.c.name.label("school_name"),
            t.companies.c.name.label("company_name"),
            j.c.title.label("job_title"),
            j.c.location.label("job_location"),
            j.c.salary_min.label("job_salary"),
        )
        .select_from(p)
        .join(s, s.c.id == p.c.school_id)
        .join(t.companies, t.companies.c.id == company_id)
        .outerjoin(j, sa.and_(j.c.id == job_id, j.c.company_id == company_id))
        .where(p.c.user_id == student_id)
    )
    return await fetch_one_as(conn, stmt, OfferFacts)


async def lock_offer(conn: AsyncConnection, interview_id: int) -> bool:
    """Takes the interview's row lock while its outcome is still 'offer': two recruiters
    sending at once then run one after the other, and the second sees the first's row."""
    iv = t.interviews
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.outcome == "offer")
        .values(outcome=iv.c.outcome)
    )
    return result.rowcount == 1


async def insert_agreement(conn: AsyncConnection, new: NewAgreement) -> int:
    result = await conn.execute(ag.insert().values(**asdict(new)).returning(ag.c.id))
    return int(result.scalar_one())


async def respond(
    conn: AsyncConnection, agreement_id: int, sha256: str, accept: bool, at: datetime
) -> bool:
    """sent -> accepted or declined, for this text only; False when it was not so."""
    result = await conn.execute(
        ag.update()
        .where(ag.c.id == agreement_id, ag.c.state == "sent", ag.c.text_sha256 == sha256)
        .values(state="accepted" if accept else "declined", responded_at=at)
    )
    return result.rowcount == 1


async def countersign(
    conn: AsyncConnection, agreement_id: int, sha256: str, by: int, at: datetime
) -> bool:
    """Once, on an accepted agreement with this text; False otherwise."""
    result = await conn.execute(
        ag.update()
        .where(
            ag.c.id == agreement_id,
            ag.c.state == "accepted",
            ag.c.countersigned_at.is_(None),
            ag.c.text_sha256 == sha256,
        )
        .values(countersigned_at=at, countersigned_by=by)
    )
    return result.rowcount == 1


async def supersede(conn: AsyncConnection, agreement_id: int) -> bool:
    """A current, not countersigned version gives way to a new one; False otherwise."""
    result = await conn.execute(
        ag.update()
        .where(
            ag.c.id == agreement_id,
            ag.c.state.in_(CURRENT_STATES),
            ag.c.countersigned_at.is_(None),
        )
        .values(state="superseded")
    )
    return result.rowcount == 1


async def insert_signature(
    conn: AsyncConnection,
    agreement_id: int,
    party: str,
    decision: str,
    user_id: int,
    at: datetime,
    sha256: str,
) -> None:
    await conn.execute(
        sig.insert().values(
            agreement_id=agreement_id,
            party=party,
            decision=decision,
            user_id=user_id,
            at=at,
            text_sha256=sha256,
        )
    )
