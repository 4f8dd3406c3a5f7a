"""Intent agreements (I5, 网上签约): sent from an offer, answered by the student,
countersigned by the school; a change is a new version, never an edit.

Every answer names the hash of the text its signer was shown, and the conditional
UPDATE that records it matches that hash and the state it expects, in the same
transaction as the immutable signature row and the interview's history. So a double
accept from two tabs leaves one record, and an answer to a text that has since changed
is refused (agreement.changed). Events go out after the commit, to user rooms.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import agreement_text as texts
from fairserver.rooms.interviews.agreements_access import AgreementAccess, Offer, access_agreement
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import agreements as store
from fairserver.store import history
from fairserver.store.agreements import AgreementRow, NewAgreement
from fairserver.text import Line

MAX_SALARY = 1_000_000
SHA256 = r"^[0-9a-f]{64}$"


class AgreementForm(BaseModel):
    """The company's form, for the first version and for every change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    position: Line = Field(min_length=1, max_length=200)
    location: Line = Field(min_length=1, max_length=200)
    salary: int = Field(ge=0, le=MAX_SALARY)
    start_date: date
    term_years: int = Field(ge=1, le=10)


class SignatureView(Outbound):
    party: str
    decision: str
    user_name: str
    at: datetime
    text_sha256: str


class AgreementView(Outbound):
    """An agreement as its viewer may see it: everyone who may see it sees the same text
    and hash; what differs is what they may do with it."""

    id: int
    version: int
    state: str
    interview_id: int
    supersedes_id: int | None
    superseded_by_id: int | None
    earlier_ids: list[int]
    fair_title: str
    fair_timezone: str
    company: str
    school: str
    student: str
    position: str
    location: str
    salary: int
    start_date: date
    term_years: int
    text: str
    text_sha256: str
    sent_at: datetime
    responded_at: datetime | None
    countersigned_at: datetime | None
    signatures: list[SignatureView]
    party: str
    may_respond: bool
    may_countersign: bool
    may_change: bool


class AgreementNotice(Outbound):
    """agreement.sent (a new agreement or version) and agreement.updated (answered,
    countersigned): enough for a list to refresh its line."""

    agreement_id: int
    version: int
    state: str
    company: str
    position: str
    text_sha256: str


def _changeable(row: AgreementRow) -> bool:
    return row.state in store.CURRENT_STATES and row.countersigned_at is None


def view_of(found: AgreementAccess) -> AgreementView:
    row, party = found.row, found.party
    return AgreementView(
        id=row.id,
        version=row.version,
        state=row.state,
        interview_id=row.interview_id,
        supersedes_id=row.supersedes_id,
        superseded_by_id=row.superseded_by_id,
        earlier_ids=[older.id for older in found.earlier],
        fair_title=row.fair_title,
        fair_timezone=row.fair_timezone,
        company=row.company_name,
        school=row.school_name,
        student=row.student_name,
        position=row.position,
        location=row.location,
        salary=row.salary,
        start_date=row.start_date,
        term_years=row.term_years,
        text=row.text,
        text_sha256=row.text_sha256,
        sent_at=row.sent_at,
        responded_at=row.responded_at,
        countersigned_at=row.countersigned_at,
        signatures=[
            SignatureView(
                party=s.party,
                decision=s.decision,
                user_name=s.user_name,
                at=s.at,
                text_sha256=s.text_sha256,
            )
            for s in found.signatures
        ],
        party=party,
        may_respond=party == "student" and row.state == "sent",
        may_countersign=party in {"school", "admin"}
        and row.state == "accepted"
        and row.countersigned_at is None,
        may_change=party == "company" and _changeable(row),
    )


def _notice(row: AgreementRow) -> AgreementNotice:
    return AgreementNotice(
        agreement_id=row.id,
        version=row.version,
        state=row.state,
        company=row.company_name,
        position=row.position,
        text_sha256=row.text_sha256,
    )


def form_defaults(offer: Offer) -> dict[str, str]:
    """The form prefilled from the interview's job, where it has one."""
    facts = offer.facts
    if facts is None or facts.job_title is None:
        return {}
    return {
        "position": facts.job_title,
        "location": facts.job_location or "",
        "salary": str(facts.job_salary or 0),
    }


def row_values(row: AgreementRow) -> dict[str, str]:
    """A version's fields, to prefill the change form."""
    return {
        "position": row.position,
        "location": row.location,
        "salary": str(row.salary),
        "start_date": row.start_date.isoformat(),
        "term_years": str(row.term_years),
    }


async def _text(
    services: Services, form: AgreementForm, company: str, student: str, school: str
) -> tuple[str, str]:
    """(the text, the subsidy clauses it includes)."""
    every = await asyncio.to_thread(texts.policy_clauses, services.settings.booths_dir)
    clauses = texts.applicable(every, form.term_years)
    terms = texts.AgreementTerms(
        company=company,
        student=student,
        school=school,
        position=form.position,
        location=form.location,
        salary=form.salary,
        start_date=form.start_date,
        term_years=form.term_years,
    )
    return texts.render(terms, clauses), texts.subsidy_text(clauses)


def _no_offer() -> ServiceError:
    return ServiceError("agreement.no_offer", _("Record an offer for this interview first."))


def _exists() -> ServiceError:
    return ServiceError(
        "agreement.exists",
        _("This interview already has an agreement in force: change that one instead."),
    )


async def send(services: Services, actor: Actor, offer: Offer, form: AgreementForm) -> int:
    """The first version, from an interview whose outcome is an offer. Returns its id."""
    interview, facts = offer.interview, offer.facts
    if interview.outcome != "offer":
        raise _no_offer()
    if facts is None:
        raise ServiceError(
            "agreement.no_profile", _("The student has no profile yet: no name to put in it.")
        )
    if offer.current is not None:
        raise _exists()
    text, subsidy = await _text(
        services, form, facts.company_name, facts.student_name, facts.school_name
    )
    now, sha = services.clock(), texts.sha256_of(text)
    async with services.db.begin() as conn:
        if not await store.lock_offer(conn, interview.id):
            raise _no_offer()
        if await store.current_for_interview(conn, interview.id) is not None:
            raise _exists()
        new = NewAgreement(
            fair_id=interview.fair_id,
            interview_id=interview.id,
            company_id=interview.company_id,
            student_id=interview.student_id,
            school_id=facts.school_id,
            job_id=interview.job_id,
            version=1,
            supersedes_id=None,
            **form.model_dump(),
            subsidy_text=subsidy,
            text=text,
            text_sha256=sha,
            sent_at=now,
            sent_by=actor.user_id or 0,
        )
        agreement_id = await store.insert_agreement(conn, new)
        await history.record(
            conn,
            interview.id,
            actor.user_id,
            now,
            "agreement_sent",
            **_detail(agreement_id, 1, sha),
        )
        row = await store.agreement(conn, agreement_id)
    assert row is not None
    await services.notifier.emit(user_room(row.student_id), "agreement.sent", _notice(row))
    return agreement_id


def _detail(agreement_id: int, version: int, sha: str) -> dict[str, object]:
    return {"agreement_id": agreement_id, "version": version, "text_sha256": sha}


async def change(
    services: Services, actor: Actor, found: AgreementAccess, form: AgreementForm
) -> int:
    """A new version replacing this one (which keeps its signatures). Returns its id."""
    old = found.row
    if found.party != "company":
        raise NotFound()
    if not _changeable(old):
        raise _final()
    text, subsidy = await _text(services, form, old.company_name, old.student_name, old.school_name)
    now, sha = services.clock(), texts.sha256_of(text)
    async with services.db.begin() as conn:
        if not await store.supersede(conn, old.id):
            raise _final()
        new = NewAgreement(
            fair_id=old.fair_id,
            interview_id=old.interview_id,
            company_id=old.company_id,
            student_id=old.student_id,
            school_id=old.school_id,
            job_id=old.job_id,
            version=old.version + 1,
            supersedes_id=old.id,
            **form.model_dump(),
            subsidy_text=subsidy,
            text=text,
            text_sha256=sha,
            sent_at=now,
            sent_by=actor.user_id or 0,
        )
        new_id = await store.insert_agreement(conn, new)
        detail = _detail(new_id, new.version, sha) | {"supersedes_id": old.id}
        await history.record(
            conn, old.interview_id, actor.user_id, now, "agreement_version", **detail
        )
        row = await store.agreement(conn, new_id)
    assert row is not None
    await services.notifier.emit(user_room(row.student_id), "agreement.sent", _notice(row))
    return new_id


def _final() -> ServiceError:
    return ServiceError(
        "agreement.final",
        _("This version can no longer be changed: it was replaced, declined or countersigned."),
    )


def _changed(current_id: int | None) -> ServiceError:
    return ServiceError(
        "agreement.changed",
        _("The agreement has changed since you opened it: read the current version."),
        current_id=current_id,
    )


async def respond(
    services: Services, actor: Actor, found: AgreementAccess, accept: bool, sha: str
) -> AgreementView:
    """The student accepts or declines the text whose hash they were shown."""
    if found.party != "student":
        raise NotFound()
    row, now = found.row, services.clock()
    decision = "accept" if accept else "decline"
    async with services.db.begin() as conn:
        done = await store.respond(conn, row.id, sha, accept, now)
        if done:
            await store.insert_signature(
                conn, row.id, "student", decision, actor.user_id or 0, now, sha
            )
            kind = "agreement_accepted" if accept else "agreement_declined"
            await history.record(
                conn,
                row.interview_id,
                actor.user_id,
                now,
                kind,
                **_detail(row.id, row.version, sha),
            )
    fresh = await access_agreement(services, actor, row.id)
    if not done:
        _explain_refusal(fresh, sha, "student", decision)
        return view_of(fresh)  # the same answer again (another tab): nothing new recorded
    await _tell(services, fresh.row)
    return view_of(fresh)


def _explain_refusal(found: AgreementAccess, sha: str, party: str, decision: str) -> None:
    """Why a conditional update matched nothing; returns only when the same answer, with
    the same hash, is already on record."""
    row = found.row
    if row.state == "superseded" or row.text_sha256 != sha:
        raise _changed(row.superseded_by_id)
    for signature in found.signatures:
        if (
            signature.party == party
            and signature.decision == decision
            and signature.text_sha256 == sha
        ):
            return
    if party == "student":
        raise ServiceError("agreement.answered", _("This agreement has already been answered."))
    if row.state != "accepted":
        raise ServiceError(
            "agreement.not_accepted", _("Only an agreement the student accepted is countersigned.")
        )
    raise ServiceError("agreement.countersigned", _("This agreement is already countersigned."))


async def countersign(
    services: Services, actor: Actor, found: AgreementAccess, sha: str
) -> AgreementView:
    """The school's organiser (or an admin) countersigns an accepted agreement, once."""
    if found.party not in {"school", "admin"}:
        raise NotFound()
    row, now = found.row, services.clock()
    async with services.db.begin() as conn:
        done = await store.countersign(conn, row.id, sha, actor.user_id or 0, now)
        if done:
            await store.insert_signature(
                conn, row.id, "school", "countersign", actor.user_id or 0, now, sha
            )
            await history.record(
                conn,
                row.interview_id,
                actor.user_id,
                now,
                "agreement_countersigned",
                **_detail(row.id, row.version, sha),
            )
    fresh = await access_agreement(services, actor, row.id)
    if not done:
        _explain_refusal(fresh, sha, "school", "countersign")
        return view_of(fresh)
    await _tell(services, fresh.row)
    return view_of(fresh)


async def _tell(services: Services, row: AgreementRow) -> None:
    """agreement.updated to the student and to the recruiter who sent it."""
    for user_id in dict.fromkeys((row.student_id, row.sent_by)):
        await services.notifier.emit(user_room(user_id), "agreement.updated", _notice(row))
