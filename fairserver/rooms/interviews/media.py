"""An interview's live side on this worker: who is present, and its media room (I2, I3).

Every admitted participant may publish camera and microphone and watch every other
participant, each through the server's forwarding core (media never goes browser to
browser, so no one learns another's address). A browser has one publishing peer and one
watching peer per other participant; the media room's policy holds exactly the peers
that admitted participants opened, because only the service opens them, after checking.

Peers belong to the app's one PeerRegistry (the stage's): it closes each exactly once,
and the on_close hook here undoes everything the peer stood for (sources, viewers,
recordings). Participant names are "interview:<id>:<connection>/pub" and
"interview:<id>:<connection>/watch:<user id>", so nothing collides with the stage's.

Interview rooms live on the worker that holds their peers (the media home; routing other
workers' signalling to it is not built yet, see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiortc import RTCSessionDescription

from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.notify import Outbound
from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy, forward_to
from fairserver.webrtc.passthrough import prefer_forwardable_codecs
from fairserver.webrtc.peers import Peer, PeerRegistry

KINDS = ("video", "audio")
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
    media: MediaRoom
    publishing: set[str]
    watching: set[str]
    present: dict[str, int] = field(default_factory=dict)  # connection id -> user id
    publishers: dict[str, Publisher] = field(default_factory=dict)
    viewers: dict[str, str] = field(default_factory=dict)  # viewer -> publisher watched
    recording_since: datetime | None = None
    recording_by: int | None = None
    recordings: dict[str, Any] = field(default_factory=dict)  # publisher -> ActiveRecording
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))

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
    """This app's interview rooms and the registry that owns their peers."""

    def __init__(
        self,
        services: Services,
        registry: PeerRegistry,
        *,
        on_publisher_started: PublisherHook | None = None,
        on_publisher_stopped: PublisherHook | None = None,
    ) -> None:
        self.services = services
        self.registry = registry
        self.rooms: dict[int, InterviewRoom] = {}
        self.on_publisher_started = on_publisher_started
        self.on_publisher_stopped = on_publisher_stopped
        self._tasks: set[asyncio.Task[None]] = set()

    def room(self, interview_id: int, fair_id: int) -> InterviewRoom:
        found = self.rooms.get(interview_id)
        if found is None:
            publishing: set[str] = set()
            watching: set[str] = set()
            media = MediaRoom(RoomPolicy(publishers=publishing, watchers=watching))
            found = InterviewRoom(interview_id, fair_id, media, publishing, watching)
            self.rooms[interview_id] = found
        return found

    def peers_of(self, room: InterviewRoom) -> list[Peer]:
        return [
            peer
            for participant in {*room.publishing, *room.watching}
            for peer in self.registry.of_participant(participant)
        ]

    def open_peer(self, room: InterviewRoom, participant: str) -> Peer:
        peer = self.registry.open(participant)
        peer.on_close.append(lambda p: self._closed(room, p))
        return peer

    async def close_connection(self, room: InterviewRoom, connection_id: str) -> None:
        """Every peer this connection opened in the room."""
        mine = f"{room.prefix}{connection_id}/"
        names = {p for p in (*room.publishing, *room.watching) if p.startswith(mine)}
        await asyncio.gather(*(self.registry.close_participant(name) for name in names))

    async def close_room(self, room: InterviewRoom) -> None:
        names = {*room.publishing, *room.watching}
        await asyncio.gather(*(self.registry.close_participant(name) for name in names))
        self.retire_if_empty(room, force=True)

    def retire_if_empty(self, room: InterviewRoom, *, force: bool = False) -> None:
        if not force and (room.present or room.publishing or room.watching):
            return
        if self.rooms.get(room.interview_id) is room:
            del self.rooms[room.interview_id]
        room.media.close()

    def _closed(self, room: InterviewRoom, peer: Peer) -> None:
        """on_close of every peer (any terminal path, exactly once)."""
        participant = peer.participant
        room.media.leave(participant)
        room.publishing.discard(participant)
        room.watching.discard(participant)
        room.viewers.pop(participant, None)
        publisher = room.publishers.pop(participant, None)
        if publisher is not None:
            self.spawn(self._publisher_left(room, publisher))
        elif not room.present:
            self.retire_if_empty(room)

    async def _publisher_left(self, room: InterviewRoom, publisher: Publisher) -> None:
        if self.on_publisher_stopped is not None:
            await self.on_publisher_stopped(self, room, publisher)
        # Its viewers' tracks ended: close their peers; browsers watch again on the event.
        for viewer, watched in list(room.viewers.items()):
            if watched == publisher.participant:
                await self.registry.close_participant(viewer)
        await self.announce(room)
        if not room.present:
            self.retire_if_empty(room)

    async def announce(self, room: InterviewRoom) -> None:
        event = MediaChanged(interview_id=room.interview_id, publishers=room.publisher_views())
        await self.services.notifier.emit(
            interview_room(room.interview_id), "interview.media", event
        )

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("interview room task failed", exc_info=task.exception())


async def _answer(peer: Peer, offer_sdp: str) -> dict[str, str]:
    try:
        await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    except Exception as exc:  # aiortc raises ValueError and its own errors for bad SDP
        raise ServiceError("media.bad_offer", "the offer could not be used") from exc
    local = peer.pc.localDescription
    return {"sdp": local.sdp, "type": local.type}


async def publish(
    rooms: InterviewRooms,
    room: InterviewRoom,
    connection_id: str,
    user_id: int,
    display_name: str,
    sdp: str,
) -> dict[str, str]:
    """Camera and microphone of an admitted participant; publishing again replaces."""
    participant = f"{room.prefix}{connection_id}/pub"
    await rooms.registry.close_participant(participant)
    room.publishing.add(participant)
    peer = rooms.open_peer(room, participant)
    publisher = Publisher(participant, connection_id, user_id, display_name, next(room.serials))
    for kind in KINDS:
        # Made before the offer is applied, so only VP8/Opus can be negotiated.
        transceiver = peer.pc.addTransceiver(kind, direction="recvonly")
        prefer_forwardable_codecs(transceiver)
        source = room.media.publish(participant, transceiver.receiver, kind)
        publisher.sources[kind] = source.source_id
    try:
        answer = await _answer(peer, sdp)
    except ServiceError:
        await rooms.registry.close_participant(participant)
        raise
    room.publishers[participant] = publisher
    if rooms.on_publisher_started is not None:
        await rooms.on_publisher_started(rooms, room, publisher)
    await rooms.announce(room)
    return answer


async def watch(
    rooms: InterviewRooms, room: InterviewRoom, connection_id: str, target_user_id: int, sdp: str
) -> dict[str, str]:
    """A recvonly offer gets the target participant's forwarded video and audio."""
    participant = f"{room.prefix}{connection_id}/watch:{target_user_id}"
    await rooms.registry.close_participant(participant)
    target = room.publisher_of(target_user_id)
    if target is None:
        raise ServiceError("interview.not_publishing", "this participant is not sending video")
    room.watching.add(participant)
    room.viewers[participant] = target.participant
    peer = rooms.open_peer(room, participant)
    for kind in KINDS:
        source_id = target.sources.get(kind)
        if source_id is not None and source_id in room.media.sources:
            forward_to(peer.pc, room.media.watch(participant, source_id))
    try:
        return await _answer(peer, sdp)
    except ServiceError:
        await rooms.registry.close_participant(participant)
        raise
