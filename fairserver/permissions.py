"""Roles to rights: one function, can(actor, right, obj), that every route asks.

Objects are plain values the caller has already loaded: a FairAccess for fair rights,
(FairAccess, company id) for booth rights, a school id for school rights. can() does no
I/O, so it is cheap to call per event and easy to test exhaustively. Callers turn a False
into the same not_found as a missing object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fairserver.auth import Actor
from fairserver.rows import FairRow


class Right(StrEnum):
    FAIR_VIEW = "fair.view"
    FAIR_MANAGE = "fair.manage"
    FAIR_CREATE = "fair.create"
    FAIR_APPLY = "fair.apply"
    FAIR_JOIN = "fair.join"  # enter as a student: visit booths, express interest
    BOOTH_VIEW = "booth.view"
    BOOTH_EDIT = "booth.edit"
    JOB_INTEREST = "job.interest"
    ROSTER_IMPORT = "roster.import"
    SCHOOL_STUDENTS = "school.students"
    BRIEFING_SCHEDULE = "briefing.schedule"
    COMPANY_MANAGE = "company.manage"
    # A company's hiring records (applications, scorecards, notes, outcomes): its own
    # recruiters only. Admins manage companies but do not read candidates' files.
    COMPANY_HIRE = "company.hire"


@dataclass(frozen=True)
class FairAccess:
    """A fair with what its access rules need: who organises it and who takes part."""

    fair: FairRow
    # Schools whose verified students may enter (organising school included).
    school_ids: frozenset[int] = frozenset()
    # company_id -> participation status (invited, applied, approved, ...).
    companies: Mapping[int, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.fair.id

    @property
    def school_id(self) -> int:
        return self.fair.school_id

    def company_status(self, company_id: int | None) -> str | None:
        return None if company_id is None else self.companies.get(company_id)


def _organises(actor: Actor, fa: FairAccess) -> bool:
    return actor.role == "organiser" and actor.school_id == fa.school_id


def _can_view_fair(actor: Actor, fa: FairAccess) -> bool:
    if actor.is_admin or _organises(actor, fa):
        return True
    if not fa.fair.published:
        return False
    if actor.role == "recruiter" and fa.company_status(actor.company_id) in {
        "invited",
        "applied",
        "approved",
    }:
        return True
    visibility = fa.fair.visibility
    if visibility == "open":
        return True
    # Campus-only and multi-school fairs are for verified students of their
    # schools (and their staff); everyone else sees nothing, not even a title.
    if actor.role in {"student", "organiser"} and actor.school_id in fa.school_ids:
        return actor.role == "organiser" or actor.verified
    return False


def _can_join_fair(actor: Actor, fa: FairAccess) -> bool:
    if actor.role != "student" or not fa.fair.published:
        return False
    if fa.fair.visibility == "open":
        return True
    return actor.verified and actor.school_id in fa.school_ids


def _booth_fair(obj: Any) -> tuple[FairAccess, int]:
    """A booth right's object: (the fair, the company whose booth it is)."""
    fa, company_id = obj
    return fa, int(company_id)


def can(actor: Actor, right: Right, obj: Any = None) -> bool:
    if actor.is_anonymous and right not in {Right.FAIR_VIEW, Right.BOOTH_VIEW}:
        return False
    match right:
        case Right.FAIR_VIEW:
            return _can_view_fair(actor, obj)
        case Right.FAIR_MANAGE:
            return actor.is_admin or _organises(actor, obj)
        case Right.FAIR_CREATE:
            return actor.role in {"organiser", "admin"}
        case Right.FAIR_APPLY:
            fa = obj
            return (
                actor.role == "recruiter"
                and bool(fa.fair.published)
                and fa.company_status(actor.company_id) in {None, "invited", "withdrawn"}
            )
        case Right.FAIR_JOIN:
            return _can_join_fair(actor, obj)
        case Right.BOOTH_VIEW:
            fa, company_id = _booth_fair(obj)
            if not _can_view_fair(actor, fa):
                return False
            own = actor.role == "recruiter" and actor.company_id == company_id
            return (
                own
                or fa.company_status(company_id) == "approved"
                or (actor.is_admin or _organises(actor, fa))
            )
        case Right.BOOTH_EDIT:
            fa, company_id = _booth_fair(obj)
            own = actor.role == "recruiter" and actor.company_id == company_id
            return actor.is_admin or (own and fa.company_status(actor.company_id) is not None)
        case Right.JOB_INTEREST:
            return _can_join_fair(actor, obj)
        case Right.ROSTER_IMPORT | Right.SCHOOL_STUDENTS:
            school_id = obj
            return actor.is_admin or (actor.role == "organiser" and actor.school_id == school_id)
        case Right.BRIEFING_SCHEDULE:
            fa, company_id = obj
            if actor.is_admin or _organises(actor, fa):
                return True
            return (
                actor.role == "recruiter"
                and actor.company_id == company_id
                and fa.company_status(company_id) == "approved"
            )
        case Right.COMPANY_MANAGE:
            company_id = obj
            return actor.is_admin or (actor.role == "recruiter" and actor.company_id == company_id)
        case Right.COMPANY_HIRE:
            return actor.role == "recruiter" and obj is not None and actor.company_id == obj
    return False
