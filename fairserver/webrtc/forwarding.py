"""The forwarding core: publishers' encoded frames fan out to viewers, never re-encoded.

A ``MediaRoom`` is a briefing stage, an interview room or a booth call: participants who may
publish, participants who may watch (``RoomPolicy``). Each published track is a ``Source``;
each viewer of it gets a ``ViewerTrack`` to put on their RTCPeerConnection. Every viewer has
a bounded queue: when it overflows the viewer skips to the next keyframe and one is
requested, so a stalled viewer costs at most ``max_queued`` frames of memory.

Keyframe requests (viewer joins, viewer PLI/FIR, overflow) reach the publisher as RTCP PLI,
at most one per ``keyframe_interval`` per source; a request inside the window is deferred to
its end rather than dropped, so a joining viewer never waits for the encoder's own GOP.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender

from fairserver.webrtc import passthrough
from fairserver.webrtc.rendition import Rendition
from fairserver.webrtc.sources import DEFAULT_KEYFRAME_INTERVAL, Source, ViewerTrack

logger = logging.getLogger(__name__)

DEFAULT_MAX_QUEUED = {"video": 60, "audio": 50}  # about 2 s of video, 1 s of Opus


class MediaRefused(Exception):
    """The room's policy does not let this participant do this."""

    def __init__(self, participant: str, action: str) -> None:
        super().__init__(f"{participant} may not {action}")
        self.participant = participant
        self.action = action


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    """Who may publish and who may watch; decided by the room's service, enforced here."""

    publishers: Collection[str]
    watchers: Collection[str]

    def may_publish(self, participant: str) -> bool:
        return participant in self.publishers

    def may_watch(self, participant: str) -> bool:
        return participant in self.watchers or participant in self.publishers


class MediaRoom:
    """Publishers, viewers and the policy between them, for one live room."""

    def __init__(
        self,
        policy: RoomPolicy,
        *,
        keyframe_interval: float = DEFAULT_KEYFRAME_INTERVAL,
        max_queued: dict[str, int] | None = None,
    ) -> None:
        self.policy = policy
        self.sources: dict[str, Source] = {}
        self.renditions: dict[str, Rendition] = {}  # source id -> its low rendition, if watched
        self._keyframe_interval = keyframe_interval
        self._max_queued = max_queued or DEFAULT_MAX_QUEUED
        self._ids = itertools.count(1)

    def publish(self, publisher: str, receiver: RTCRtpReceiver, kind: str) -> Source:
        """Forward what ``receiver`` gets from ``publisher``; call before media flows."""
        if not self.policy.may_publish(publisher):
            raise MediaRefused(publisher, "publish")
        source = Source(
            source_id=f"{publisher}/{kind}/{next(self._ids)}",
            publisher=publisher,
            kind=kind,
            receiver=receiver,
            keyframe_interval=self._keyframe_interval,
        )
        passthrough.tap_receiver(receiver, kind, source.on_frame)
        self.sources[source.source_id] = source
        return source

    def watch(self, viewer: str, source_id: str) -> ViewerTrack:
        """A track of ``source_id`` for ``viewer``; it starts at the next keyframe."""
        source = self.sources.get(source_id)
        if source is None or not self.policy.may_watch(viewer):
            raise MediaRefused(viewer, f"watch {source_id}")
        track = ViewerTrack(source, viewer, self._max_queued[source.kind])
        source.viewers.add(track)
        source.request_keyframe()
        return track

    def watch_low(self, viewer: str, source_id: str) -> ViewerTrack:
        """A low-rate rendition of video ``source_id`` for ``viewer`` (see rendition.py).

        The first low viewer starts the source's one transcode; the last one to leave stops it.
        """

        source = self.sources.get(source_id)
        if source is None or source.kind != "video" or not self.policy.may_watch(viewer):
            raise MediaRefused(viewer, f"watch {source_id} low")
        rendition = self.renditions.get(source_id)
        if rendition is None:
            rendition = Rendition(source, on_stop=lambda: self.renditions.pop(source_id, None))
            self.renditions[source_id] = rendition
        return rendition.watch(viewer, self._max_queued["video"])

    def leave(self, participant: str) -> None:
        """End what ``participant`` publishes and watches (leave, removal, closed peer)."""
        for source_id, source in tuple(self.sources.items()):
            if source.publisher == participant:
                del self.sources[source_id]
                source.end()
            else:
                for track in tuple(source.viewers):
                    if track.viewer == participant:
                        track.stop()
        for rendition in tuple(self.renditions.values()):
            rendition.leave(participant)

    def close(self) -> None:
        for source in self.sources.values():
            source.end()
        self.sources.clear()


def forward_to(pc: RTCPeerConnection, track: ViewerTrack) -> RTCRtpSender:
    """Send ``track`` on ``pc`` as a forwarded stream, with the viewer's PLI/FIR wired up."""
    transceiver = pc.addTransceiver(track, direction="sendonly")
    passthrough.prefer_forwardable_codecs(transceiver)
    passthrough.on_keyframe_request(transceiver.sender, track.source.request_keyframe)
    passthrough.send_forwarded(transceiver.sender, track.next_frame, track.set_direct)
    return transceiver.sender
