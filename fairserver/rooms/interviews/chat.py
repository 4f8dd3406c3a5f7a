"""The in-room chat of an interview (I2): durable, committed before the ack, stored once.

Messages live in chat_messages with room "interview:<id>". A retried send carries the same
client_id and is stored and broadcast once; the reply says it was a duplicate. Only the
interview's admitted connections are in the room, so only they hear it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError

from fairserver.auth import Actor
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ClientIdReused
from fairserver.rooms.interviews.media import interview_room
from fairserver.rooms.notify import Outbound
from fairserver.store import booth_live as chat_store
from fairserver.store.booth_live import BoothMessageRow, NewBoothMessage

HISTORY = 200
MAX_BODY = 2000


class ChatMessage(Outbound):
    interview_id: int
    id: int
    author_id: int
    author: str
    body: str
    created_at: datetime


class Posted(ChatMessage):
    """interview.chat's answer for a new message."""

    duplicate: Literal[False] = False


class PostedBefore(ChatMessage):
    """interview.chat's answer for a retry: the message as first stored."""

    duplicate: Literal[True] = True


def _message(interview_id: int, row: BoothMessageRow) -> ChatMessage:
    return ChatMessage(
        interview_id=interview_id,
        id=row.id,
        author_id=row.author_id,
        author=row.author,
        body=row.body,
        created_at=row.created_at,
    )


async def history(services: Services, interview_id: int) -> list[ChatMessage]:
    async with services.db.connect() as conn:
        rows = await chat_store.recent_messages(conn, interview_room(interview_id), HISTORY)
    return [_message(interview_id, row) for row in rows]


async def post(
    services: Services, actor: Actor, interview_id: int, fair_id: int, body: str, client_id: str
) -> Posted | PostedBefore:
    assert actor.user_id is not None
    room, now = interview_room(interview_id), services.clock()
    try:
        async with services.db.begin() as conn:
            message_id = await chat_store.insert_message(
                conn,
                NewBoothMessage(
                    room=room,
                    fair_id=fair_id,
                    author_id=actor.user_id,
                    recipient_id=None,
                    client_id=client_id,
                    body=body,
                    created_at=now,
                ),
            )
    except IntegrityError:
        async with services.db.connect() as conn:
            row = await chat_store.message_by_client_id(conn, room, actor.user_id, client_id)
        if row is None:  # this client_id was used in another room
            raise ClientIdReused() from None
        return PostedBefore(**_message(interview_id, row).model_dump())
    message = ChatMessage(
        interview_id=interview_id,
        id=message_id,
        author_id=actor.user_id,
        author=actor.display_name,
        body=body,
        created_at=now,
    )
    await services.notifier.emit(room, "interview.chat", message)
    return Posted(**message.model_dump())
