"""Briefing services on the memory live state with a recording notifier: exactly which
events each action sends, and to which rooms (zulip style), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fairserver.auth import Actor
from fairserver.rooms.briefings import chat as briefing_chat
from fairserver.rooms.briefings import live as briefing
from fairserver.rooms.briefings import qa as briefing_qa
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import briefings as briefing_store
from fairserver.store import events as event_log
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from tests.factories import World, build_world


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Setup:
    def __init__(self, db: Database, world: World, briefing_id: int) -> None:
        self.world = world
        self.briefing_id = briefing_id
        self.room = briefing.briefing_room(briefing_id)
        self.mod_room = f"{self.room}:mod"
        self.clock = Clock()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db, live=MemoryLive(clock=self.clock), notifier=self.notifier, worker_id="w1"
        )

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            school_id={"a": self.world.school_a, "b": self.world.school_b}.get(who[-1])
            if role in {"student", "organiser"}
            else None,
            company_id={"a": self.world.company_a, "b": self.world.company_b}.get(who[-1])
            if role == "recruiter"
            else None,
            verified=role == "student",
        )

    async def seat(self, who: str) -> briefing.Seat:
        return await briefing.seat_for(
            self.services, self.actor(who), self.briefing_id, self.world.open_fair
        )

    def user_room(self, who: str) -> str:
        return f"user:{self.world.users[who]}"

    async def flush(self) -> None:
        self.clock.now += 5  # past every tick's claim
        await briefing.flush_ticks(self.services)


@pytest.fixture
async def setup(db: Database) -> Setup:
    world = await build_world(db)
    async with db.begin() as conn:
        fair = (await conn.execute(sa.select(t.fairs).where(t.fairs.c.id == world.open_fair))).one()
        briefing_id = await briefing_store.insert_briefing(
            conn,
            world.open_fair,
            NewBriefing(
                company_id=world.company_a,
                title="Air briefing",
                starts_at=fair.starts_at,
                ends_at=fair.starts_at + timedelta(hours=1),
            ),
            [world.users["recruiter_a"]],
        )
    return Setup(db, world, briefing_id)


async def ask(s: Setup, who: str = "student_a", anonymous: bool = False, cid: str = "q1") -> int:
    reply = (
        await briefing_qa.ask(
            s.services, s.actor(who), await s.seat(who), "Do we go offshore?", anonymous, cid
        )
    ).model_dump(mode="json")
    return int(reply["question"]["id"])


async def test_moderators_of_the_open_fair_briefing(setup: Setup) -> None:
    moderators = {
        who: (await setup.seat(who)).moderator
        for who in ("student_a", "student_b", "recruiter_a", "recruiter_b", "organiser_b", "admin")
    }
    # Company A's recruiters, the open fair's school (B) organisers and admins.
    assert moderators == {
        "student_a": False,
        "student_b": False,
        "recruiter_a": True,
        "recruiter_b": False,
        "organiser_b": True,
        "admin": True,
    }
    # organiser_a may see the open fair: a viewer, not a moderator.
    assert not (await setup.seat("organiser_a")).moderator


async def test_a_new_question_goes_to_its_asker_and_the_moderators_only(setup: Setup) -> None:
    await ask(setup, anonymous=True)
    assert setup.notifier.events() == [
        (setup.mod_room, "briefing.question"),
        (setup.user_room("student_a"), "briefing.question"),
    ]
    sent = setup.notifier.sent[0].data
    assert sent["question"]["state"] == "pending"
    assert sent["question"]["author"] == "student_a"  # moderators always see the name
    assert sent["seq"] == 1


async def test_a_retried_question_is_stored_and_sent_once(setup: Setup) -> None:
    first = await ask(setup, cid="same")
    again = (
        await briefing_qa.ask(
            setup.services,
            setup.actor("student_a"),
            await setup.seat("student_a"),
            "x",
            False,
            "same",
        )
    ).model_dump(mode="json")
    assert again["duplicate"] and again["question"]["id"] == first
    assert len(setup.notifier.sent) == 2  # the first ask's two emits only


async def test_approval_broadcasts_the_question_to_the_room_anonymously(setup: Setup) -> None:
    question_id = await ask(setup, anonymous=True)
    setup.notifier.sent.clear()
    await briefing_qa.moderate(
        setup.services, await setup.seat("recruiter_a"), question_id, "approve"
    )
    assert setup.notifier.events() == [(setup.room, "briefing.question")]
    public = setup.notifier.sent[0].data["question"]
    assert public["state"] == "approved"
    assert public["author"] is None and public["author_id"] is None
    # Approving again changes nothing and tells nobody.
    await briefing_qa.moderate(setup.services, await setup.seat("admin"), question_id, "approve")
    assert len(setup.notifier.sent) == 1


async def test_dismissal_reason_goes_to_moderators_and_asker(setup: Setup) -> None:
    question_id = await ask(setup)
    setup.notifier.sent.clear()
    mod = await setup.seat("organiser_b")
    await briefing_qa.moderate(setup.services, mod, question_id, "dismiss", "Asked already")
    assert setup.notifier.events() == [
        (setup.mod_room, "briefing.question"),
        (setup.user_room("student_a"), "briefing.question"),
    ]
    assert setup.notifier.sent[1].data["question"]["dismiss_reason"] == "Asked already"


async def test_dismissing_a_public_question_removes_it_for_everyone(setup: Setup) -> None:
    question_id = await ask(setup)
    mod = await setup.seat("recruiter_a")
    await briefing_qa.moderate(setup.services, mod, question_id, "approve")
    setup.notifier.sent.clear()
    await briefing_qa.moderate(setup.services, mod, question_id, "dismiss", "Off topic")
    assert setup.notifier.events() == [
        (setup.room, "briefing.question_removed"),
        (setup.mod_room, "briefing.question"),
        (setup.user_room("student_a"), "briefing.question"),
    ]
    assert "Off topic" not in str(setup.notifier.sent[0].data)


async def test_pin_and_answer_are_public_and_bad_transitions_are_refused(setup: Setup) -> None:
    question_id = await ask(setup)
    mod = await setup.seat("admin")
    with pytest.raises(ServiceError) as refused:
        await briefing_qa.moderate(setup.services, mod, question_id, "pin")
    assert refused.value.code == "briefing.question_state"
    await briefing_qa.moderate(setup.services, mod, question_id, "approve")
    await briefing_qa.moderate(setup.services, mod, question_id, "pin")
    reply = (await briefing_qa.moderate(setup.services, mod, question_id, "answer")).model_dump(
        mode="json"
    )
    assert reply["question"]["state"] == "answered" and reply["question"]["pinned"]
    assert reply["question"]["answered_at"] is not None
    assert [e for r, e in setup.notifier.events() if r == setup.room] == ["briefing.question"] * 3


async def test_votes_count_once_and_broadcast_coalesced(setup: Setup) -> None:
    question_id = await ask(setup)
    pending = await setup.seat("student_b")
    with pytest.raises(NotFound):  # pending questions are invisible to other students
        await briefing_qa.vote(setup.services, setup.actor("student_b"), pending, question_id, True)
    await briefing_qa.moderate(setup.services, await setup.seat("admin"), question_id, "approve")
    setup.notifier.sent.clear()
    seat, voter = await setup.seat("student_b"), setup.actor("student_b")
    replies = await asyncio.gather(
        *(briefing_qa.vote(setup.services, voter, seat, question_id, True) for _ in range(5))
    )
    assert {r.votes for r in replies} == {1}
    await briefing_qa.vote(setup.services, setup.actor("student_a"), seat, question_id, True)
    assert setup.notifier.sent == []  # nothing until the tick
    await setup.flush()
    assert setup.notifier.events() == [(setup.room, "briefing.votes")]
    assert setup.notifier.sent[0].data == {
        "room": setup.room,
        "counts": [{"question_id": question_id, "votes": 2}],
    }
    undone = (await briefing_qa.vote(setup.services, voter, seat, question_id, False)).model_dump(
        mode="json"
    )
    again = (await briefing_qa.vote(setup.services, voter, seat, question_id, False)).model_dump(
        mode="json"
    )
    assert undone["votes"] == again["votes"] == 1


async def test_snapshot_shows_each_caller_what_they_may_see(setup: Setup) -> None:
    public = await ask(setup, anonymous=True, cid="a")
    mine_dismissed = await ask(setup, cid="b")
    await ask(setup, who="student_b", cid="c")
    mod = await setup.seat("recruiter_a")
    await briefing_qa.moderate(setup.services, mod, public, "approve")
    await briefing_qa.moderate(setup.services, mod, mine_dismissed, "dismiss", "Duplicate")

    async def view(who: str) -> dict[int, dict[str, Any]]:
        snap = (
            await briefing.snapshot(setup.services, setup.actor(who), await setup.seat(who), 0)
        ).model_dump(mode="json")
        return {q["id"]: q for q in snap["questions"]}

    asker, other, moderator = await view("student_a"), await view("student_b"), await view("admin")
    assert set(asker) == {public, mine_dismissed}
    assert asker[mine_dismissed]["dismiss_reason"] == "Duplicate"
    assert asker[public]["author"] == "student_a"
    assert other[public]["author"] is None and len(other) == 2  # plus student_b's own
    assert all(q["author"] for q in moderator.values()) and len(moderator) == 3


async def test_replay_respects_audience(setup: Setup) -> None:
    await ask(setup, cid="pending")
    async with setup.services.db.connect() as conn:
        other = await event_log.since(
            conn, setup.room, 0, user_id=setup.world.users["student_b"], moderator=False
        )
        asker = await event_log.since(
            conn, setup.room, 0, user_id=setup.world.users["student_a"], moderator=False
        )
        moderator = await event_log.since(conn, setup.room, 0, user_id=0, moderator=True)
    assert other == [] and len(asker) == len(moderator) == 1


async def test_chat_mute_ban_and_slow_mode(setup: Setup) -> None:
    student, seat = setup.actor("student_b"), await setup.seat("student_b")
    mod_actor, mod = setup.actor("recruiter_a"), await setup.seat("recruiter_a")
    sent = (
        await briefing_chat.chat(setup.services, student, seat, "<svg onload=alert(1)>", "m1")
    ).model_dump(mode="json")
    assert setup.notifier.events() == [(setup.room, "briefing.message")]
    setup.notifier.sent.clear()
    await briefing_chat.delete_message(setup.services, mod_actor, mod, sent["message"]["id"])
    assert setup.notifier.events() == [(setup.room, "briefing.message_deleted")]
    setup.notifier.sent.clear()

    await briefing_chat.set_slow_mode(setup.services, mod, 30)
    await briefing_chat.chat(setup.services, student, seat, "one", "m2")
    with pytest.raises(ServiceError) as slowed:
        await briefing_chat.chat(setup.services, student, seat, "two", "m3")
    assert slowed.value.code == "briefing.slow_mode" and slowed.value.details["retry_after"] == 30
    await briefing_chat.chat(setup.services, mod_actor, mod, "moderators are not slowed", "m4")
    await briefing_chat.set_slow_mode(setup.services, mod, 0)
    setup.notifier.sent.clear()

    await briefing_chat.restrict(
        setup.services, mod_actor, mod, setup.world.users["student_b"], "mute", 5
    )
    assert setup.notifier.events() == [
        (setup.mod_room, "briefing.moderation"),
        (setup.user_room("student_b"), "briefing.muted"),
    ]
    with pytest.raises(ServiceError) as muted:
        await briefing_chat.chat(setup.services, student, seat, "three", "m5")
    assert muted.value.code == "briefing.muted"
    with pytest.raises(ServiceError) as not_a_target:
        await briefing_chat.restrict(
            setup.services, mod_actor, mod, setup.world.users["admin"], "ban"
        )
    assert not_a_target.value.code == "briefing.moderator"
    await briefing_chat.restrict(
        setup.services, mod_actor, mod, setup.world.users["student_b"], "ban"
    )
    with pytest.raises(NotFound):
        await setup.seat("student_b")
    await briefing_chat.restrict(
        setup.services, mod_actor, mod, setup.world.users["student_b"], "unban"
    )
    assert not (await setup.seat("student_b")).moderator


async def test_viewers_and_reactions_are_coalesced(setup: Setup) -> None:
    for n, who in enumerate(("student_a", "student_a", "student_b")):
        await briefing.enter(
            setup.services, f"w1:c{n}", setup.actor(who), await setup.seat(who), None
        )
    seat = await setup.seat("student_a")
    for kind in ("👏", "👏", "❤️"):
        briefing_chat.react(setup.services, seat, kind)
    assert setup.notifier.sent == []
    await setup.flush()
    by_event = {s.event: s.data for s in setup.notifier.sent}
    assert set(setup.notifier.events()) == {
        (setup.room, "briefing.viewers"),
        (setup.room, "briefing.reactions"),
    }
    assert by_event["briefing.viewers"]["viewers"] == 2  # two tabs count once
    assert by_event["briefing.reactions"]["counts"] == {"👏": 2, "❤️": 1}
    await briefing.leave(setup.services, "w1:c2", setup.briefing_id, "leave")
    summary = await briefing.attendance.summary(setup.services.db, "briefing", setup.briefing_id)
    assert summary.unique_viewers == 1
