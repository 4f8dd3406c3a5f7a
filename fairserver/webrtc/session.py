"""Media sessions: one per live room (a briefing's stage, an interview room), for both.

A ``MediaSession`` owns a room's media: its ``MediaRoom`` (publishers' sources, viewers'
tracks, and the policy between them), the peers its participants opened, the offer/answer
exchange, and the end of each peer. The room's service (fairserver/rooms/) keeps the policy:
it decides who may publish and who may watch, names the participants and calls the session
with plain values (participant names, SDP strings, {kind: source id}); it never touches
aiortc.

- ``publish(participant, sdp)``: a new peer whose offered audio and video m-lines (the
  first of each kind) become sources, made in the offer's order (lines.py); returns the
  answer and the sources.
- ``watch(viewer, publishers, sdp, mode)``: a new peer forwarding each publisher's sources
  on the offer's m-lines ("full", "low" or "audio"); returns the answer and the mids each
  publisher got (``Feed``).
- Publishing or watching again replaces the participant's peer: aiortc renegotiates
  poorly, so a change is always a new peer.
- A peer's end, on any path (closed on purpose, ICE or DTLS failed, shutdown), is an event:
  once the session has let go of that participant's sources and tracks, it calls the room's
  ``on_left(participant)``, exactly once per peer. Nothing polls.

``MediaSessions`` is the app's one manager: it holds the ``PeerRegistry`` that owns every
RTCPeerConnection (peers.py) and closes participants by name, whichever room they are in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy
from fairserver.webrtc.lines import (
    KINDS,
    WatchMode,
    forward_sources,
    mid_of,
    offered_kinds,
    receive_sources,
)
from fairserver.webrtc.peers import Peer, PeerRegistry

__all__ = [
    "KINDS",
    "Answer",
    "BadOffer",
    "Feed",
    "MediaSession",
    "MediaSessions",
    "OnLeft",
    "WatchMode",
    "offered_kinds",
]

log = logging.getLogger(__name__)

# Told which participant's peer ended, after the session has let go of its media.
OnLeft = Callable[[str], None]


class BadOffer(Exception):
    """The browser's offer could not be used (aiortc refused it); no peer is left open."""


@dataclass(frozen=True, slots=True)
class Answer:
    sdp: str
    type: str

    def as_dict(self) -> dict[str, str]:
        return {"sdp": self.sdp, "type": self.type}


@dataclass(frozen=True, slots=True)
class Feed:
    """The mids (m-lines) of the viewer's answer that carry one publisher's sources."""

    video: str | None
    audio: str | None


class MediaSession:
    """One live room's media: publishers, viewers, offers and answers, and peers' ends."""

    def __init__(self, sessions: MediaSessions, key: str, on_left: OnLeft) -> None:
        self.key = key
        self.publishing: set[str] = set()
        self.watching: set[str] = set()
        self.media = MediaRoom(RoomPolicy(publishers=self.publishing, watchers=self.watching))
        self._sessions = sessions
        self._on_left = on_left
        self._peers: dict[str, str] = {}  # peer id -> participant, while open

    @property
    def idle(self) -> bool:
        """No peer of this session is open."""
        return not self._peers

    @property
    def participants(self) -> set[str]:
        """Everyone who may publish or watch here now (they opened a peer)."""
        return {*self.publishing, *self.watching}

    def holds(self, participant: str) -> bool:
        return participant in self._peers.values()

    async def publish(self, participant: str, sdp: str) -> tuple[Answer, dict[str, str]]:
        """The publisher's offer answered; its sources as {kind: source id}."""
        await self._sessions.close(participant)
        self.publishing.add(participant)
        pc = self._open(participant)
        sources = receive_sources(self.media, pc, participant, sdp)
        return await self._answer(participant, pc, sdp), sources

    async def watch(
        self,
        viewer: str,
        publishers: Sequence[Mapping[str, str]],
        sdp: str,
        mode: WatchMode = "full",
    ) -> tuple[Answer, list[Feed]]:
        """Each publisher's sources ({kind: source id}, in order) on the viewer's new peer."""
        await self._sessions.close(viewer)
        self.watching.add(viewer)
        pc = self._open(viewer)
        wanted = [dict(sources) for sources in publishers]
        senders = forward_sources(self.media, pc, viewer, wanted, mode, sdp)
        answer = await self._answer(viewer, pc, sdp)
        feeds = [
            Feed(mid_of(pc, sent.get("video")), mid_of(pc, sent.get("audio"))) for sent in senders
        ]
        return answer, feeds

    async def close(self, participant: str) -> None:
        await self._sessions.close(participant)

    async def close_all(self) -> None:
        await self._sessions.close_each(self.participants)

    def end(self) -> None:
        """The room is over here: every source ends and the manager forgets the session."""
        self._sessions.forget(self)
        self.media.close()

    def _open(self, participant: str) -> RTCPeerConnection:
        peer = self._sessions.registry.open(participant)
        self._peers[peer.peer_id] = participant
        peer.on_close.append(self._closed)
        return peer.pc

    async def _answer(self, participant: str, pc: RTCPeerConnection, sdp: str) -> Answer:
        """The one offer/answer exchange; a refused offer closes the participant's peer."""
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises ValueError and its own errors for bad SDP
            await self._sessions.close(participant)
            raise BadOffer(str(exc)) from exc
        local = pc.localDescription
        return Answer(local.sdp, local.type)

    def _closed(self, peer: Peer) -> None:
        """on_close of every peer of this session (any terminal path, exactly once)."""
        self._peers.pop(peer.peer_id, None)
        participant = peer.participant
        self.media.leave(participant)
        self.publishing.discard(participant)
        self.watching.discard(participant)
        self._on_left(participant)


class MediaSessions:
    """The app's media sessions and the one registry that owns all their peers."""

    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        self.registry = PeerRegistry(configuration)
        self.sessions: dict[str, MediaSession] = {}

    def open(self, key: str, on_left: OnLeft) -> MediaSession:
        """A new session for room ``key`` (e.g. "stage:7")."""
        session = MediaSession(self, key, on_left)
        self.sessions[key] = session
        return session

    def get(self, key: str) -> MediaSession | None:
        return self.sessions.get(key)

    def forget(self, session: MediaSession) -> None:
        if self.sessions.get(session.key) is session:
            del self.sessions[session.key]

    async def close(self, participant: str) -> None:
        """Every peer of ``participant``, in whichever session (each closes once)."""
        await self.registry.close_participant(participant)

    async def close_each(self, participants: Iterable[str]) -> None:
        names = set(participants)
        await asyncio.gather(*(self.registry.close_participant(name) for name in names))

    async def close_all(self) -> None:
        await self.registry.close_all()
