"""Opening an interview room from a booth (B6) and bringing in colleagues (I2 panel).

A recruiter of the booth's company escalates a booth conversation with a student into an
interview: allowed only with a student who queued at that booth or chatted privately with
its staff (anyone else is not_found). One open interview per company and student in a
fair: opening again returns it (and adds the caller to the panel). A booked slot's
interview is never reused: an escalation makes its own room (docs/decisions.md §26).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Actor
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import rooms as interviews
from fairserver.rooms.interviews.rooms import (
    InterviewSummary,
    Participants,
    Seat,
    interview_url,
    summary,
)
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import booth_live
from fairserver.store import interviews as store
from fairserver.store.interviews import NewInterview

MAX_INTERVIEWERS = 4


class Invited(Outbound):
    interview_id: int
    booth_id: int | None
    url: str
    company_name: str
    student_name: str
    from_user_id: int
    from_name: str


class Opened(InterviewSummary):
    """interview.open's answer: the interview, and whether this call created it."""

    created: bool


class MyInterviews(Outbound):
    """interview.mine's answer."""

    booth_id: int
    interviews: list[InterviewSummary]


async def _may_escalate(services: Services, booth: Booth, student_id: int) -> None:
    """Only with a student who queued at the booth or chatted privately with its staff."""
    async with services.db.connect() as conn:
        student = await booth_live.user_brief(conn, student_id)
        met = student is not None and student.role == "student"
        met = met and (
            await store.queued_at(conn, booth.id, student_id)
            or await store.has_private_chat(conn, booth.room, student_id)
        )
    if not met:
        raise NotFound()


async def open_for_booth(services: Services, actor: Actor, booth: Booth, student_id: int) -> Opened:
    """A recruiter turns a booth chat into an interview room, or finds the open one."""
    assert actor.user_id is not None
    await _may_escalate(services, booth, student_id)
    now, added = services.clock(), False
    async with services.db.begin() as conn:
        found = await store.open_escalation(conn, booth.fair_id, booth.company_id, student_id)
        if found is not None:
            interview_id = found.id
            if await store.participant(conn, interview_id, actor.user_id) is None:
                await add_to_panel(conn, interview_id, actor.user_id, now)
                added = True
        else:
            interview_id = await store.insert_interview(
                conn,
                NewInterview(
                    fair_id=booth.fair_id,
                    company_id=booth.company_id,
                    student_id=student_id,
                    origin="chat",
                    state="waiting",
                    created_at=now,
                ),
            )
            await store.add_participant(conn, interview_id, student_id, "candidate", None)
            await store.add_participant(conn, interview_id, actor.user_id, "interviewer", now)
        row = await store.interview(conn, interview_id)
    assert row is not None
    invited = Invited(
        interview_id=row.id,
        booth_id=booth.id,
        url=interview_url(row.id),
        company_name=row.company_name,
        student_name=row.student_name,
        from_user_id=actor.user_id or 0,
        from_name=actor.display_name,
    )
    await services.notifier.emit(user_room(student_id), "interview.invited", invited)
    if added:
        await interviews.after_panel_change(services, interview_id)
    return Opened(**summary(row).model_dump(), created=found is None)


async def add_to_panel(
    conn: AsyncConnection, interview_id: int, user_id: int, now: datetime
) -> None:
    panel = [p for p in await store.participants(conn, interview_id) if p.role == "interviewer"]
    if len(panel) >= MAX_INTERVIEWERS:
        raise ServiceError("interview.full", "an interview has at most four interviewers")
    await store.add_participant(conn, interview_id, user_id, "interviewer", now)


async def add_interviewer(
    services: Services, actor: Actor, seat: Seat, user_id: int
) -> Participants:
    """An interviewer brings in a colleague (a recruiter of the same company)."""
    interviews.require_interviewer(seat)
    interviews.require_open(seat)
    async with services.db.begin() as conn:
        colleague = await booth_live.colleague(conn, seat.interview.company_id, user_id)
        if colleague is None:
            raise NotFound()
        if await store.participant(conn, seat.id, user_id) is None:
            await add_to_panel(conn, seat.id, user_id, services.clock())
    return await tell_colleague(services, actor, seat, user_id)


async def tell_colleague(
    services: Services, actor: Actor, seat: Seat, user_id: int
) -> Participants:
    """After a colleague joined the panel (added, or handed the interview): they hear
    interview.invited, and the room its new participants."""
    invited = Invited(
        interview_id=seat.id,
        booth_id=seat.interview.booth_id,
        url=interview_url(seat.id),
        company_name=seat.interview.company_name,
        student_name=seat.interview.student_name,
        from_user_id=actor.user_id or 0,
        from_name=actor.display_name,
    )
    await services.notifier.emit(user_room(user_id), "interview.invited", invited)
    return await interviews.after_panel_change(services, seat.id)


async def mine(services: Services, actor: Actor, booth: Booth) -> MyInterviews:
    """The caller's interviews with this booth's company in its fair that have not ended."""
    async with services.db.connect() as conn:
        rows = await store.open_interviews_of(
            conn, actor.user_id or 0, booth.fair_id, booth.company_id
        )
    return MyInterviews(booth_id=booth.id, interviews=[summary(row) for row in rows])
