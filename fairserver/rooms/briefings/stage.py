"""The live briefing stage (P1 go live, P2 watch): who may publish, who may watch, and the
media room of each briefing on this worker.

Presenters of a briefing (rows in briefing_presenters) publish, at most MAX_PUBLISHERS at
once; anyone seated in the briefing (briefing.join) watches. This module is the policy; the
media is the briefing's MediaSession (fairserver/webrtc/session.py, shared with interview
rooms): it answers each browser's full SDP offer (aiortc has no trickle ICE), forwards the
publishers' encoded frames, never re-encoding per viewer, and tells the stage when a peer
has ended (``_left``), whatever ended it. Every RTCPeerConnection belongs to the app's one
PeerRegistry (MediaSessions), which closes it exactly once.

A connection that leaves the briefing or is banned loses its seat; the socket layer says so
(``seat_lost``) and that connection's peers on the stage close at once.

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
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fairserver.auth import Actor
from fairserver.rooms.briefings import live as briefing_service
from fairserver.rooms.briefings.live import Seat, briefing_room
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.media.homes import Caller, HomeCommand, HomeRoutes, Seated
from fairserver.rooms.notify import Outbound
from fairserver.store import briefings as briefing_store
from fairserver.webrtc.forwarding import MediaRoom
from fairserver.webrtc.peers import PeerRegistry
from fairserver.webrtc.session import (
    BadOffer,
    MediaSession,
    MediaSessions,
    WatchMode,
    offered_kinds,
)

MAX_PUBLISHERS = 4
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


class StageSnapshot(Outbound):
    """A stage as media.state and media.watch show it: media.live without its room."""

    briefing_id: int
    live: bool
    publishers: list[PublisherView]
    viewers: int


class MediaState(StageSnapshot):
    """What media.state answers: the stage, and the ICE servers this browser may use."""

    # RTCIceServer dicts as webrtc/ice.py makes them for the browser: a TURN entry carries
    # username and credential, a STUN one does not, so the keys vary by entry.
    ice_servers: list[dict[str, Any]]


class SdpAnswer(Outbound):
    """The server's full SDP answer (aiortc has no trickle ICE)."""

    sdp: str
    type: str


class FeedView(Outbound):
    """Which mids of the viewer's answer carry one publisher's video and audio."""

    user_id: int
    display_name: str
    video: str | None
    audio: str | None


class WatchAnswer(SdpAnswer):
    """What media.watch answers: the SDP answer, the stage, the mode and each feed."""

    briefing_id: int
    live: bool
    publishers: list[PublisherView]
    viewers: int
    mode: WatchMode
    feeds: list[FeedView]


@dataclass(eq=False)
class Publisher:
    participant: str
    user_id: int
    display_name: str
    sources: dict[str, str] = field(default_factory=dict)  # kind -> source id


@dataclass(eq=False)
class StageRoom:
    """One briefing's stage on this worker: its media session, publishers in arrival order."""

    briefing_id: int
    session: MediaSession
    publishers: dict[str, Publisher] = field(default_factory=dict)
    viewers_sent: int = 0
    viewers_sent_at: float = float("-inf")
    viewers_task: asyncio.Task[Any] | None = None

    @property
    def media(self) -> MediaRoom:
        return self.session.media

    @property
    def watching(self) -> set[str]:
        return self.session.watching

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
    """This app's stages, each a media session of the app's one MediaSessions."""

    def __init__(self, services: Services, sessions: MediaSessions) -> None:
        self.services = services
        self.sessions = sessions
        self.rooms: dict[int, StageRoom] = {}

    @property
    def registry(self) -> PeerRegistry:
        return self.sessions.registry

    def room(self, briefing_id: int) -> StageRoom:
        found = self.rooms.get(briefing_id)
        if found is None:

            def left(participant: str) -> None:
                self._left(made, participant)

            made = StageRoom(briefing_id, self.sessions.open(home_key(briefing_id), left))
            found = self.rooms[briefing_id] = made
        return found

    async def close(self, participant: str) -> None:
        await self.sessions.close(participant)

    async def close_all(self) -> None:
        await self.sessions.close_all()

    async def seat_lost(self, connection_id: str, briefing_id: int) -> None:
        """The connection left the briefing or was banned: its peers here close now."""
        room = self.rooms.get(briefing_id)
        if room is None:
            return
        for participant in (viewer_id(connection_id), publisher_id(connection_id)):
            if room.session.holds(participant):
                await self.close(participant)

    def _left(self, room: StageRoom, participant: str) -> None:
        """The session's event: ``participant``'s peer ended (any terminal path, once)."""
        publisher = room.publishers.pop(participant, None)
        if publisher is not None:
            self._spawn(self._publisher_left(room), "stage publisher left")
        else:
            self.viewers_changed(room)
        if room.session.idle:
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
            room.viewers_task = self._spawn(self._announce_viewers(room), "stage viewers")

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
        room.session.end()
        if room.viewers_task is not None:
            room.viewers_task.cancel()
            room.viewers_task = None

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[Any] | None:
        try:
            return self.services.tasks.spawn(work, name=name)
        except RuntimeError:  # shutting down: the supervisor has stopped
            log.debug("%s not started: shutting down", name)
            return None


def home_key(briefing_id: int) -> str:
    """The stage's media session, and its media home (rooms/media/homes.py)."""
    return f"stage:{briefing_id}"


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
    if actor.user_id not in {p.id for p in presenters.get(seat.briefing_id, ())}:
        raise NotFound()


def state(services: Services, briefing_id: int) -> StageSnapshot:
    room = services.stage.rooms.get(briefing_id)
    if room is None:
        return StageSnapshot(briefing_id=briefing_id, live=False, publishers=[], viewers=0)
    event = room.live_event()
    return StageSnapshot(
        briefing_id=event.briefing_id,
        live=event.live,
        publishers=event.publishers,
        viewers=event.viewers,
    )


def _ensure_media(sdp: str) -> None:
    if not offered_kinds(sdp):
        raise ServiceError("media.bad_offer", "the offer has no audio or video")


async def publish(
    services: Services, connection_id: str, actor: Actor, seat: Seat, sdp: str, seated: StillSeated
) -> SdpAnswer:
    """A presenter's browser sends camera and microphone; the answer SDP comes back."""
    await ensure_presenter(services, actor, seat)
    _ensure_media(sdp)
    stage, participant = services.stage, publisher_id(connection_id)
    await stage.close(participant)  # publishing again replaces the old connection
    room = stage.room(seat.briefing_id)
    if len(room.publishers) >= MAX_PUBLISHERS:
        raise ServiceError("media.full", "four presenters are already live")
    publisher = Publisher(participant, actor.user_id or 0, actor.display_name)
    try:
        answer, publisher.sources = await room.session.publish(participant, sdp)
    except BadOffer as exc:
        raise ServiceError("media.bad_offer", "the offer could not be used") from exc
    room.publishers[participant] = publisher
    await announce(services, room)
    await _unless_seat_lost(services, seated, participant)
    return SdpAnswer(sdp=answer.sdp, type=answer.type)


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
) -> WatchAnswer:
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
    sources = [publisher.sources for publisher in on_stage]
    try:
        answer, sent = await room.session.watch(participant, sources, sdp, mode)
    except BadOffer as exc:
        raise ServiceError("media.bad_offer", "the offer could not be used") from exc
    stage.viewers_changed(room)
    await _unless_seat_lost(services, seated, participant)
    feeds = [
        FeedView(
            user_id=publisher.user_id,
            display_name=publisher.display_name,
            video=feed.video,
            audio=feed.audio,
        )
        for publisher, feed in zip(on_stage, sent, strict=True)
    ]
    stage_now = state(services, seat.briefing_id)
    return WatchAnswer(
        sdp=answer.sdp,
        type=answer.type,
        briefing_id=stage_now.briefing_id,
        live=stage_now.live,
        publishers=stage_now.publishers,
        viewers=stage_now.viewers,
        mode=mode,
        feeds=feeds,
    )


async def _unless_seat_lost(services: Services, seated: StillSeated, participant: str) -> None:
    """A seat lost while the offer was being answered (seat_lost found no peer yet)."""
    if not seated():
        await services.stage.close(participant)


async def unwatch(services: Services, connection_id: str) -> None:
    await services.stage.close(viewer_id(connection_id))


async def seat_lost(services: Services, connection_id: str, briefing_id: int) -> None:
    """The socket layer's event: this connection left the briefing or was banned. Its peers
    close here if this worker is the stage's media home, and on the home otherwise."""
    await services.stage.seat_lost(connection_id, briefing_id)
    home = home_key(briefing_id)
    if home in services.homes.remote.get(connection_id, {}):
        # Not awaited: a home that died would hold the caller for the call timeout.
        services.tasks.spawn(services.homes.forget(connection_id, home), name="stage seat lost")


async def leave(services: Services, connection_id: str) -> None:
    """Disconnect (and shutdown): every peer of this connection, publishing or watching."""
    stage = services.stage
    with contextlib.suppress(Exception):
        await stage.close(viewer_id(connection_id))
    await stage.close(publisher_id(connection_id))


# --- on the media home (rooms/media/homes.py): typed calls, each run by the function above


class StageCall(HomeCommand):
    connection_id: str
    caller: Caller
    seat: Seat


class StageState(StageCall):
    call: ClassVar[str] = "stage.state"


class StagePublish(StageCall):
    call: ClassVar[str] = "stage.publish"
    sdp: str


class StageUnpublish(StageCall):
    call: ClassVar[str] = "stage.unpublish"


class StageWatch(StageCall):
    call: ClassVar[str] = "stage.watch"
    sdp: str
    mode: WatchMode = "full"


class StageUnwatch(StageCall):
    call: ClassVar[str] = "stage.unwatch"


class StageLeave(HomeCommand):
    """Sent by a remote caller's worker when its socket loses the seat or disconnects."""

    call: ClassVar[str] = "stage.leave"
    connection_id: str


HOME_ROUTES = HomeRoutes()
# A home's reply may cross to another worker over pub/sub as JSON (rooms/media/homes.py),
# so each call answers its model's JSON; the socket handler validates it back into the model.
HomeReply = dict[str, Any]


@HOME_ROUTES.on(StageState)
async def _state(services: Services, command: StageState, seated: Seated) -> HomeReply:
    return state(services, command.seat.briefing_id).model_dump(mode="json")


@HOME_ROUTES.on(StagePublish)
async def _publish(services: Services, command: StagePublish, seated: Seated) -> HomeReply:
    actor = command.caller.actor()
    answer = await publish(
        services, command.connection_id, actor, command.seat, command.sdp, seated
    )
    return answer.model_dump(mode="json")


@HOME_ROUTES.on(StageUnpublish)
async def _unpublish(services: Services, command: StageUnpublish, seated: Seated) -> None:
    await unpublish(services, command.connection_id, command.caller.actor(), command.seat)


@HOME_ROUTES.on(StageWatch)
async def _watch(services: Services, command: StageWatch, seated: Seated) -> HomeReply:
    actor, seat = command.caller.actor(), command.seat
    answer = await watch(
        services, command.connection_id, actor, seat, command.sdp, seated, command.mode
    )
    return answer.model_dump(mode="json")


@HOME_ROUTES.on(StageUnwatch)
async def _unwatch(services: Services, command: StageUnwatch, seated: Seated) -> None:
    await unwatch(services, command.connection_id)


@HOME_ROUTES.on(StageLeave)
async def _leave(services: Services, command: StageLeave, seated: Seated) -> None:
    await leave(services, command.connection_id)


def live_here(services: Services, room: str) -> bool:
    """For the home's lease: the stage ``room`` ("stage:<id>") has peers on this worker."""
    return int(room.split(":", 1)[1]) in services.stage.rooms
