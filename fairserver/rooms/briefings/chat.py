"""Briefing chat with moderation (P4) and reactions (P5).

Chat messages are stored with their event-log entry and committed before anyone
hears them. Moderators delete messages, mute (for some minutes) or ban users,
and set a slow mode: each non-moderator may then send one message per N seconds,
enforced with a live claim per user that expires after N seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.i18n import gettext as _
from fairserver.rooms.briefings.access import is_moderator
from fairserver.rooms.briefings.live import MessageView, Seat, message_view
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ClientIdReused, NotFound, ServiceError
from fairserver.rooms.notify import Outbound, moderators_room, user_room
from fairserver.store import briefing_live as store
from fairserver.store import events as event_log
from fairserver.store import fairs as fair_store
from fairserver.store.briefing_live import NewMessage, NewRestriction, UserRow

REACTIONS = ("👏", "❤️", "😂", "🤔", "👍")
Restriction = Literal["mute", "ban", "unban"]


class MessageEvent(Outbound):
    room: str
    seq: int
    message: MessageView


class MessageDeleted(Outbound):
    room: str
    seq: int
    message_id: int


class ModerationEvent(Outbound):
    """To moderators: who was muted, banned or let back, and until when."""

    room: str
    seq: int
    user_id: int
    user: str
    action: Restriction
    until: datetime | None


class Notice(Outbound):
    """To the person concerned: briefing.muted / briefing.banned / briefing.unbanned."""

    room: str
    until: datetime | None = None


class SlowMode(Outbound):
    room: str
    seconds: int


class Posted(MessageEvent):
    """briefing.chat's answer for a new message."""

    duplicate: Literal[False] = False


class PostedBefore(Outbound):
    """briefing.chat's answer for a retry: the message as first stored."""

    room: str
    message: MessageView
    duplicate: Literal[True] = True


async def ensure_may_speak(services: Services, seat: Seat, user_id: int) -> None:
    """Refuses questions and chat after the briefing, and from muted or banned users."""
    if not seat.open:
        raise ServiceError("briefing.closed", _("This briefing is not taking questions or chat."))
    if seat.moderator:
        return
    async with services.db.connect() as conn:
        limits = await store.restrictions(conn, seat.room, user_id, services.clock())
    if "ban" in limits:
        raise NotFound()
    if "mute" in limits:
        until = limits["mute"]
        raise ServiceError(
            "briefing.muted",
            _("A moderator muted you in this briefing."),
            until=until.isoformat() if until else None,
        )


async def _wait_for_slow_mode(services: Services, seat: Seat, user_id: int) -> None:
    if seat.moderator:
        return
    seconds = int(await services.live.get(f"{seat.room}:slow") or 0)
    if seconds <= 0:
        return
    key = f"{seat.room}:slow:{user_id}"
    now = services.clock().timestamp()
    if await services.live.claim(key, str(now + seconds), seconds):
        return
    ends = float(await services.live.get(key) or now)
    wait = max(1, round(ends - now + 0.5))
    raise ServiceError(
        "briefing.slow_mode",
        _("Slow mode is on: wait %(seconds)s seconds before your next message.")
        % {"seconds": wait},
        retry_after=wait,
    )


async def chat(
    services: Services, actor: Actor, seat: Seat, body: str, client_id: str
) -> Posted | PostedBefore:
    user_id = actor.user_id or 0
    async with services.db.connect() as conn:
        existing = await store.message_by_client(conn, seat.room, user_id, client_id)
    if existing is not None:  # a retry: stored once, and not held back by slow mode
        return PostedBefore(room=seat.room, message=message_view(existing))
    await ensure_may_speak(services, seat, user_id)
    await _wait_for_slow_mode(services, seat, user_id)
    try:
        event = await _store_message(services, actor, seat, body, client_id)
    except IntegrityError:
        async with services.db.connect() as conn:
            existing = await store.message_by_client(conn, seat.room, user_id, client_id)
        if existing is None:
            raise ClientIdReused() from None
        return PostedBefore(room=seat.room, message=message_view(existing))
    await services.notifier.emit(seat.room, "briefing.message", event)
    return Posted(room=event.room, seq=event.seq, message=event.message)


async def _store_message(
    services: Services, actor: Actor, seat: Seat, body: str, client_id: str
) -> MessageEvent:
    now, user_id = services.clock(), actor.user_id or 0
    async with services.db.begin() as conn:
        message_id = await store.insert_message(
            conn,
            NewMessage(
                room=seat.room,
                fair_id=seat.fair_id,
                author_id=user_id,
                client_id=client_id,
                body=body,
                created_at=now,
            ),
        )
        view = MessageView(
            id=message_id, body=body, author_id=user_id, author=actor.display_name, created_at=now
        )
        payload = {"room": seat.room, "message": view.model_dump(mode="json")}
        seq = await event_log.append(conn, seat.room, "briefing.message", payload)
    return MessageEvent(room=seat.room, seq=seq, message=view)


async def delete_message(
    services: Services, actor: Actor, seat: Seat, message_id: int
) -> MessageDeleted:
    now = services.clock()
    async with services.db.begin() as conn:
        if not await store.delete_message(conn, seat.room, message_id, actor.user_id or 0, now):
            raise NotFound()
        payload = {"room": seat.room, "message_id": message_id}
        seq = await event_log.append(conn, seat.room, "briefing.message_deleted", payload)
    event = MessageDeleted(room=seat.room, seq=seq, message_id=message_id)
    await services.notifier.emit(seat.room, "briefing.message_deleted", event)
    return event


async def _target(services: Services, actor: Actor, seat: Seat, user_id: int) -> UserRow:
    """Moderators act on viewers, never on themselves or on fellow moderators."""
    async with services.db.connect() as conn:
        row = await store.user_row(conn, user_id)
        fa = await fair_store.fair_access_by_id(conn, seat.fair_id)
    if row is None or fa is None or user_id == actor.user_id:
        raise NotFound()
    target = Actor(
        user_id=row.id,
        role=row.role,
        display_name=row.display_name,
        school_id=row.school_id,
        company_id=row.company_id,
    )
    if is_moderator(target, fa, seat.company_id):
        raise ServiceError("briefing.moderator", _("Moderators cannot be muted or banned."))
    return row


async def restrict(
    services: Services,
    actor: Actor,
    seat: Seat,
    user_id: int,
    action: Restriction,
    minutes: int = 0,
) -> ModerationEvent:
    """Mute for some minutes, ban until lifted, or lift both (unban)."""
    target = await _target(services, actor, seat, user_id)
    now = services.clock()
    until = now + timedelta(minutes=minutes) if action == "mute" else None
    async with services.db.begin() as conn:
        if action == "unban":
            await store.lift(conn, seat.room, user_id)
        else:
            await store.restrict(
                conn,
                NewRestriction(
                    room=seat.room,
                    user_id=user_id,
                    kind=action,
                    until=until,
                    by_user_id=actor.user_id,
                    created_at=now,
                ),
            )
        data = {"user_id": user_id, "user": target.display_name, "action": action}
        payload = {"room": seat.room, **data, "until": until.isoformat() if until else None}
        seq = await event_log.append(
            conn, seat.room, "briefing.moderation", payload, moderators_only=True
        )
    event = ModerationEvent(
        room=seat.room,
        seq=seq,
        user_id=user_id,
        user=target.display_name,
        action=action,
        until=until,
    )
    await services.notifier.emit(moderators_room(seat.room), "briefing.moderation", event)
    notice = {"mute": "briefing.muted", "ban": "briefing.banned", "unban": "briefing.unbanned"}
    await services.notifier.emit(
        user_room(user_id), notice[action], Notice(room=seat.room, until=until)
    )
    return event


async def set_slow_mode(services: Services, seat: Seat, seconds: int) -> SlowMode:
    await services.live.put(f"{seat.room}:slow", str(seconds))
    event = SlowMode(room=seat.room, seconds=seconds)
    await services.notifier.emit(seat.room, "briefing.slow_mode", event)
    return event


def react(services: Services, seat: Seat, kind: str) -> None:
    """Counted in this worker's tally and sent, summed, on the next one-second tick."""
    made = services.ticks
    made.tally.add(seat.briefing_id, kind)
    made.reactions.mark(seat.briefing_id)
