"""Candidate view (B7): the staff see a student they meet, then mark, note and hand over.

Only the staff of the booth's company, and only for students in its queue, called,
chatting or served by it. Marks belong to the company: other companies never see them,
and a missing student looks exactly like one they may not see.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fairserver.auth import Actor
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import booth_live as store
from fairserver.store.booth_live import NewMark, StudentProfileRow


class Handover(Outbound):
    booth_id: int
    mark_id: int
    student_id: int
    student: str
    from_name: str
    interest: str
    note: str
    created_at: datetime


class MarkView(Outbound):
    """A company's mark as its staff see it (times as Python's isoformat, as always sent)."""

    id: int
    booth_id: int | None
    interest: str | None
    note: str
    created_at: str
    author: str
    handed_to: int | None
    handed_to_name: str | None


class StudentCard(Outbound):
    """A student as a company sees them: on the booth desk, a scorecard, an application."""

    student_id: int
    display_name: str
    real_name: str
    school: str
    major: str
    degree: str
    graduation_year: int
    resume: str

    @classmethod
    def of(cls, profile: StudentProfileRow) -> StudentCard:
        return cls(
            student_id=profile.user_id,
            display_name=profile.display_name,
            real_name=profile.real_name,
            school=profile.school,
            major=profile.major,
            degree=profile.degree,
            graduation_year=profile.graduation_year,
            resume=profile.resume,
        )


class CandidateView(StudentCard):
    """booth.candidate's answer: the student the staff met, and the company's marks."""

    verified: bool
    marks: list[MarkView]


class MarkSaved(Outbound):
    id: int
    student_id: int
    interest: str
    note: str
    handed_to: int | None
    created_at: str


async def _met_student(services: Services, booth: Booth, student_id: int) -> StudentProfileRow:
    async with services.db.connect() as conn:
        met = await store.met_at_booth(conn, booth.id, student_id)
        profile = await store.student_profile(conn, student_id) if met else None
    if profile is None:
        raise NotFound()
    return profile


async def candidate(services: Services, booth: Booth, student_id: int) -> CandidateView:
    profile = await _met_student(services, booth, student_id)
    async with services.db.connect() as conn:
        marks = await store.company_marks(conn, booth.company_id, student_id)
    return CandidateView(
        **StudentCard.of(profile).model_dump(),
        verified=profile.verified_at is not None,
        marks=[MarkView(**{**asdict(m), "created_at": m.created_at.isoformat()}) for m in marks],
    )


async def mark(
    services: Services,
    actor: Actor,
    booth: Booth,
    student_id: int,
    interest: str,
    note: str,
    handed_to: int | None,
) -> MarkSaved:
    """Stores the mark; a handover tells the colleague in their own room, no one else."""
    profile = await _met_student(services, booth, student_id)
    now = services.clock()
    async with services.db.begin() as conn:
        colleague = None
        if handed_to is not None:
            colleague = await store.colleague(conn, booth.company_id, handed_to)
            if colleague is None:
                raise NotFound()
        assert actor.user_id is not None
        mark_id = await store.insert_mark(
            conn,
            NewMark(
                company_id=booth.company_id,
                student_id=student_id,
                author_id=actor.user_id,
                booth_id=booth.id,
                interest=interest,
                note=note,
                handed_to=handed_to,
                created_at=now,
            ),
        )
    if colleague is not None:
        event = Handover(
            booth_id=booth.id,
            mark_id=mark_id,
            student_id=student_id,
            student=profile.real_name,
            from_name=actor.display_name,
            interest=interest,
            note=note,
            created_at=now,
        )
        await services.notifier.emit(user_room(colleague.id), "booth.handover", event)
    return MarkSaved(
        id=mark_id,
        student_id=student_id,
        interest=interest,
        note=note,
        handed_to=handed_to,
        created_at=now.isoformat(),
    )
