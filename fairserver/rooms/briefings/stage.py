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
never ends what they publish. A live presenter watches the co-presenters (never their own
stream) with the same media.watch; such connections are not counted as viewers.

A viewer gets every live publisher's sources on one peer, in arrival order, as many as its
offer has m-lines for: "full" forwards the encoded video and audio, "audio" only the Opus
sources, "low" the room's low-bandwidth rendition of each video (decoded and re-encoded once
per source, not per viewer) with the forwarded audio. When the set of publishers changes,
viewers watch again (a new peer: aiortc does not renegotiate well).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCSessionDescription

from fairserver.auth import Actor
from fairserver.rooms.briefings import live as briefing_service
from fairserver.rooms.briefings.live import Seat, briefing_room
from fairserver.rooms.briefings.stage_lines import (
    WatchMode,
    forward_sources,
    mid_of,
    offered_kinds,
    receive_sources,
)
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.notify import Outbound
from fairserver.settings import Settings
from fairserver.store import briefings as briefing_store
from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy
from fairserver.webrtc.ice import server_configuration
from fairserver.webrtc.peers import Peer, PeerRegistry

MAX_PUBLISHERS = 4
# How often a room checks that its participants are still seated (leave, ban).
SEAT_CHECK_SECONDS = 1.0
# The viewer count is broadcast at most this often per briefing (viewers come in bursts).
VIEWERS_EVERY_SECONDS = 1.0

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
    viewers: int


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
    viewers_sent: int = 0
    viewers_sent_at: float = float("-inf")
    viewers_task: asyncio.Task[None] | None = None

    def primary(self) -> Publisher | None:
        return next(iter(self.publishers.values()), None)

    def audience(self) -> int:
        """Watching connections, not counting co-presenters watching each other."""
        return sum(
            1 for w in self.watching if publisher_id(connection_of(w)) not in self.publishers
        )

    def live_event(self) -> MediaLive:
        return MediaLive(
            room=briefing_room(self.briefing_id),
            briefing_id=self.briefing_id,
            live=bool(self.publishers),
            publishers=[
                PublisherView(user_id=p.user_id, display_name=p.display_name)
                for p in self.publishers.values()
            ],
            viewers=self.audience(),
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
        else:
            self.viewers_changed(room)
        if not room.participants:
            self._retire(room)

    async def _publisher_left(self, room: StageRoom) -> None:
        # That publisher's tracks ended on every viewer's peer. With co-presenters still live,
        # viewers keep their peers and watch again when media.live says so; with nobody
        # left there is nothing to watch.
        if not room.publishers:
            for participant in list(room.watching):
                await self.close(participant)
        await announce(self.services, room)

    def viewers_changed(self, room: StageRoom) -> None:
        """Broadcast the new viewer count, at most once a second per briefing."""
        if room.viewers_task is None and room.audience() != room.viewers_sent:
            room.viewers_task = asyncio.ensure_future(self._announce_viewers(room))
            self._tasks.add(room.viewers_task)
            room.viewers_task.add_done_callback(self._tasks.discard)

    async def _announce_viewers(self, room: StageRoom) -> None:
        try:
            wait = room.viewers_sent_at + VIEWERS_EVERY_SECONDS - time.monotonic()
            await asyncio.sleep(max(0.0, wait))
        finally:
            room.viewers_task = None
        if self.rooms.get(room.briefing_id) is room and room.audience() != room.viewers_sent:
            await announce(self.services, room)

    def _retire(self, room: StageRoom) -> None:
        if self.rooms.get(room.briefing_id) is room:
            del self.rooms[room.briefing_id]
        room.media.close()
        if room.watchdog is not None:
            room.watchdog.cancel()
            room.watchdog = None
        if room.viewers_task is not None:
            room.viewers_task.cancel()
            room.viewers_task = None

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


def stage_configuration(settings: Settings) -> RTCConfiguration:
    """The server's ICE configuration, with every m-line on one transport (max-bundle).

    aiortc 1.16's default (balanced) bundles a second m-line of a kind onto the first one's
    transport before the offer is applied; applying the offer's BUNDLE group then moves that
    first m-line to the bundle transport and discards the old one, so a second audio (a
    viewer of two co-presenters) never flows. Browsers always offer BUNDLE.
    """
    ice = server_configuration(settings).iceServers
    return RTCConfiguration(iceServers=ice, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def publisher_id(connection_id: str) -> str:
    return f"{connection_id}/pub"


def viewer_id(connection_id: str) -> str:
    return f"{connection_id}/view"


def connection_of(participant: str) -> str:
    return participant.rsplit("/", 1)[0]


async def announce(services: Services, room: StageRoom) -> None:
    event = room.live_event()
    room.viewers_sent, room.viewers_sent_at = event.viewers, time.monotonic()
    await services.notifier.emit(event.room, "media.live", event)


async def ensure_presenter(services: Services, actor: Actor, seat: Seat) -> None:
    async with services.db.connect() as conn:
        presenters = await briefing_store.presenters_of(conn, [seat.briefing_id])
    if actor.user_id not in {p["id"] for p in presenters.get(seat.briefing_id, [])}:
        raise NotFound()


def state(services: Services, briefing_id: int) -> dict[str, Any]:
    room = services.stage.rooms.get(briefing_id)
    if room is None:
        return {"briefing_id": briefing_id, "live": False, "publishers": [], "viewers": 0}
    event = room.live_event().model_dump(mode="json")
    return {key: event[key] for key in ("briefing_id", "live", "publishers", "viewers")}


def _ensure_media(sdp: str) -> None:
    if not offered_kinds(sdp):
        raise ServiceError("media.bad_offer", "the offer has no audio or video")


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
    _ensure_media(sdp)
    stage, participant = services.stage, publisher_id(connection_id)
    await stage.close(participant)  # publishing again replaces the old connection
    room = stage.room(seat.briefing_id)
    if len(room.publishers) >= MAX_PUBLISHERS:
        raise ServiceError("media.full", "four presenters are already live")
    room.publishing.add(participant)
    peer = stage.open_peer(room, participant, seated)
    publisher = Publisher(participant, actor.user_id or 0, actor.display_name, peer.peer_id)
    publisher.sources = receive_sources(room.media, peer.pc, participant, sdp)
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
    await services.stage.close(publisher_id(connection_id))


async def watch(
    services: Services,
    connection_id: str,
    actor: Actor,
    seat: Seat,
    sdp: str,
    seated: StillSeated,
    mode: WatchMode = "full",
) -> dict[str, Any]:
    """A seated viewer's recvonly offer gets every live publisher's media (see the top)."""
    await briefing_service.ensure_not_banned(services, seat, actor.user_id or 0)
    _ensure_media(sdp)
    stage, participant = services.stage, viewer_id(connection_id)
    await stage.close(participant)  # watching again replaces the old connection
    room = stage.rooms.get(seat.briefing_id)
    own = publisher_id(connection_id)
    on_stage = [p for p in room.publishers.values() if p.participant != own] if room else []
    if room is None or not on_stage:
        raise ServiceError("media.not_live", "nobody is live on this stage")
    room.watching.add(participant)
    peer = stage.open_peer(room, participant, seated)
    sources = [publisher.sources for publisher in on_stage]
    senders = forward_sources(room.media, peer.pc, participant, sources, mode, sdp)
    try:
        answer = await _answer(peer, sdp)
    except ServiceError:
        await stage.close(participant)
        raise
    stage.viewers_changed(room)
    feeds = [
        {
            "user_id": publisher.user_id,
            "display_name": publisher.display_name,
            "video": mid_of(peer.pc, sent.get("video")),
            "audio": mid_of(peer.pc, sent.get("audio")),
        }
        for publisher, sent in zip(on_stage, senders, strict=True)
    ]
    return {**answer, **state(services, seat.briefing_id), "mode": mode, "feeds": feeds}


async def unwatch(services: Services, connection_id: str) -> None:
    await services.stage.close(viewer_id(connection_id))


async def leave(services: Services, connection_id: str) -> None:
    """Disconnect (and shutdown): every peer of this connection, publishing or watching."""
    stage = services.stage
    with contextlib.suppress(Exception):
        await stage.close(viewer_id(connection_id))
    await stage.close(publisher_id(connection_id))
