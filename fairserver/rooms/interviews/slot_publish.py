"""A company's side of interview slots (I1, I2): publishing a series, withdrawing a slot,
and "continue later" (a follow-up slot with the same panel, booked at once).

Only recruiters of a company approved in the fair publish, for that company's booth; an
interviewer is one of the company's recruiters. A series that would overlap one of its
interviewers' slots is refused as a whole. The interviewers' user rows are locked first
(store/slots.py ``lock_users``), so two series for one interviewer cannot both pass the
overlap check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import FormRefused, NotFound, ServiceError
from fairserver.rooms.fairs.access import access_fair
from fairserver.rooms.interviews import waitlist
from fairserver.rooms.interviews.slots import unbook
from fairserver.rooms.interviews.waitlist import SlotCancelled
from fairserver.rooms.notify import user_room
from fairserver.store import booths as booth_store
from fairserver.store import history
from fairserver.store import interviews as interview_store
from fairserver.store import slots as store
from fairserver.store.db import Database
from fairserver.store.interviews import ColleagueRow, InterviewRow, ParticipantRow
from fairserver.store.slots import NewSlot, SlotRow

MAX_INTERVIEWERS = 4


def _blank_none(value: Any) -> Any:
    return None if value == "" else value


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
# A form's optional choice: an empty select sends "", which means none.
OptionalId = Annotated[Id | None, BeforeValidator(_blank_none)]


class SeriesForm(BaseModel):
    """A series of slots: ``count`` slots of ``length`` minutes, ``buffer`` apart."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    day: date
    start: time
    count: int = Field(ge=1, le=40)
    length: int = Field(ge=10, le=120)
    buffer: int = Field(ge=0, le=60)
    job: OptionalId = None
    interviewers: list[Id] = Field(min_length=1, max_length=MAX_INTERVIEWERS)


class FollowUpForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    day: date
    start: time
    length: int = Field(ge=10, le=120)


@dataclass(frozen=True)
class CompanyFair:
    """A fair where the caller's company is approved, with the company's booth there."""

    fair: FairAccess
    company_id: int
    booth_id: int


async def access_company_fair(source: Database | Services, actor: Actor, slug: str) -> CompanyFair:
    """Recruiters of a company approved in the fair; anyone else gets NotFound."""
    fa = await access_fair(source, actor, slug)
    company_id = actor.company_id
    if (
        actor.role != "recruiter"
        or company_id is None
        or fa.company_status(company_id) != "approved"
        or not can(actor, Right.BOOTH_EDIT, (fa, company_id))
    ):
        raise NotFound()
    async with database_of(source).connect() as conn:
        booths = await booth_store.company_booths(conn, company_id)
    if fa.id not in booths:
        raise NotFound()
    return CompanyFair(fa, company_id, booths[fa.id])


@dataclass(frozen=True)
class CompanySlots:
    slots: list[SlotRow]
    jobs: list[tuple[int, str]]
    recruiters: list[ColleagueRow]


async def company_slots(source: Database | Services, cf: CompanyFair) -> CompanySlots:
    async with database_of(source).connect() as conn:
        return CompanySlots(
            slots=await store.company_slots(conn, cf.fair.id, cf.company_id),
            jobs=await store.booth_jobs(conn, cf.booth_id),
            recruiters=await interview_store.colleagues(conn, cf.company_id),
        )


def series_times(
    form: SeriesForm | FollowUpForm, timezone: str, count: int = 1, buffer: int = 0
) -> list[tuple[datetime, datetime]]:
    """Each slot's (start, end) in UTC; the first starts at the fair-local day and time."""
    first = datetime.combine(form.day, form.start, ZoneInfo(timezone)).astimezone(UTC)
    step = timedelta(minutes=form.length + buffer)
    length = timedelta(minutes=form.length)
    return [(first + i * step, first + i * step + length) for i in range(count)]


async def _check_panel(conn: AsyncConnection, company_id: int, panel: list[int]) -> None:
    staff = {c.id for c in await interview_store.colleagues(conn, company_id)}
    if not panel or not set(panel) <= staff or len(set(panel)) != len(panel):
        raise FormRefused(
            "slot.panel", {"interviewers": _("Choose one to four recruiters of your company.")}
        )


async def _refuse_overlap(
    conn: AsyncConnection, panel: list[int], times: list[tuple[datetime, datetime]], buffer: int
) -> None:
    pad = timedelta(minutes=buffer)
    for starts, ends in times:
        if await store.overlapping(conn, panel, starts, ends + pad):
            raise FormRefused(
                "slot.overlap",
                {"start": _("These slots overlap slots of the same interviewer.")},
            )


async def publish_series(
    services: Services, actor: Actor, cf: CompanyFair, form: SeriesForm
) -> list[int]:
    """Publishes the series (all or nothing); returns the new slots' ids."""
    assert actor.user_id is not None
    now = services.clock()
    times = series_times(form, cf.fair.fair.timezone, form.count, form.buffer)
    if times[0][0] <= now:
        raise FormRefused("slot.past", {"start": _("The first slot must start in the future.")})
    async with services.db.begin() as conn:
        await store.lock_users(conn, *form.interviewers)
        await _check_panel(conn, cf.company_id, form.interviewers)
        if form.job is not None and await store.booth_job(conn, cf.booth_id, form.job) is None:
            raise FormRefused("slot.job", {"job": _("Choose one of your booth's jobs.")})
        await _refuse_overlap(conn, form.interviewers, times, form.buffer)
        return [
            await store.insert_slot(
                conn,
                NewSlot(
                    fair_id=cf.fair.id,
                    booth_id=cf.booth_id,
                    company_id=cf.company_id,
                    job_id=form.job,
                    recruiter_id=actor.user_id,
                    starts_at=starts,
                    ends_at=ends,
                    buffer_minutes=form.buffer,
                    created_at=now,
                ),
                form.interviewers,
            )
            for starts, ends in times
        ]


async def withdraw(services: Services, actor: Actor, cf: CompanyFair, slot_id: int) -> None:
    """An open slot is withdrawn; a booked one is cancelled first and its student told."""
    assert actor.user_id is not None
    now = services.clock()
    async with services.db.begin() as conn:
        await store.lock_users(conn, actor.user_id)
        slot = await store.slot(conn, slot_id)
        if slot is None or slot.company_id != cf.company_id or slot.fair_id != cf.fair.id:
            raise NotFound()
        if slot.state == "withdrawn":
            return
        pending: waitlist.Pending = []
        if slot.state == "booked" and slot.booked_by is not None:
            interview_id = await unbook(conn, slot, slot.booked_by, actor.user_id, now, "cancelled")
            cancelled = SlotCancelled(
                slot_id=slot.id,
                interview_id=interview_id,
                booth_id=slot.booth_id,
                job_id=slot.job_id,
                by="company",
                url=waitlist.slots_url(cf.fair.fair.slug, slot.booth_id, slot.job_id),
            )
            pending.append((user_room(slot.booked_by), "slot.cancelled", cancelled))
        elif slot.state == "held":
            pending += await waitlist.withdraw_offer(conn, slot)
        if not await store.withdraw(conn, slot.id):
            raise ServiceError("slot.changed", _("This slot changed meanwhile; try again."))
    await waitlist.emit_all(services, pending)


# Continue later (I2) ---------------------------------------------------------------------


def require_interviewer(me: ParticipantRow) -> None:
    if me.role != "interviewer":
        raise NotFound()


async def _booked_slot(
    conn: AsyncConnection,
    interview: InterviewRow,
    publisher: int,
    panel: list[int],
    when: tuple[datetime, datetime],
    now: datetime,
) -> SlotRow:
    """A slot at the interview's booth and job, already booked for its student."""
    assert interview.booth_id is not None
    slot_id = await store.insert_slot(
        conn,
        NewSlot(
            fair_id=interview.fair_id,
            booth_id=interview.booth_id,
            company_id=interview.company_id,
            job_id=interview.job_id,
            recruiter_id=publisher,
            starts_at=when[0],
            ends_at=when[1],
            buffer_minutes=0,
            created_at=now,
            state="booked",
            booked_by=interview.student_id,
        ),
        panel,
    )
    slot = await store.slot(conn, slot_id)
    assert slot is not None
    return slot


async def follow_up(
    services: Services,
    actor: Actor,
    interview: InterviewRow,
    me: ParticipantRow,
    form: FollowUpForm,
) -> int:
    """A new slot with the interview's panel, at its booth and job, booked at once for the
    same student (no booking window: the company asks), with follows_id = this interview.
    Returns the new interview's id; the student hears slot.booked."""
    require_interviewer(me)
    assert actor.user_id is not None
    if interview.booth_id is None:
        raise NotFound()
    now = services.clock()
    async with services.db.connect() as conn:
        fair_tz = await store.fair_zone(conn, interview.fair_id)
        people = await interview_store.participants(conn, interview.id)
    panel = [p.user_id for p in people if p.role == "interviewer"][:MAX_INTERVIEWERS]
    [(starts, ends)] = series_times(form, fair_tz)
    if starts <= now:
        raise FormRefused("slot.past", {"start": _("The slot must start in the future.")})
    async with services.db.begin() as conn:
        await store.lock_users(conn, interview.student_id, *panel)
        await _refuse_overlap(conn, panel, [(starts, ends)], 0)
        slot = await _booked_slot(conn, interview, actor.user_id, panel, (starts, ends), now)
        new_id = await store.insert_booking(
            conn, slot, interview.student_id, actor.user_id, now, "follow_up", interview.id
        )
        await history.record(
            conn, interview.id, actor.user_id, now, "follow_up", follow_up_id=new_id
        )
    booked = waitlist.booked_event(slot, new_id, interview.fair_slug)
    await services.notifier.emit(user_room(interview.student_id), "slot.booked", booked)
    return new_id
