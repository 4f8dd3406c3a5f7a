"""A media session's transceivers, made in the order of the browser's offer (aiortc 1.16).

Every session's peers bundle every m-line on one transport (max-bundle, see
ice.bundled_configuration). aiortc puts each transceiver made after the first on the first
one's transport; applying the offer keeps the transport of the m-line that heads the BUNDLE
group (the offer's first) and stops the others. The two agree only when the first
transceiver made takes the offer's first m-line. aiortc gives each m-line the first free
transceiver of its kind, so the server makes exactly one transceiver per offered m-line, in
the offer's order, with an inactive one where it has nothing to send or receive. Used by
session.MediaSession for publishers and viewers alike (the stage and interview rooms).
"""

from __future__ import annotations

from typing import Literal

from aiortc import RTCPeerConnection, RTCRtpSender

from fairserver.webrtc.forwarding import MediaRoom, forward_to
from fairserver.webrtc.passthrough import prefer_forwardable_codecs

KINDS = ("video", "audio")
WatchMode = Literal["full", "low", "audio"]


def offered_kinds(sdp: str) -> list[str]:
    """The offer's audio and video m-lines, in order."""
    kinds = (line[2:].split(" ", 1)[0] for line in sdp.splitlines() if line.startswith("m="))
    return [kind for kind in kinds if kind in KINDS]


def receive_sources(
    media: MediaRoom, pc: RTCPeerConnection, participant: str, sdp: str
) -> dict[str, str]:
    """A publisher's first video and first audio m-lines become sources: {kind: source id}."""
    sources: dict[str, str] = {}
    for kind in offered_kinds(sdp):
        if kind in sources:
            pc.addTransceiver(kind, direction="inactive")
            continue
        # Made before the offer is applied, so only VP8/Opus can be negotiated.
        transceiver = pc.addTransceiver(kind, direction="recvonly")
        prefer_forwardable_codecs(transceiver)
        sources[kind] = media.publish(participant, transceiver.receiver, kind).source_id
    return sources


def forward_sources(
    media: MediaRoom,
    pc: RTCPeerConnection,
    viewer: str,
    publishers: list[dict[str, str]],
    mode: WatchMode,
    sdp: str,
) -> list[dict[str, RTCRtpSender]]:
    """Each publisher's sources ({kind: source id}, in the room's order) on the viewer's peer.

    The n-th offered video m-line carries the n-th publisher's video, the n-th audio m-line
    its audio, while the offer has m-lines left; "audio" forwards no video, and "low" the
    room's low-bandwidth rendition of each video. Returns each publisher's senders by kind.
    """
    senders: list[dict[str, RTCRtpSender]] = [{} for _ in publishers]
    waiting = {
        kind: [
            index
            for index, sources in enumerate(publishers)
            if sources.get(kind) in media.sources and not (mode == "audio" and kind == "video")
        ]
        for kind in KINDS
    }
    for kind in offered_kinds(sdp):
        if not waiting[kind]:
            pc.addTransceiver(kind, direction="inactive")
            continue
        index = waiting[kind].pop(0)
        source_id = publishers[index][kind]
        if mode == "low" and kind == "video":
            track = media.watch_low(viewer, source_id)
        else:
            track = media.watch(viewer, source_id)
        senders[index][kind] = forward_to(pc, track)
    return senders


def mid_of(pc: RTCPeerConnection, sender: RTCRtpSender | None) -> str | None:
    """The mid (m-line) a sender was given by the offer."""
    for transceiver in pc.getTransceivers():
        if sender is not None and transceiver.sender is sender:
            return transceiver.mid
    return None
