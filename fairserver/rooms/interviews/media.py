"""An interview's live side on this worker: who is present, and its media session (I2, I3).

Every admitted participant may publish camera and microphone and watch every other
participant, each through the server's forwarding core (media never goes browser to
browser, so no one learns another's address). A browser has one publishing peer and one
watching peer per other participant; the session's policy holds exactly the peers that
admitted participants opened, because only the service opens them, after checking.

This module is the policy; the media is the interview's MediaSession
(fairserver/webrtc/session.py, shared with the stage), on the app's one MediaSessions and
its PeerRegistry, which closes each peer exactly once. The session tells the room when a
peer has ended (``_left``), and the room undoes what that peer stood for here (publisher,
viewers, recordings). Participant names are "interview:<id>:<connection>/pub" and
"interview:<id>:<connection>/watch:<user id>", so nothing collides with the stage's.

Interview rooms live on the worker that holds their peers (the media home,
rooms/media/homes.py); the socket layer routes other workers' signalling there.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.media.recordings import ActiveRecording
from fairserver.rooms.notify import Outbound
from fairserver.webrtc.forwarding import MediaRoom
from fairserver.webrtc.session import BadOffer, MediaSession, MediaSessions

log = logging.getLogger(__name__)


def interview_room(interview_id: int) -> str:
    """The broadcast room of an interview's admitted connections (and its chat's room)."""
    return f"interview:{interview_id}"


class PublisherView(Outbound):
    user_id: int
    display_name: str
    # Changes when the participant publishes again (a new peer): watch them again then.
    serial: int


class MediaChanged(Outbound):
    interview_id: int
    publishers: list[PublisherView]


class SdpAnswer(Outbound):
    """The server's answer to a browser's offer (interview.publish)."""

    sdp: str
    type: str


@dataclass(eq=False)
class Publisher:
    participant: str
    connection_id: str
    user_id: int
    display_name: str
    serial: int
    sources: dict[str, str] = field(default_factory=dict)  # kind -> source id


@dataclass(eq=False)
class InterviewRoom:
    interview_id: int
    fair_id: int
    session: MediaSession
    present: dict[str, int] = field(default_factory=dict)  # connection id -> user id
    publishers: dict[str, Publisher] = field(default_factory=dict)
    viewers: dict[str, str] = field(default_factory=dict)  # viewer -> publisher watched
    recording_since: datetime | None = None
    recording_by: int | None = None
    recordings: dict[str, ActiveRecording] = field(default_factory=dict)  # by publisher
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def media(self) -> MediaRoom:
        return self.session.media

    @property
    def publishing(self) -> set[str]:
        return self.session.publishing

    @property
    def watching(self) -> set[str]:
        return self.session.watching

    @property
    def prefix(self) -> str:
        return f"{interview_room(self.interview_id)}:"

    def publisher_of(self, user_id: int) -> Publisher | None:
        """A user's latest publishing connection (a second tab replaces the first)."""
        found = [p for p in self.publishers.values() if p.user_id == user_id]
        return found[-1] if found else None

    def publisher_views(self) -> list[PublisherView]:
        latest = {p.user_id: p for p in self.publishers.values()}
        return [
            PublisherView(user_id=p.user_id, display_name=p.display_name, serial=p.serial)
            for p in latest.values()
        ]

    def present_users(self) -> set[int]:
        return set(self.present.values())


# Called when a participant starts or stops publishing (the recording follows them).
PublisherHook = Callable[["InterviewRooms", InterviewRoom, Publisher], Awaitable[None]]


class InterviewRooms:
    """This app's interview rooms, each a media session of the app's one MediaSessions."""

    def __init__(
        self,
        services: Services,
        sessions: MediaSessions,
        *,
        on_publisher_started: PublisherHook | None = None,
        on_publisher_stopped: PublisherHook | None = None,
    ) -> None:
        self.services = services
        self.sessions = sessions
        self.rooms: dict[int, InterviewRoom] = {}
        self.on_publisher_started = on_publisher_started
        self.on_publisher_stopped = on_publisher_stopped

    def room(self, interview_id: int, fair_id: int) -> InterviewRoom:
        found = self.rooms.get(interview_id)
        if found is None:

            def left(participant: str) -> None:
                self._left(made, participant)

            session = self.sessions.open(interview_room(interview_id), left)
            made = InterviewRoom(interview_id, fair_id, session)
            found = self.rooms[interview_id] = made
        return found

    async def close_connection(self, room: InterviewRoom, connection_id: str) -> None:
        """Every peer this connection opened in the room."""
        mine = f"{room.prefix}{connection_id}/"
        await self.sessions.close_each(p for p in room.session.participants if p.startswith(mine))

    async def close_room(self, room: InterviewRoom) -> None:
        await room.session.close_all()
        self.retire_if_empty(room, force=True)

    def retire_if_empty(self, room: InterviewRoom, *, force: bool = False) -> None:
        if not force and (room.present or room.publishing or room.watching):
            return
        if self.rooms.get(room.interview_id) is room:
            del self.rooms[room.interview_id]
        room.session.end()

    def _left(self, room: InterviewRoom, participant: str) -> None:
        """The session's event: ``participant``'s peer ended (any terminal path, once)."""
        room.viewers.pop(participant, None)
        publisher = room.publishers.pop(participant, None)
        if publisher is not None:
            self.spawn(self._publisher_left(room, publisher), "interview publisher left")
        elif not room.present:
            self.retire_if_empty(room)

    async def _publisher_left(self, room: InterviewRoom, publisher: Publisher) -> None:
        if self.on_publisher_stopped is not None:
            await self.on_publisher_stopped(self, room, publisher)
        # Its viewers' tracks ended: close their peers; browsers watch again on the event.
        for viewer, watched in list(room.viewers.items()):
            if watched == publisher.participant:
                await self.sessions.close(viewer)
        await self.announce(room)
        if not room.present:
            self.retire_if_empty(room)

    async def announce(self, room: InterviewRoom) -> None:
        event = MediaChanged(interview_id=room.interview_id, publishers=room.publisher_views())
        await self.services.notifier.emit(
            interview_room(room.interview_id), "interview.media", event
        )

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            self.services.tasks.spawn(work, name=name)
        except RuntimeError:  # shutting down: the supervisor has stopped
            log.debug("%s not started: shutting down", name)


def _bad_offer() -> ServiceError:
    return ServiceError("media.bad_offer", "the offer could not be used")


async def publish(
    rooms: InterviewRooms,
    room: InterviewRoom,
    connection_id: str,
    user_id: int,
    display_name: str,
    sdp: str,
) -> SdpAnswer:
    """Camera and microphone of an admitted participant; publishing again replaces."""
    participant = f"{room.prefix}{connection_id}/pub"
    publisher = Publisher(participant, connection_id, user_id, display_name, next(room.serials))
    try:
        answer, publisher.sources = await room.session.publish(participant, sdp)
    except BadOffer as exc:
        raise _bad_offer() from exc
    room.publishers[participant] = publisher
    if rooms.on_publisher_started is not None:
        await rooms.on_publisher_started(rooms, room, publisher)
    await rooms.announce(room)
    return SdpAnswer(sdp=answer.sdp, type=answer.type)


async def watch(
    rooms: InterviewRooms, room: InterviewRoom, connection_id: str, target_user_id: int, sdp: str
) -> SdpAnswer:
    """A recvonly offer gets the target participant's forwarded video and audio."""
    participant = f"{room.prefix}{connection_id}/watch:{target_user_id}"
    await rooms.sessions.close(participant)
    target = room.publisher_of(target_user_id)
    if target is None:
        raise ServiceError("interview.not_publishing", "this participant is not sending video")
    room.viewers[participant] = target.participant
    try:
        answer, _ = await room.session.watch(participant, [target.sources], sdp)
    except BadOffer as exc:
        raise _bad_offer() from exc
    return SdpAnswer(sdp=answer.sdp, type=answer.type)
