"""The access layer (rooms/*/access.py): for each role, what it may reach, and that a
forbidden object answers exactly as a missing one (the same NotFound: same code, same
message), so ids cannot be probed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.auth import ANONYMOUS, Actor, create_session, resolve_session
from fairserver.permissions import Right
from fairserver.rooms.accounts.roster import Problem, RosterRejected
from fairserver.rooms.booths.access import (
    access_booth,
    access_booth_by_id,
    access_booth_job,
    access_job,
)
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.briefings.access import (
    access_briefing,
    access_live_briefing,
    visible_briefings,
)
from fairserver.rooms.briefings.schedule import ScheduleRefused
from fairserver.rooms.errors import FormRefused, NotFound, Refused, ServiceError
from fairserver.rooms.fairs.access import (
    access_fair,
    access_fair_by_id,
    access_invitation,
    visible_fairs,
)
from fairserver.rooms.fairs.export import UnknownExport
from fairserver.rooms.interviews.access import access_interview
from fairserver.store import briefings as briefing_store
from fairserver.store import fairs as fair_store
from fairserver.store import interviews as interview_store
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from fairserver.store.db import Database
from tests.factories import CAMPUS_VIEWERS, ROLES_WITH_UNVERIFIED, World, build_world

MISSING = 2**31 - 1
START = datetime(2027, 1, 10, 2, 30, tzinfo=UTC)


@dataclass
class Scene:
    db: Database
    world: World
    actors: dict[str, Actor]

    async def who_may(self, reach: Callable[[Actor], Awaitable[Any]]) -> set[str]:
        """The roles `reach` succeeds for; every other one must get the missing NotFound."""
        allowed = set()
        for role, actor in self.actors.items():
            try:
                await reach(actor)
            except ServiceError as exc:
                assert same_as_missing(exc), f"{role}: {exc!r}"
            else:
                allowed.add(role)
        return allowed

    async def nobody_reaches(self, reach: Callable[[Actor], Awaitable[Any]]) -> None:
        assert await self.who_may(reach) == set()


def same_as_missing(exc: ServiceError) -> bool:
    return type(exc) is NotFound and (exc.code, exc.message, exc.details) == (
        "not_found",
        "not found",
        {},
    )


@pytest.fixture
async def scene(db: Database) -> Scene:
    world = await build_world(db)
    actors: dict[str, Actor] = {"anonymous": ANONYMOUS}
    for role in ROLES_WITH_UNVERIFIED[1:]:
        token = await create_session(db, world.users[role], timedelta(hours=1))
        actor = await resolve_session(db, token)
        assert actor is not None
        actors[role] = actor
    return Scene(db, world, actors)


# Fairs ---------------------------------------------------------------------------------


async def test_a_campus_fair_is_reached_by_its_viewers_only(scene: Scene) -> None:
    assert await scene.who_may(lambda a: access_fair(scene.db, a, "campus")) == CAMPUS_VIEWERS
    fair_id = scene.world.campus_fair
    by_id = await scene.who_may(lambda a: access_fair_by_id(scene.db, a, fair_id))
    assert by_id == CAMPUS_VIEWERS
    found = await access_fair(scene.db, scene.actors["student_a"], "campus")
    assert found.id == fair_id and found.companies == {scene.world.company_a: "approved"}


async def test_an_open_fair_is_reached_by_everyone(scene: Scene) -> None:
    everyone = set(scene.actors)
    assert await scene.who_may(lambda a: access_fair(scene.db, a, "open")) == everyone


async def test_managing_a_fair_is_for_its_organisers_and_admins(scene: Scene) -> None:
    def manage(slug: str) -> Callable[[Actor], Awaitable[Any]]:
        return lambda a: access_fair(scene.db, a, slug, Right.FAIR_MANAGE)

    assert await scene.who_may(manage("campus")) == {"organiser_a", "admin"}
    assert await scene.who_may(manage("open")) == {"organiser_b", "admin"}
    fair_id = scene.world.campus_fair
    by_id = await scene.who_may(
        lambda a: access_fair_by_id(scene.db, a, fair_id, Right.FAIR_MANAGE)
    )
    assert by_id == {"organiser_a", "admin"}


async def test_an_unpublished_fair_is_missing_for_all_but_its_staff(scene: Scene) -> None:
    draft = await scene.who_may(lambda a: access_fair(scene.db, a, "draft"))
    assert draft == {"organiser_a", "admin"}


async def test_several_rights_are_all_needed(scene: Scene) -> None:
    both = (Right.FAIR_APPLY, Right.FAIR_VIEW)
    # Both companies take part already; company B is asked to the campus fair.
    async with scene.db.begin() as conn:
        await fair_store.set_participation(
            conn, scene.world.campus_fair, scene.world.company_b, "invited"
        )
    assert await scene.who_may(lambda a: access_fair(scene.db, a, "campus", both)) == {
        "recruiter_b"
    }
    assert await scene.who_may(lambda a: access_fair(scene.db, a, "open", both)) == set()


async def test_a_missing_fair_is_missing_for_everyone(scene: Scene) -> None:
    await scene.nobody_reaches(lambda a: access_fair(scene.db, a, "no-such-fair"))
    await scene.nobody_reaches(lambda a: access_fair_by_id(scene.db, a, MISSING))


async def test_visible_fairs_are_the_ones_access_fair_reaches(scene: Scene) -> None:
    for role, actor in scene.actors.items():
        slugs = {fa.fair.slug for fa in await visible_fairs(scene.db, actor)}
        reached = set()
        for slug in ("campus", "open", "draft"):
            try:
                await access_fair(scene.db, actor, slug)
            except NotFound:
                continue
            reached.add(slug)
        assert slugs == reached, role


async def test_an_invitation_is_answered_by_the_invited_company_only(scene: Scene) -> None:
    async with scene.db.begin() as conn:
        await fair_store.set_participation(
            conn, scene.world.campus_fair, scene.world.company_b, "invited"
        )
    invited = await scene.who_may(lambda a: access_invitation(scene.db, a, "campus"))
    assert invited == {"recruiter_b"}
    # Company A takes part already: nothing to answer. A missing fair answers the same.
    await scene.nobody_reaches(lambda a: access_invitation(scene.db, a, "open"))
    await scene.nobody_reaches(lambda a: access_invitation(scene.db, a, "no-such-fair"))


# Booths and jobs -----------------------------------------------------------------------


async def test_a_booth_is_seen_by_the_fairs_viewers(scene: Scene) -> None:
    w = scene.world
    page = await scene.who_may(lambda a: access_booth(scene.db, a, "campus", w.booth_a_campus))
    live = await scene.who_may(
        lambda a: access_booth_by_id(scene.db, a, w.campus_fair, w.booth_a_campus)
    )
    assert page == live == CAMPUS_VIEWERS
    found = await access_booth_by_id(
        scene.db, scene.actors["student_a"], w.campus_fair, w.booth_a_campus
    )
    assert found.booth == Booth(w.booth_a_campus, w.campus_fair, w.company_a, "Company A")
    assert found.fair.id == w.campus_fair and found.row.company_slug == "company-a"


async def test_a_booth_is_edited_by_its_company_and_admins(scene: Scene) -> None:
    w = scene.world

    def edit(slug: str, booth_id: int) -> Callable[[Actor], Awaitable[Any]]:
        return lambda a: access_booth(scene.db, a, slug, booth_id, Right.BOOTH_EDIT)

    assert await scene.who_may(edit("campus", w.booth_a_campus)) == {"recruiter_a", "admin"}
    assert await scene.who_may(edit("open", w.booth_b_open)) == {"recruiter_b", "admin"}


async def test_a_booth_of_an_unapproved_company_is_hidden_from_visitors(scene: Scene) -> None:
    w = scene.world
    async with scene.db.begin() as conn:
        await fair_store.set_participation(conn, w.open_fair, w.company_b, "applied")
    seen = await scene.who_may(lambda a: access_booth(scene.db, a, "open", w.booth_b_open))
    assert seen == {"recruiter_b", "organiser_b", "admin"}


async def test_a_booth_elsewhere_or_missing_is_missing(scene: Scene) -> None:
    w = scene.world
    # Booth B is in the open fair, not the campus fair: even an admin finds nothing.
    await scene.nobody_reaches(lambda a: access_booth(scene.db, a, "campus", w.booth_b_open))
    await scene.nobody_reaches(
        lambda a: access_booth_by_id(scene.db, a, w.campus_fair, w.booth_b_open)
    )
    await scene.nobody_reaches(lambda a: access_booth(scene.db, a, "campus", MISSING))
    await scene.nobody_reaches(lambda a: access_booth(scene.db, a, "no-such-fair", 1))
    await scene.nobody_reaches(lambda a: access_booth_by_id(scene.db, a, MISSING, 1))


async def _job_of(db: Database, booth_id: int) -> int:
    async with db.connect() as conn:
        job_id = (
            await conn.execute(
                sa.select(sa.func.min(t.jobs.c.id)).where(t.jobs.c.booth_id == booth_id)
            )
        ).scalar_one()
    return int(job_id)


async def test_a_job_is_seen_where_its_booth_is(scene: Scene) -> None:
    w = scene.world
    campus_job = await _job_of(scene.db, w.booth_a_campus)
    open_job = await _job_of(scene.db, w.booth_b_open)
    assert await scene.who_may(lambda a: access_job(scene.db, a, "campus", campus_job)) == (
        CAMPUS_VIEWERS
    )
    # A job of another fair, or none at all, is missing.
    await scene.nobody_reaches(lambda a: access_job(scene.db, a, "campus", open_job))
    await scene.nobody_reaches(lambda a: access_job(scene.db, a, "campus", MISSING))


async def test_a_booths_job_is_edited_by_the_booths_editors(scene: Scene) -> None:
    w = scene.world
    job = await _job_of(scene.db, w.booth_a_campus)
    other = await _job_of(scene.db, w.booth_a_open)
    editors = await scene.who_may(
        lambda a: access_booth_job(scene.db, a, "campus", w.booth_a_campus, job)
    )
    assert editors == {"recruiter_a", "admin"}
    # The same company's job at its other booth is not this booth's.
    await scene.nobody_reaches(
        lambda a: access_booth_job(scene.db, a, "campus", w.booth_a_campus, other)
    )
    await scene.nobody_reaches(
        lambda a: access_booth_job(scene.db, a, "campus", w.booth_a_campus, MISSING)
    )


# Briefings -----------------------------------------------------------------------------


async def _briefing(db: Database, fair_id: int, company_id: int, presenter: int) -> int:
    async with db.begin() as conn:
        return await briefing_store.insert_briefing(
            conn,
            fair_id,
            NewBriefing(
                company_id=company_id,
                title="Offshore careers",
                description="",
                starts_at=START,
                ends_at=START + timedelta(minutes=45),
                status="scheduled",
            ),
            [presenter],
        )


async def test_a_briefing_is_seen_like_its_fair_and_moderated_by_its_staff(
    scene: Scene,
) -> None:
    w = scene.world
    briefing = await _briefing(scene.db, w.campus_fair, w.company_a, w.users["recruiter_a"])
    page = await scene.who_may(lambda a: access_briefing(scene.db, a, "campus", briefing))
    live = await scene.who_may(lambda a: access_live_briefing(scene.db, a, w.campus_fair, briefing))
    assert page == live == CAMPUS_VIEWERS
    moderators = await scene.who_may(
        lambda a: access_briefing(scene.db, a, "campus", briefing, moderate=True)
    )
    assert moderators == {"recruiter_a", "organiser_a", "admin"}
    _fa, row = await access_briefing(scene.db, scene.actors["student_a"], "campus", briefing)
    assert row.company_name == "Company A" and len(row.presenters) == 1


async def test_a_briefing_of_a_company_not_taking_part_is_for_the_fairs_staff(
    scene: Scene,
) -> None:
    w = scene.world
    briefing = await _briefing(scene.db, w.campus_fair, w.company_b, w.users["recruiter_b"])
    staff = {"organiser_a", "admin"}
    assert await scene.who_may(lambda a: access_briefing(scene.db, a, "campus", briefing)) == (
        staff
    )
    live = await scene.who_may(lambda a: access_live_briefing(scene.db, a, w.campus_fair, briefing))
    assert live == staff
    for role, actor in scene.actors.items():
        fa = await fair_store_access(scene.db, w.campus_fair)
        shown = {b.id for b in await visible_briefings(scene.db, actor, fa)}
        assert (briefing in shown) == (role in staff), role


async def fair_store_access(db: Database, fair_id: int) -> Any:
    async with db.connect() as conn:
        return await fair_store.fair_access_by_id(conn, fair_id)


async def test_a_briefing_elsewhere_or_missing_is_missing(scene: Scene) -> None:
    w = scene.world
    briefing = await _briefing(scene.db, w.open_fair, w.company_a, w.users["recruiter_a"])
    await scene.nobody_reaches(lambda a: access_briefing(scene.db, a, "campus", briefing))
    await scene.nobody_reaches(lambda a: access_live_briefing(scene.db, a, w.campus_fair, briefing))
    await scene.nobody_reaches(lambda a: access_briefing(scene.db, a, "open", MISSING))
    await scene.nobody_reaches(
        lambda a: access_briefing(scene.db, a, "open", MISSING, moderate=True)
    )
    await scene.nobody_reaches(lambda a: access_live_briefing(scene.db, a, w.open_fair, MISSING))


# Interviews ----------------------------------------------------------------------------


async def test_an_interview_is_reached_by_its_participants_only(scene: Scene) -> None:
    w = scene.world
    now = datetime.now(UTC)
    async with scene.db.begin() as conn:
        interview_id = await interview_store.insert_interview(
            conn,
            interview_store.NewInterview(
                fair_id=w.open_fair,
                company_id=w.company_a,
                student_id=w.users["student_a"],
                origin="chat",
                state="waiting",
                created_at=now,
            ),
        )
        await interview_store.add_participant(
            conn, interview_id, w.users["student_a"], "candidate", None
        )
        await interview_store.add_participant(
            conn, interview_id, w.users["recruiter_a"], "interviewer", now
        )
    # Not even an admin or the fair's organiser: an interview is its participants' alone.
    taking_part = await scene.who_may(lambda a: access_interview(scene.db, a, interview_id))
    assert taking_part == {"student_a", "recruiter_a"}
    row, me = await access_interview(scene.db, scene.actors["recruiter_a"], interview_id)
    assert row.id == interview_id and me.role == "interviewer"
    await scene.nobody_reaches(lambda a: access_interview(scene.db, a, MISSING))


# One error hierarchy -------------------------------------------------------------------


def test_the_services_refuse_with_one_error_hierarchy() -> None:
    refused = Refused("email", "An account with this e-mail already exists.", "account.email_taken")
    assert isinstance(refused, ServiceError)
    assert (refused.code, refused.field, refused.message) == (
        "account.email_taken",
        "email",
        "An account with this e-mail already exists.",
    )
    assert refused.details == {"field": "email"}
    schedule = ScheduleRefused({"start": "Outside the fair.", "presenters": "Choose one."})
    assert isinstance(schedule, FormRefused) and schedule.code == "briefing.schedule_refused"
    assert schedule.errors == {"start": "Outside the fair.", "presenters": "Choose one."}
    rejected = RosterRejected([Problem(0, "The file is empty.")])
    assert isinstance(rejected, ServiceError) and rejected.code == "roster.rejected"
    # An unknown export is a missing page, answered as any other.
    unknown = UnknownExport("nonsense")
    assert isinstance(unknown, NotFound) and (unknown.code, unknown.message) == (
        "not_found",
        "not found",
    )
