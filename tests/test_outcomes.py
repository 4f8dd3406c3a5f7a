"""Scorecards, notes, outcomes and their release (I4), as services on SQLite and PostgreSQL
with a recording notifier: who may reach them, what each change writes (with its history
row), and exactly which events go to which rooms. The student hears one event, and only
on a release: the outcome and the message, nothing of the scores or notes."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from fairserver.auth import Actor
from fairserver.clock import utcnow
from fairserver.rooms.errors import NotFound, Refused
from fairserver.rooms.interviews import outcomes, scorecards
from fairserver.rooms.interviews.access import access_panel, hiring_company
from fairserver.rooms.interviews.scorecards import CriterionForm
from fairserver.rooms.notify import RecordingNotifier, user_room
from fairserver.rooms.wiring import build_services
from fairserver.store import accounts, history
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.interviews import InterviewRow
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world


class Setup:
    def __init__(self, db: Database, world: World) -> None:
        self.db, self.world, self.time = db, world, FakeTime()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )
        self.interview_id = 0
        self.criteria: list[int] = []

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        company = self.world.company_b if who == "recruiter_b" else self.world.company_a
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=company if role == "recruiter" else None,
        )

    async def interview(self) -> InterviewRow:
        return await access_panel(self.services, self.actor("recruiter_a"), self.interview_id)


async def make_interview(db: Database, world: World, panel: tuple[str, ...]) -> int:
    """student_a's interview with company A at the campus fair (origin queue), ``panel``
    its interviewers; recruiter_a2 exists as a colleague of company A in any case."""
    async with db.begin() as conn:
        result = await conn.execute(
            t.interviews.insert()
            .values(
                fair_id=world.campus_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                origin="queue",
                state="ended",
                created_at=utcnow(),
            )
            .returning(t.interviews.c.id)
        )
        interview_id = int(result.scalar_one())
        rows = [("student_a", "candidate"), *((who, "interviewer") for who in panel)]
        for who, role in rows:
            await conn.execute(
                t.interview_participants.insert().values(
                    interview_id=interview_id, user_id=world.users[who], role=role
                )
            )
    return interview_id


async def add_recruiters(db: Database, world: World, *keys: str) -> None:
    async with db.begin() as conn:
        for key in keys:
            world.users[key] = await accounts.insert_user(
                conn,
                email=f"{key}@test.fair",
                password_hash="x",
                display_name=key,
                role="recruiter",
                company_id=world.company_a,
            )


@pytest.fixture
async def setup(db: Database) -> Setup:
    world = await build_world(db)
    await add_recruiters(db, world, "recruiter_a2", "recruiter_a3")
    s = Setup(db, world)
    s.interview_id = await make_interview(db, world, ("recruiter_a", "recruiter_a2"))
    for name, scale in (("Technical", 5), ("Communication", 5), ("Safety", 3)):
        s.criteria.append(
            await scorecards.add_criterion(
                s.services, world.company_a, CriterionForm(name=name, scale=scale)
            )
        )
    return s


async def kinds(s: Setup) -> list[str]:
    async with s.db.connect() as conn:
        return [h.kind for h in await history.history(conn, s.interview_id)]


async def test_only_the_panel_reaches_an_interview_and_everyone_else_gets_not_found(
    setup: Setup,
) -> None:
    s = setup
    for who in ("recruiter_a", "recruiter_a2"):
        assert (await access_panel(s.services, s.actor(who), s.interview_id)).id == s.interview_id
    # Off the panel (a colleague), another company, the candidate, staff and admins: the
    # same NotFound as an id that does not exist.
    for who in ("recruiter_a3", "recruiter_b", "student_a", "student_b", "organiser_a", "admin"):
        with pytest.raises(NotFound) as refused:
            await access_panel(s.services, s.actor(who), s.interview_id)
        assert refused.value.code == "not_found", who
    with pytest.raises(NotFound):
        await access_panel(s.services, s.actor("recruiter_a"), s.interview_id + 1000)
    assert hiring_company(s.actor("recruiter_b")) == s.world.company_b
    for who in ("student_a", "organiser_a", "admin"):
        with pytest.raises(NotFound):
            hiring_company(s.actor(who))


async def test_each_interviewer_keeps_one_scorecard_of_their_own(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    tech, comm, safety = s.criteria
    mine = await scorecards.save_scores(
        s.services, s.actor("recruiter_a"), interview, {tech: 4, comm: 5}
    )
    assert {(r.criterion_id, r.rating) for r in mine.ratings} == {(tech, 4), (comm, 5)}
    # A second save replaces it: comm left out is cleared, safety added.
    await scorecards.save_scores(
        s.services, s.actor("recruiter_a"), interview, {tech: 3, safety: 2}
    )
    await scorecards.save_scores(s.services, s.actor("recruiter_a2"), interview, {tech: 1})
    view = await scorecards.scorecard_view(s.services, s.actor("recruiter_a"), interview)
    assert {(r.criterion_id, r.rating) for r in view.mine.ratings} == {(tech, 3), (safety, 2)}
    assert [
        (o.author_name, [(r.criterion_id, r.rating) for r in o.ratings]) for o in view.others
    ] == [("recruiter_a2", [(tech, 1)])]
    # The other interviewer's view is the mirror image: nobody writes another's card.
    theirs = await scorecards.scorecard_view(s.services, s.actor("recruiter_a2"), interview)
    assert [(r.criterion_id, r.rating) for r in theirs.mine.ratings] == [(tech, 1)]
    assert await kinds(s) == ["score", "score", "score"]
    async with s.db.connect() as conn:
        rows = (await conn.execute(sa.select(t.interview_scores))).all()
    assert len(rows) == 3
    assert s.notifier.sent == []  # scorecards are never broadcast


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unknown", "score.unknown_criterion"),
        ("tech_6", "score.out_of_scale"),
        ("safety_4", "score.out_of_scale"),
        ("safety_0", "score.out_of_scale"),
        ("empty", "score.empty"),
    ],
)
async def test_ratings_must_fit_an_active_criterion(setup: Setup, case: str, code: str) -> None:
    s = setup
    tech, _comm, safety = s.criteria
    given = {
        "unknown": {safety + 100: 3},
        "tech_6": {tech: 6},
        "safety_4": {safety: 4},
        "safety_0": {safety: 0},
        "empty": {},
    }[case]
    with pytest.raises(Refused) as refused:
        await scorecards.save_scores(s.services, s.actor("recruiter_a"), await s.interview(), given)
    assert refused.value.code == code
    assert await kinds(s) == []


async def test_archived_criteria_keep_their_scores_but_are_no_longer_offered(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    tech, comm, safety = s.criteria
    await scorecards.save_scores(
        s.services, s.actor("recruiter_a"), interview, {tech: 4, safety: 3}
    )
    await scorecards.archive_criterion(s.services, s.world.company_a, safety)
    with pytest.raises(Refused):
        await scorecards.save_scores(s.services, s.actor("recruiter_a"), interview, {safety: 1})
    # Saving the active ones leaves the archived rating alone.
    await scorecards.save_scores(s.services, s.actor("recruiter_a"), interview, {comm: 2})
    view = await scorecards.scorecard_view(s.services, s.actor("recruiter_a"), interview)
    assert {(r.criterion_id, r.rating) for r in view.mine.ratings} == {(comm, 2), (safety, 3)}
    assert [(c.id, c.archived) for c in view.criteria] == [
        (tech, False),
        (comm, False),
        (safety, True),
    ]
    with pytest.raises(NotFound):  # archived already, or another company's
        await scorecards.archive_criterion(s.services, s.world.company_a, safety)
    with pytest.raises(NotFound):
        await scorecards.archive_criterion(s.services, s.world.company_b, tech)


async def test_criteria_are_ordered_and_named_once_per_company(setup: Setup) -> None:
    s = setup
    tech, comm, safety = s.criteria
    company = s.world.company_a
    await scorecards.move_criterion(s.services, company, safety, "up")
    await scorecards.move_criterion(s.services, company, tech, "up")  # first already
    listed = await scorecards.company_criteria(s.services, company)
    assert [c.id for c in listed] == [tech, safety, comm]
    with pytest.raises(Refused) as refused:
        await scorecards.add_criterion(s.services, company, CriterionForm(name="Safety", scale=4))
    assert refused.value.code == "criterion.exists"
    # Another company may use the same name; it never sees company A's criteria.
    await scorecards.add_criterion(
        s.services, s.world.company_b, CriterionForm(name="Safety", scale=4)
    )
    assert [c.name for c in await scorecards.company_criteria(s.services, s.world.company_b)] == [
        "Safety"
    ]
    with pytest.raises(NotFound):
        await scorecards.move_criterion(s.services, s.world.company_b, tech, "down")


async def test_notes_are_appended_with_author_and_time(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    first = await scorecards.add_note(s.services, s.actor("recruiter_a"), interview, "Strong")
    s.time.advance(60)
    await scorecards.add_note(s.services, s.actor("recruiter_a2"), interview, "Agree")
    view = await scorecards.scorecard_view(s.services, s.actor("recruiter_a2"), interview)
    assert [(n.author_name, n.body) for n in view.notes] == [
        ("recruiter_a", "Strong"),
        ("recruiter_a2", "Agree"),
    ]
    assert view.notes[0].created_at == first.created_at < view.notes[1].created_at
    assert await kinds(s) == ["note", "note"]
    assert [h.detail for h in view.history] == [
        {"note_id": first.id},
        {"note_id": view.notes[1].id},
    ]
    assert s.notifier.sent == []


async def test_the_student_hears_only_the_released_outcome_and_its_message(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    recruiter = s.actor("recruiter_a")
    await scorecards.save_scores(s.services, recruiter, interview, {s.criteria[0]: 5})
    await scorecards.add_note(s.services, recruiter, interview, "secret note")
    view = await outcomes.set_outcome(s.services, recruiter, interview, "advance", "See you!")
    assert (view.outcome, view.message, view.released_at) == ("advance", "See you!", None)
    assert s.notifier.sent == []
    assert outcomes.released_outcome(await s.interview()) is None  # unreleased: nothing

    released = await outcomes.release(s.services, recruiter, interview, "advance")
    assert released.released_at is not None
    student_room = user_room(s.world.users["student_a"])
    assert s.notifier.events() == [(student_room, "interview.outcome_released")]
    assert s.notifier.sent[0].data == {
        "interview_id": s.interview_id,
        "outcome": "advance",
        "message": "See you!",
    }
    shown = outcomes.released_outcome(await s.interview())
    assert shown is not None and (shown.outcome, shown.message) == ("advance", "See you!")
    assert await kinds(s) == ["score", "note", "outcome", "released"]

    # Releasing again (another tab) changes nothing and sends nothing.
    await outcomes.release(s.services, s.actor("recruiter_a2"), interview, "advance")
    assert len(s.notifier.sent) == 1
    assert await kinds(s) == ["score", "note", "outcome", "released"]


async def test_a_new_outcome_after_release_needs_a_release_of_its_own(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    recruiter = s.actor("recruiter_a")
    await outcomes.set_outcome(s.services, recruiter, interview, "hold", "Soon")
    await outcomes.release(s.services, recruiter, interview, "hold")
    # The same outcome and message again is no change: the release stands.
    again = await outcomes.set_outcome(s.services, recruiter, interview, "hold", "Soon")
    assert again.released_at is not None
    changed = await outcomes.set_outcome(
        s.services, s.actor("recruiter_a2"), interview, "offer", ""
    )
    assert (changed.outcome, changed.released_at) == ("offer", None)
    assert outcomes.released_outcome(await s.interview()) is None
    async with s.db.connect() as conn:
        rows = await history.history(conn, s.interview_id)
    assert [(h.kind, h.actor_name, h.details) for h in rows] == [
        (
            "outcome",
            "recruiter_a",
            {"outcome": "hold", "previous": None, "release_withdrawn": False},
        ),
        ("released", "recruiter_a", {"outcome": "hold"}),
        (
            "outcome",
            "recruiter_a2",
            {"outcome": "offer", "previous": "hold", "release_withdrawn": True},
        ),
    ]
    assert [e.event for e in s.notifier.sent] == ["interview.outcome_released"]
    await outcomes.release(s.services, recruiter, interview, "offer")
    assert [e.data["outcome"] for e in s.notifier.sent] == ["hold", "offer"]


async def test_a_release_never_releases_an_outcome_the_releaser_did_not_see(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    with pytest.raises(Refused) as refused:
        await outcomes.release(s.services, s.actor("recruiter_a"), interview, "offer")
    assert refused.value.code == "outcome.missing"
    await outcomes.set_outcome(s.services, s.actor("recruiter_a2"), interview, "reject", "")
    with pytest.raises(Refused) as refused:
        await outcomes.release(s.services, s.actor("recruiter_a"), interview, "offer")
    assert refused.value.code == "outcome.changed"
    assert s.notifier.sent == []
    assert await kinds(s) == ["outcome"]


async def test_concurrent_releases_release_once(setup: Setup) -> None:
    s = setup
    interview = await s.interview()
    await outcomes.set_outcome(s.services, s.actor("recruiter_a"), interview, "offer", "Welcome")
    views = await asyncio.gather(
        *(
            outcomes.release(s.services, s.actor(who), interview, "offer")
            for who in ("recruiter_a", "recruiter_a2", "recruiter_a", "recruiter_a2")
        )
    )
    assert len({v.released_at for v in views}) == 1
    assert s.notifier.events() == [
        (user_room(s.world.users["student_a"]), "interview.outcome_released")
    ]
    assert await kinds(s) == ["outcome", "released"]


async def test_concurrent_saves_of_one_scorecard_leave_one_rating_per_criterion(
    setup: Setup,
) -> None:
    s = setup
    interview = await s.interview()
    tech, comm, _ = s.criteria
    await asyncio.gather(
        *(
            scorecards.save_scores(
                s.services, s.actor("recruiter_a"), interview, {tech: n, comm: n}
            )
            for n in (1, 2, 3, 4)
        )
    )
    async with s.db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(t.interview_scores.c.criterion_id, t.interview_scores.c.rating)
            )
        ).all()
    assert sorted(r.criterion_id for r in rows) == sorted([tech, comm])
    assert len({r.rating for r in rows}) == 1  # both from the same save
    assert await kinds(s) == ["score"] * 4


@pytest.mark.parametrize("change", ["score", "note", "outcome", "release"])
async def test_a_change_and_its_history_row_commit_together(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    s = setup
    interview = await s.interview()
    recruiter = s.actor("recruiter_a")
    if change == "release":
        await outcomes.set_outcome(s.services, recruiter, interview, "offer", "")

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("history unavailable")

    monkeypatch.setattr(history, "record", broken)
    with pytest.raises(RuntimeError):
        if change == "score":
            await scorecards.save_scores(s.services, recruiter, interview, {s.criteria[0]: 2})
        elif change == "note":
            await scorecards.add_note(s.services, recruiter, interview, "lost")
        elif change == "outcome":
            await outcomes.set_outcome(s.services, recruiter, interview, "reject", "")
        else:
            await outcomes.release(s.services, recruiter, interview, "offer")
    monkeypatch.undo()
    view = await scorecards.scorecard_view(s.services, recruiter, interview)
    assert view.mine.ratings == [] and view.notes == []
    assert (view.outcome.outcome, view.outcome.released_at) == (
        ("offer", None) if change == "release" else (None, None)
    )
    assert s.notifier.sent == []  # nothing is announced that did not commit
