"""Intent agreements (I5) as their forms and viewers see them: the company's form, the
agreement each side sees (the same text and hash; what differs is what they may do),
and the notice events. The decisions are in rooms/interviews/agreements.py."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fairserver.i18n import gettext as _
from fairserver.rooms.interviews.agreements_access import AgreementAccess, Offer
from fairserver.rooms.notify import Outbound
from fairserver.store.agreements import CURRENT_STATES, AgreementRow
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

    @field_validator("position", "location")
    @classmethod
    def _visible(cls, value: str) -> str:
        if not value:  # only invisible characters, removed by cleaning
            raise ValueError(_("Required."))
        return value


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


def changeable(row: AgreementRow) -> bool:
    return row.state in CURRENT_STATES and row.countersigned_at is None


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
            SignatureView.model_validate(s, from_attributes=True) for s in found.signatures
        ],
        party=party,
        may_respond=party == "student" and row.state == "sent",
        may_countersign=party in {"school", "admin"}
        and row.state == "accepted"
        and row.countersigned_at is None,
        may_change=party == "company" and changeable(row),
    )


def notice_of(row: AgreementRow) -> AgreementNotice:
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
