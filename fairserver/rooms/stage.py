"""The live briefing stage (P1 go live, P2 watch): who may publish, who may watch, and the
media room of each briefing on this worker.

Presenters of a briefing (rows in briefing_presenters) publish, at most MAX_PUBLISHERS at
once; anyone seated in the briefing (briefing.join) watches. Media goes through the
forwarding core (fairserver/webrtc): the server answers each browser's full SDP offer
(aiortc has no trickle ICE) and forwards the publishers' encoded frames, never re-encoding
per viewer. Every RTCPeerConnection belongs to the app's one PeerRegistry, which closes it
exactly once; the stage only asks it to.

Participants in the media room are named per connection and role ("<conn id>/pub",
"<conn id>/view"), so a presenter watching in another tab, or closing their viewer peer,
never ends what they publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCSessionDescription

from fairserver.auth import Actor
from fairserver.rooms import briefing as briefing_service
from fairserver.rooms.briefing import Seat, briefing_room
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import Outbound
from fairserver.store import briefings as briefing_store
from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy, forward_to
from fairserver.webrtc.ice import browser_ice_servers, server_configuration
from fairserver.webrtc.passthrough import prefer_forwardable_codecs
from fairserver.webrtc.peers import Peer, PeerRegistry

MAX_PUBLISHERS = 4
# How often a room checks that its participants are still seated (leave, ban).
SEAT_CHECK_SECONDS = 1.0
KINDS = ("video", "audio")

log = logging.getLogger(__name__)

# Says whether the connection behind a participant still sits in the briefing.
StillSeated = Callable[[], bool]


class PublisherView(Outbound):
    user_id: int
    display_name: str


class MediaLive(Outbound):
    room: str
    briefing_id: int
    live: bool
    publishers: list[PublisherView]


@dataclass(eq=False)
class Publisher:
    participant: str
    user_id: int
    display_name: str
    peer_id: str
    sources: dict[str, str] = field(default_factory=dict)  # kind -> source id


@dataclass(eq=False)
class Participant:
    peer_id: str
    seated: StillSeated


@dataclass(eq=False)
class StageRoom:
    """One briefing's media room on this worker, with its publishers in arrival order."""

    briefing_id: int
    media: MediaRoom
    publishing: set[str]
    watching: set[str]
    publishers: dict[str, Publisher] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)
    watchdog: asyncio.Task[None] | None = None

    def primary(self) -> Publisher | None:
        return next(iter(self.publishers.values()), None)

    def live_event(self) -> MediaLive:
        return MediaLive(
            room=briefing_room(self.briefing_id),
            briefing_id=self.briefing_id,
            live=bool(self.publishers),
            publishers=[
                PublisherView(user_id=p.user_id, display_name=p.display_name)
                for p in self.publishers.values()
            ],
        )


class Stage:
    """This app's stages and the registry that owns every peer connection."""

    def __init__(self, services: Services, configuration: RTCConfiguration | None) -> None:
        self.services = services
        self.registry = PeerRegistry(configuration)
        self.rooms: dict[int, StageRoom] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def room(self, briefing_id: int) -> StageRoom:
        found = self.rooms.get(briefing_id)
        if found is None:
            publishing: set[str] = set()
            watching: set[str] = set()
            media = MediaRoom(RoomPolicy(publishers=publishing, watchers=watching))
            found = StageRoom(briefing_id, media, publishing, watching)
            self.rooms[briefing_id] = found
        return found

    def open_peer(self, room: StageRoom, participant: str, seated: StillSeated) -> Peer:
        peer = self.registry.open(participant)
        room.participants[participant] = Participant(peer.peer_id, seated)
        peer.on_close.append(lambda p: self._closed(room, p))
        if room.watchdog is None:
            room.watchdog = asyncio.ensure_future(self._watch_seats(room))
        return peer

    async def close(self, participant: str) -> None:
        await self.registry.close_participant(participant)

    async def close_all(self) -> None:
        await self.registry.close_all()

    def _closed(self, room: StageRoom, peer: Peer) -> None:
        """on_close of every peer (any terminal path, exactly once)."""
        participant = peer.participant
        room.media.leave(participant)
        room.participants.pop(participant, None)
        room.watching.discard(participant)
        room.publishing.discard(participant)
        publisher = room.publishers.pop(participant, None)
        if publisher is not None:
            self._spawn(self._publisher_left(room))
        if not room.participants:
            self._retire(room)

    async def _publisher_left(self, room: StageRoom) -> None:
        # Viewers were watching the primary: their tracks ended. Close them; their
        # browsers watch again (the new primary) when media.live says so.
        for participant in list(room.watching):
            await self.close(participant)
        await announce(self.services, room)

    def _retire(self, room: StageRoom) -> None:
        if self.rooms.get(room.briefing_id) is room:
            del self.rooms[room.briefing_id]
        room.media.close()
        if room.watchdog is not None:
            room.watchdog.cancel()
            room.watchdog = None

    async def _watch_seats(self, room: StageRoom) -> None:
        """Leaving the briefing or a ban closes that connection's peers within a second."""
        while True:
            await asyncio.sleep(SEAT_CHECK_SECONDS)
            for participant, held in list(room.participants.items()):
                if not held.seated():
                    self._spawn(self.close(participant))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


STAGE_KEY = "_briefing_stage"


def stage_of(services: Services) -> Stage:
    """This app's Stage, kept on its Services (one per app, like the briefing ticks)."""
    held = vars(services)
    found = held.get(STAGE_KEY)
    if not isinstance(found, Stage):
        found = Stage(services, server_configuration(services.settings))
        held[STAGE_KEY] = found
    return found


def publisher_id(connection_id: str) -> str:
    return f"{connection_id}/pub"


def viewer_id(connection_id: str) -> str:
    return f"{connection_id}/view"


async def announce(services: Services, room: StageRoom) -> None:
    event = room.live_event()
    await services.notifier.emit(event.room, "media.live", event)


async def ensure_presenter(services: Services, actor: Actor, seat: Seat) -> None:
    async with services.db.connect() as conn:
        presenters = await briefing_store.presenters_of(conn, [seat.briefing_id])
    if actor.user_id not in {p["id"] for p in presenters.get(seat.briefing_id, [])}:
        raise NotFound()


def state(services: Services, briefing_id: int) -> dict[str, Any]:
    room = stage_of(services).rooms.get(briefing_id)
    if room is None:
        return {"briefing_id": briefing_id, "live": False, "publishers": []}
    event = room.live_event().model_dump(mode="json")
    return {"briefing_id": briefing_id, "live": event["live"], "publishers": event["publishers"]}


def ice_state(services: Services, actor: Actor, briefing_id: int) -> dict[str, Any]:
    """media.state's answer: the stage, and ICE servers with a fresh TURN credential."""
    return {
        **state(services, briefing_id),
        "ice_servers": browser_ice_servers(services.settings, actor.user_id or 0),
    }


async def _answer(peer: Peer, offer_sdp: str) -> dict[str, str]:
    try:
        await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    except Exception as exc:  # aiortc raises ValueError and its own errors for bad SDP
        raise ServiceError("media.bad_offer", "the offer could not be used") from exc
    local = peer.pc.localDescription
    return {"sdp": local.sdp, "type": local.type}


async def publish(
    services: Services, connection_id: str, actor: Actor, seat: Seat, sdp: str, seated: StillSeated
) -> dict[str, str]:
    """A presenter's browser sends camera and microphone; the answer SDP comes back."""
    await ensure_presenter(services, actor, seat)
    stage, participant = stage_of(services), publisher_id(connection_id)
    await stage.close(participant)  # publishing again replaces the old connection
    room = stage.room(seat.briefing_id)
    if len(room.publishers) >= MAX_PUBLISHERS:
        raise ServiceError("media.full", "four presenters are already live")
    room.publishing.add(participant)
    peer = stage.open_peer(room, participant, seated)
    publisher = Publisher(participant, actor.user_id or 0, actor.display_name, peer.peer_id)
    for kind in KINDS:
        # Made before the offer is applied, so only VP8/Opus can be negotiated.
        transceiver = peer.pc.addTransceiver(kind, direction="recvonly")
        prefer_forwardable_codecs(transceiver)
        publisher.sources[kind] = room.media.publish(
            participant, transceiver.receiver, kind
        ).source_id
    try:
        answer = await _answer(peer, sdp)
    except ServiceError:
        await stage.close(participant)
        raise
    room.publishers[participant] = publisher
    await announce(services, room)
    return answer


async def unpublish(services: Services, connection_id: str, actor: Actor, seat: Seat) -> None:
    await ensure_presenter(services, actor, seat)
    await stage_of(services).close(publisher_id(connection_id))


async def watch(
    services: Services, connection_id: str, actor: Actor, seat: Seat, sdp: str, seated: StillSeated
) -> dict[str, Any]:
    """A seated viewer's recvonly offer gets the primary publisher's video and audio."""
    await briefing_service.ensure_not_banned(services, seat, actor.user_id or 0)
    stage, participant = stage_of(services), viewer_id(connection_id)
    await stage.close(participant)  # watching again replaces the old connection
    room = stage.rooms.get(seat.briefing_id)
    primary = room.primary() if room is not None else None
    if room is None or primary is None:
        raise ServiceError("media.not_live", "nobody is live on this stage")
    room.watching.add(participant)
    peer = stage.open_peer(room, participant, seated)
    for kind in KINDS:
        source_id = primary.sources.get(kind)
        if source_id is not None and source_id in room.media.sources:
            forward_to(peer.pc, room.media.watch(participant, source_id))
    try:
        answer = await _answer(peer, sdp)
    except ServiceError:
        await stage.close(participant)
        raise
    return {**answer, **state(services, seat.briefing_id)}


async def unwatch(services: Services, connection_id: str) -> None:
    await stage_of(services).close(viewer_id(connection_id))


async def leave(services: Services, connection_id: str) -> None:
    """Disconnect (and shutdown): every peer of this connection, publishing or watching."""
    stage = stage_of(services)
    with contextlib.suppress(Exception):
        await stage.close(viewer_id(connection_id))
    await stage.close(publisher_id(connection_id))
