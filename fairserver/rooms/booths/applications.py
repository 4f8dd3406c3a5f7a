"""Job applications (B2): a student applies to a job with a short message and their
profile; the résumé is copied as it is at that moment, so a later edit does not change
what the company was sent. The job's company reads the applications and invites an
applicant to book one of the job's slots (the student hears application.invited in
their own room). A student withdraws at any time; applying again reopens the same row.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.booths.candidate import StudentCard
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, Refused
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import applications as store
from fairserver.store.applications import ApplicantRow, ApplicationRow

# Re-exported: the transports name these rows and never import the store.
from fairserver.store.applications import CompanyJobRow as CompanyJobRow
from fairserver.store.applications import JobRef as JobRef
from fairserver.store.db import Database
from fairserver.text import Text

MAX_MESSAGE = 1000


class ApplyForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: Text = Field(default="", max_length=MAX_MESSAGE)


class Applicant(StudentCard):
    """One application as the job's company sees it (the résumé as it was sent)."""

    id: int
    message: str
    state: str  # applied | invited
    applied_at: datetime
    invited_at: datetime | None


class Applications(Outbound):
    """job.applications' answer."""

    job_id: int
    applications: list[Applicant]


class Invited(Outbound):
    """application.invited, to the student: where to book a slot for the job."""

    application_id: int
    job_id: int
    job_title: str
    slots_url: str


def slots_url(fair_slug: str, booth_id: int, job_id: int) -> str:
    """The student's slot page for a job (docs/protocol.md; built by the slots helper)."""
    return f"/fairs/{fair_slug}/booths/{booth_id}/slots?job={job_id}"


async def my_application(db: Database, job_id: int, student_id: int) -> ApplicationRow | None:
    async with db.connect() as conn:
        return await store.application_of(conn, job_id, student_id)


async def apply(services: Services, actor: Actor, job: JobRef, message: str) -> ApplicationRow:
    """For a student who may join the job's fair (the caller checks). Applying while an
    application is open changes nothing: a double click, or two tabs, store one."""
    student_id = actor.user_id or 0
    now = services.clock()
    try:
        async with services.db.begin() as conn:
            resume = await store.resume_of(conn, student_id)
            if resume is None:
                raise Refused("message", _("Fill in your profile first."), "application.no_profile")
            if not await store.reapply(conn, job.id, student_id, message, resume, now):
                if await store.application_of(conn, job.id, student_id) is None:
                    await store.insert_application(conn, job, student_id, message, resume, now)
    except IntegrityError:  # a concurrent apply stored it first
        pass
    found = await my_application(services.db, job.id, student_id)
    assert found is not None
    return found


async def withdraw(services: Services, actor: Actor, job_id: int) -> bool:
    async with services.db.begin() as conn:
        return await store.withdraw(conn, job_id, actor.user_id or 0, services.clock())


def _applicant(row: ApplicantRow) -> Applicant:
    return Applicant(
        id=row.id,
        student_id=row.student_id,
        display_name=row.display_name,
        real_name=row.real_name,
        school=row.school,
        major=row.major,
        degree=row.degree,
        graduation_year=row.graduation_year,
        message=row.message,
        resume=row.resume,
        state=row.state,
        applied_at=row.created_at,
        invited_at=row.invited_at,
    )


async def applications(services: Services, job: CompanyJobRow) -> Applications:
    """For a job reached through access_company_job."""
    async with services.db.connect() as conn:
        rows = await store.applicants(conn, job.id)
    return Applications(job_id=job.id, applications=[_applicant(r) for r in rows])


async def invite(
    services: Services, actor: Actor, job: CompanyJobRow, application_id: int
) -> Applicant:
    """Invites the applicant to book one of the job's slots; a second invitation of the
    same application (a colleague, another tab) sends nothing more."""
    now = services.clock()
    async with services.db.begin() as conn:
        changed = await store.invite(conn, application_id, job.id, actor.user_id or 0, now)
        rows = await store.applicants(conn, job.id)
        found = next((r for r in rows if r.id == application_id), None)
    if found is None:  # not this job's, or withdrawn: the same answer as a missing one
        raise NotFound()
    if changed:
        await services.notifier.emit(
            user_room(found.student_id),
            "application.invited",
            Invited(
                application_id=found.id,
                job_id=job.id,
                job_title=job.title,
                slots_url=slots_url(job.fair_slug, job.booth_id, job.id),
            ),
        )
    return _applicant(found)
