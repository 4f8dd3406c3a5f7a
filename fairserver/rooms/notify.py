"""Who must hear about a change. Services decide the audience; a Notifier delivers.

Audiences are room names: services never see sockets. The socket layer maps rooms
to socket.io rooms (`fairserver/socket/server.py`); tests use RecordingNotifier
and assert exactly which events an action emits, and to whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class Outbound(BaseModel):
    """Every event the server sends is a model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MissedEvent(Outbound):
    """An event of a room's log replayed after a reconnect, as it was sent."""

    seq: int
    event: str
    payload: dict[str, Any]  # the event's own JSON, as the log stored it


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def moderators_room(room: str) -> str:
    return f"{room}:mod"


class Notifier(Protocol):
    async def emit(self, room: str, event: str, data: Outbound) -> None: ...


@dataclass
class Sent:
    room: str
    event: str
    data: dict[str, Any]


@dataclass
class RecordingNotifier:
    sent: list[Sent] = field(default_factory=list)

    async def emit(self, room: str, event: str, data: Outbound) -> None:
        self.sent.append(Sent(room, event, data.model_dump(mode="json")))

    def to(self, room: str) -> list[Sent]:
        return [s for s in self.sent if s.room == room]

    def events(self) -> list[tuple[str, str]]:
        return [(s.room, s.event) for s in self.sent]
