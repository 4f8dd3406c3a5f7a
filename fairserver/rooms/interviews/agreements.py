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
from typing import Any

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import agreement_text as texts
from fairserver.rooms.interviews.agreement_views import (
    AgreementForm,
    AgreementView,
    changeable,
    notice_of,
    view_of,
)
from fairserver.rooms.interviews.agreements_access import AgreementAccess, Offer, access_agreement
from fairserver.rooms.notify import user_room
from fairserver.store import agreements as store
from fairserver.store import history
from fairserver.store.agreements import AgreementRow, NewAgreement, OfferFacts


async def _written(
    services: Services,
    actor: Actor,
    form: AgreementForm,
    names: tuple[str, str, str],
    **parties: Any,
) -> NewAgreement:
    """A version's row: its text rendered from the form (names: company, student, school)
    with the policy clauses its term calls for, and that text's hash."""
    every = await asyncio.to_thread(texts.policy_clauses, services.settings.booths_dir)
    clauses = texts.applicable(every, form.term_years)
    company, student, school = names
    fields = form.model_dump()
    terms = texts.AgreementTerms(company=company, student=student, school=school, **fields)
    text = texts.render(terms, clauses)
    return NewAgreement(
        **parties,
        **fields,
        subsidy_text=texts.subsidy_text(clauses),
        text=text,
        text_sha256=texts.sha256_of(text),
        sent_at=services.clock(),
        sent_by=actor.user_id or 0,
    )


def _no_offer() -> ServiceError:
    return ServiceError("agreement.no_offer", _("Record an offer for this interview first."))


def _exists() -> ServiceError:
    return ServiceError(
        "agreement.exists",
        _("This interview already has an agreement in force: change that one instead."),
    )


def _sendable(offer: Offer) -> OfferFacts:
    """What the first version is made from, once the offer allows one."""
    if offer.interview.outcome != "offer":
        raise _no_offer()
    if offer.facts is None:
        raise ServiceError(
            "agreement.no_profile", _("The student has no profile yet: no name to put in it.")
        )
    if offer.current is not None:
        raise _exists()
    return offer.facts


async def send(services: Services, actor: Actor, offer: Offer, form: AgreementForm) -> int:
    """The first version, from an interview whose outcome is an offer. Returns its id."""
    interview, facts = offer.interview, _sendable(offer)
    new = await _written(
        services,
        actor,
        form,
        (facts.company_name, facts.student_name, facts.school_name),
        fair_id=interview.fair_id,
        interview_id=interview.id,
        company_id=interview.company_id,
        student_id=interview.student_id,
        school_id=facts.school_id,
        job_id=interview.job_id,
        version=1,
        supersedes_id=None,
    )
    now, sha = new.sent_at, new.text_sha256
    async with services.db.begin() as conn:
        if not await store.lock_offer(conn, interview.id):
            raise _no_offer()
        if await store.current_for_interview(conn, interview.id) is not None:
            raise _exists()
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
    await services.notifier.emit(user_room(row.student_id), "agreement.sent", notice_of(row))
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
    if not changeable(old):
        raise _final()
    new = await _written(
        services,
        actor,
        form,
        (old.company_name, old.student_name, old.school_name),
        fair_id=old.fair_id,
        interview_id=old.interview_id,
        company_id=old.company_id,
        student_id=old.student_id,
        school_id=old.school_id,
        job_id=old.job_id,
        version=old.version + 1,
        supersedes_id=old.id,
    )
    now, sha = new.sent_at, new.text_sha256
    async with services.db.begin() as conn:
        if not await store.supersede(conn, old.id):
            raise _final()
        new_id = await store.insert_agreement(conn, new)
        detail = _detail(new_id, new.version, sha) | {"supersedes_id": old.id}
        await history.record(
            conn, old.interview_id, actor.user_id, now, "agreement_version", **detail
        )
        row = await store.agreement(conn, new_id)
    assert row is not None
    await services.notifier.emit(user_room(row.student_id), "agreement.sent", notice_of(row))
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
        await services.notifier.emit(user_room(user_id), "agreement.updated", notice_of(row))
