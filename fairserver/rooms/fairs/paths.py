"""A student's path (F6 ★): from the first visit to a signed agreement, for their school.

Only the student's own school sees it (its organisers, and admins): a regional office or
another school running a fair the student went to gets the same NotFound as for a
student who does not exist. What a path shows is what the school may see anyway:
attendance, queues, interviews, outcomes once released, agreements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fairserver.auth import Actor
from fairserver.clock import utcnow
from fairserver.permissions import Right
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs.access import require
from fairserver.rows import ProfileRow
from fairserver.store import accounts
from fairserver.store.db import Database
from fairserver.store.student_path import Stage, Step, student_path


@dataclass(frozen=True, slots=True)
class Milestone:
    """How far along one stage the student got: how many steps, and the first one's time."""

    stage: Stage
    count: int
    first_at: datetime | None


@dataclass(frozen=True, slots=True)
class FairPath:
    """The steps at one fair, oldest first."""

    fair_id: int
    title: str
    steps: list[Step]


@dataclass(frozen=True, slots=True)
class StudentPath:
    profile: ProfileRow
    milestones: list[Milestone]
    fairs: list[FairPath]  # in the order the student first came to each
    generated_at: datetime

    @property
    def empty(self) -> bool:
        return not self.fairs


# The stages a school follows, in order; a signed agreement is one the student accepted.
MILESTONES: tuple[Stage, ...] = ("fair", "booth", "briefing", "queue", "interview", "outcome")


def _milestones(steps: list[Step]) -> list[Milestone]:
    out = []
    for stage in MILESTONES:
        of_stage = [s for s in steps if s.stage == stage]
        out.append(Milestone(stage, len(of_stage), of_stage[0].at if of_stage else None))
    signed = [s for s in steps if s.stage == "agreement" and s.state == "accepted"]
    out.append(Milestone("agreement", len(signed), signed[0].at if signed else None))
    return out


def _by_fair(steps: list[Step]) -> list[FairPath]:
    fairs: dict[int, FairPath] = {}
    for step in steps:
        fair = fairs.setdefault(step.fair_id, FairPath(step.fair_id, step.fair_title, []))
        fair.steps.append(step)
    return list(fairs.values())


async def path_of(db: Database, actor: Actor, student_id: int) -> StudentPath:
    """``student_id``'s path, for an organiser of their school or an admin."""
    async with db.connect() as conn:
        profile = await accounts.profile(conn, student_id)
        if profile is None:
            raise NotFound()
        require(actor, Right.SCHOOL_STUDENTS, profile.school_id)
        now = utcnow()
        steps = await student_path(conn, student_id, now)
    return StudentPath(profile, _milestones(steps), _by_fair(steps), now)
