"""A live briefing without media (P3–P6): who takes part, joining, and what each one sees.

Moderators are the recruiters of the briefing's company, the organisers of the
fair's school and admins. Viewers are everyone else who may see the fair. The
Q&A lives in briefing_qa.py, chat and moderation in briefing_chat.py; both use
the seats, rooms, views and ticks defined here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from fairserver.auth import Actor
from fairserver.rooms.briefings.access import access_live_briefing, is_moderator
from fairserver.rooms.briefings.ticks import (
    REACTIONS_PERIOD,
    VIEWERS_PERIOD,
    VOTES_PERIOD,
    Coalescer,
    ReactionTally,
)
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs import attendance
from fairserver.rooms.notify import MissedEvent, Outbound
from fairserver.store import briefing_live as store
from fairserver.store import events as event_log
from fairserver.store.briefing_live import MessageRow, QuestionRow

PRESENCE_TTL = 60.0  # seconds; refreshed by the worker's heartbeat (on_heartbeat)
PUBLIC_STATES = frozenset({"approved", "answered"})


def briefing_room(briefing_id: int) -> str:
    return f"briefing:{briefing_id}"


@dataclass(frozen=True)
class Seat:
    """A connection's place in a briefing, decided when it joins."""

    briefing_id: int
    fair_id: int
    company_id: int
    status: str
    moderator: bool

    @property
    def room(self) -> str:
        return briefing_room(self.briefing_id)

    @property
    def open(self) -> bool:
        """Questions and chat are taken before and during a briefing, not after it."""
        return self.status in {"scheduled", "live"}


async def seat_for(services: Services, actor: Actor, briefing_id: int, fair_id: int) -> Seat:
    """The caller's seat in a briefing of the fair they joined; banned users find nothing."""
    fa, briefing = await access_live_briefing(services, actor, fair_id, briefing_id)
    moderator = is_moderator(actor, fa, briefing.company_id)
    async with services.db.connect() as conn:
        limits = await store.restrictions(
            conn, briefing_room(briefing_id), actor.user_id or 0, services.clock()
        )
    if "ban" in limits and not moderator:
        raise NotFound()
    return Seat(briefing_id, fair_id, briefing.company_id, briefing.status, moderator)


async def ensure_not_banned(services: Services, seat: Seat, user_id: int) -> None:
    """Checked on actions: a ban takes effect at once, even on another worker's socket."""
    if seat.moderator:
        return
    async with services.db.connect() as conn:
        limits = await store.restrictions(conn, seat.room, user_id, services.clock())
    if "ban" in limits:
        raise NotFound()


# What people see --------------------------------------------------------------------


class QuestionView(Outbound):
    id: int
    body: str
    anonymous: bool
    # None when the asker is anonymous and the audience may not know who asked.
    author: str | None
    author_id: int | None
    state: str
    # Only moderators and the asker are ever sent a dismissal reason.
    dismiss_reason: str
    pinned: bool
    votes: int
    created_at: datetime
    answered_at: datetime | None


def question_view(row: QuestionRow, *, names: bool) -> QuestionView:
    """names=True for moderators and the asker; other students see 'Anonymous'."""
    shown = names or not row.anonymous
    return QuestionView(
        id=row.id,
        body=row.body,
        anonymous=row.anonymous,
        author=row.author_name if shown else None,
        author_id=row.author_id if shown else None,
        state=row.state,
        dismiss_reason=row.dismiss_reason if names else "",
        pinned=row.pinned,
        votes=row.votes,
        created_at=row.created_at,
        answered_at=row.answered_at,
    )


class MessageView(Outbound):
    id: int
    body: str
    author_id: int
    author: str
    created_at: datetime


def message_view(row: MessageRow) -> MessageView:
    return MessageView(
        id=row.id,
        body=row.body,
        author_id=row.author_id,
        author=row.author,
        created_at=row.created_at,
    )


class Me(Outbound):
    user_id: int
    moderator: bool
    can_ask: bool


class BriefingSnapshot(Outbound):
    """What briefing.join answers: the room as this viewer may see it now."""

    room: str
    briefing_id: int
    me: Me
    open: bool
    questions: list[QuestionView]
    voted: list[int]
    messages: list[MessageView]
    viewers: int
    slow_mode: int
    last_event_id: int
    missed: list[MissedEvent] | None


class ViewerCount(Outbound):
    room: str
    viewers: int


class VoteCount(Outbound):
    question_id: int
    votes: int


class VoteCounts(Outbound):
    room: str
    counts: list[VoteCount]


class Reactions(Outbound):
    room: str
    counts: dict[str, int]


# Coalesced counters ---------------------------------------------------------------


@dataclass
class Ticks:
    votes: Coalescer[int]
    viewers: Coalescer[int]
    reactions: Coalescer[int]
    tally: ReactionTally
    # briefing id -> questions whose count changed since that briefing's last update
    voted: dict[int, set[int]] = field(default_factory=dict)

    def mark_vote(self, briefing_id: int, question_id: int) -> None:
        self.voted.setdefault(briefing_id, set()).add(question_id)
        self.votes.mark(briefing_id)


def make_ticks(services: Services) -> Ticks:
    """The app's ticks (built once, by rooms/wiring.py)."""

    async def votes(briefing_id: int) -> bool:
        return await _send_votes(services, briefing_id, made.voted)

    async def viewers(briefing_id: int) -> bool:
        return await _send_viewers(services, briefing_id)

    async def reactions(briefing_id: int) -> bool:
        return await _send_reactions(services, briefing_id, made.tally)

    made = Ticks(
        votes=Coalescer(VOTES_PERIOD, votes, services.tasks),
        viewers=Coalescer(VIEWERS_PERIOD, viewers, services.tasks),
        reactions=Coalescer(REACTIONS_PERIOD, reactions, services.tasks),
        tally=ReactionTally(),
    )
    return made


async def flush_ticks(services: Services) -> None:
    """Sends every pending coalesced update now (tests; graceful stop)."""
    made = services.ticks
    for coalescer in (made.votes, made.viewers, made.reactions):
        await coalescer.flush_now()


async def _first_in_period(services: Services, key: str, period: float) -> bool:
    """One sender per key per period across workers; the others retry next tick."""
    return await services.live.claim(key, services.worker_id, period)


async def _send_votes(services: Services, briefing_id: int, voted: dict[int, set[int]]) -> bool:
    """One update per briefing per tick with every count that changed: a busy Q&A with
    forty questions costs four broadcasts a second, not one per question."""
    room = briefing_room(briefing_id)
    if not await _first_in_period(services, f"{room}:votes-tick", VOTES_PERIOD):
        return False
    question_ids = voted.pop(briefing_id, set())
    if not question_ids:
        return True
    async with services.db.connect() as conn:
        counts = await store.vote_counts(conn, sorted(question_ids))
    update = VoteCounts(
        room=room, counts=[VoteCount(question_id=q, votes=v) for q, v in counts.items()]
    )
    await services.notifier.emit(room, "briefing.votes", update)
    return True


async def viewer_count(services: Services, briefing_id: int) -> int:
    """Distinct people with a live connection in the briefing (two tabs count once)."""
    members = await services.live.presence(briefing_room(briefing_id))
    return len({value.partition(":")[0] for value in members.values()})


async def _send_viewers(services: Services, briefing_id: int) -> bool:
    room = briefing_room(briefing_id)
    if not await _first_in_period(services, f"{room}:viewers-tick", VIEWERS_PERIOD):
        return False
    count = await viewer_count(services, briefing_id)
    await services.notifier.emit(room, "briefing.viewers", ViewerCount(room=room, viewers=count))
    return True


async def _send_reactions(services: Services, briefing_id: int, tally: ReactionTally) -> bool:
    # Counts are this worker's since its last tick: clients add them up, so
    # workers need not agree on one sender.
    counts = tally.take(briefing_id)
    if counts:
        room = briefing_room(briefing_id)
        await services.notifier.emit(
            room, "briefing.reactions", Reactions(room=room, counts=counts)
        )
    return True


# Joining and leaving ----------------------------------------------------------------


async def enter(
    services: Services, connection_id: str, actor: Actor, seat: Seat, after: int | None
) -> BriefingSnapshot:
    """Opens attendance (committed before the ack), counts the viewer, returns a snapshot."""
    user_id = actor.user_id or 0
    await attendance.open_interval(
        services,
        connection_id=connection_id,
        user_id=user_id,
        fair_id=seat.fair_id,
        kind="briefing",
        subject_id=seat.briefing_id,
    )
    await touch(services, connection_id, actor, seat.briefing_id)
    services.ticks.viewers.mark(seat.briefing_id)
    return await snapshot(services, actor, seat, after)


async def touch(services: Services, connection_id: str, actor: Actor, briefing_id: int) -> None:
    await services.live.presence_touch(
        briefing_room(briefing_id), connection_id, f"{actor.user_id}:{actor.role}", PRESENCE_TTL
    )


async def leave(services: Services, connection_id: str, briefing_id: int, reason: str) -> None:
    await attendance.close_intervals(
        services, connection_id, reason, kind="briefing", subject_id=briefing_id
    )
    await drop_presence(services, connection_id, briefing_id)


async def drop_presence(services: Services, connection_id: str, briefing_id: int) -> None:
    if await services.live.presence_drop(briefing_room(briefing_id), connection_id):
        services.ticks.viewers.mark(briefing_id)


async def snapshot(
    services: Services, actor: Actor, seat: Seat, after: int | None
) -> BriefingSnapshot:
    room, user_id = seat.room, actor.user_id or 0
    async with services.db.connect() as conn:
        # Read the event id first: anything newer arrives as a live event (and is
        # merged by id), so nothing falls between the snapshot and the stream.
        last = await event_log.last_seq(conn, room)
        rows = await store.questions_for(
            conn, seat.briefing_id, everything=seat.moderator, author_id=user_id
        )
        voted = await store.votes_of(conn, seat.briefing_id, user_id)
        messages = await store.recent_messages(conn, room)
        missed = (
            await event_log.since(conn, room, after, user_id=user_id, moderator=seat.moderator)
            if after is not None
            else None
        )
    slow = await services.live.get(f"{room}:slow")
    return BriefingSnapshot(
        room=room,
        briefing_id=seat.briefing_id,
        me=Me(user_id=user_id, moderator=seat.moderator, can_ask=actor.role == "student"),
        open=seat.open,
        questions=[question_view(r, names=seat.moderator or r.author_id == user_id) for r in rows],
        voted=voted,
        messages=[message_view(m) for m in messages],
        viewers=await viewer_count(services, seat.briefing_id),
        slow_mode=int(slow or 0),
        last_event_id=last,
        missed=None if missed is None else [MissedEvent(**asdict(m)) for m in missed],
    )
