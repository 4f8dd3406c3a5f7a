"""Forwarding through real aiortc connections on loopback: bytes in equal bytes out."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from fairserver.webrtc import passthrough
from fairserver.webrtc.forwarding import MediaRefused, MediaRoom, RoomPolicy
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.peers import Peer, PeerRegistry
from tests.webrtc.media import (
    CounterVideoSource,
    ToneAudioSource,
    publish,
    wait_until,
    watch,
)

VIEWERS = [f"viewer{i}" for i in range(20)]


def briefing() -> MediaRoom:
    return MediaRoom(RoomPolicy(publishers={"presenter"}, watchers=set(VIEWERS)))


@dataclass
class Watched:
    room: MediaRoom
    camera: CounterVideoSource
    source_id: str
    peer: Peer  # the server's peer for viewer0
    received: list[EncodedFrame]


async def one_viewer(server: PeerRegistry, browsers: PeerRegistry, frames: int) -> Watched:
    """A presenter's camera and viewer0 watching it, once ``frames`` frames have arrived."""
    room = briefing()
    camera = CounterVideoSource()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    peer, received = await watch(room, server, browsers, "viewer0", source_id)
    await wait_until(lambda: len(received) >= frames, 10, f"{frames} frames of video")
    return Watched(room, camera, source_id, peer, received)


def assert_forwarded_run(received: list[EncodedFrame], encoded: list[bytes]) -> None:
    """``received`` is a contiguous run of what the publisher encoded, from a keyframe."""
    assert received, "nothing forwarded"
    assert received[0].keyframe
    first = encoded.index(received[0].data)
    assert [frame.data for frame in received] == encoded[first : first + len(received)]


async def test_twenty_viewers_get_the_publishers_bytes_in_order(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = CounterVideoSource()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    viewers = await asyncio.gather(
        *(watch(room, server, browsers, name, source_id) for name in VIEWERS)
    )
    streams = [received for _, received in viewers]
    await wait_until(lambda: all(len(r) >= 45 for r in streams), 15, "45 frames per viewer")

    for received in streams:
        assert_forwarded_run(received, camera.encoded)
    # Twenty viewers joining at once cost the publisher a few keyframes, not twenty.
    assert camera.keyframes_sent <= 4
    assert room.sources[source_id].keyframe_requests_sent <= 4


async def test_opus_is_forwarded_byte_for_byte(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    microphone = ToneAudioSource()
    _, source_id = await publish(room, server, browsers, "presenter", microphone)
    streams = [(await watch(room, server, browsers, name, source_id))[1] for name in VIEWERS[:3]]
    await wait_until(lambda: all(len(r) >= 50 for r in streams), 10, "1 s of audio per viewer")

    for received in streams:
        first = microphone.encoded.index(received[0].data)
        assert [f.data for f in received] == microphone.encoded[first : first + len(received)]


async def test_a_late_viewer_starts_at_a_keyframe_within_a_second(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    watched = await one_viewer(server, browsers, 60)  # 2 s of video for the early viewer
    room, camera, source_id = watched.room, watched.camera, watched.source_id
    keyframes_before = camera.keyframes_sent

    peer, late = await watch(room, server, browsers, "viewer1", source_id)
    # The second counts from the moment the viewer's connection is up: ICE and DTLS set-up
    # is the machine's, the keyframe request is ours.
    await wait_until(lambda: peer.pc.connectionState == "connected", 10, "the connection")
    joined = time.monotonic()
    await wait_until(lambda: len(late) >= 1, 1.0, "the late viewer's first frame")

    assert time.monotonic() - joined < 1.0
    assert camera.keyframes_sent > keyframes_before
    await wait_until(lambda: len(late) >= 10, 5, "ten frames for the late viewer")
    assert_forwarded_run(late, camera.encoded)


async def test_a_viewers_picture_loss_reaches_the_publisher(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    watched = await one_viewer(server, browsers, 30)
    camera, received = watched.camera, watched.received
    keyframes_before = camera.keyframes_sent

    # The viewer's browser reports picture loss on the forwarded stream.
    browser_receiver = browsers.of_participant("viewer0")[0].pc.getReceivers()[0]
    await passthrough.send_picture_loss(browser_receiver, received[-1].ssrc)

    await wait_until(lambda: camera.keyframes_sent > keyframes_before, 1.0, "a new keyframe")
    # However many frames arrive meanwhile (a loaded machine), the new keyframe reaches the viewer.
    await wait_until(
        lambda: any(f.keyframe for f in received[30:]), 3, "the new keyframe at the viewer"
    )
    assert_forwarded_run(received, camera.encoded)


async def test_a_stalled_viewer_stays_bounded_and_resumes_at_a_keyframe(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = MediaRoom(
        RoomPolicy(publishers={"presenter"}, watchers={"stalled"}),
        max_queued={"video": 10, "audio": 10},
    )
    camera = CounterVideoSource()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    stalled = room.watch("stalled", source_id)  # nobody ever reads it: a frozen sender
    await wait_until(lambda: room.sources[source_id].frames >= 60, 10, "2 s of video")

    assert len(stalled.queue) <= 10
    assert stalled.queue.stats.overflows >= 1
    assert stalled.queue.stats.dropped >= 40
    # Once it reads again, it starts at a keyframe and runs contiguously from there.
    await wait_until(lambda: stalled.queue.waiting_for_keyframe is False, 2, "a keyframe")
    first = await stalled.recv()
    assert passthrough.is_vp8_keyframe(bytes(first))
    stalled.stop()
    assert stalled not in room.sources[source_id].viewers


async def test_a_third_party_may_neither_publish_nor_watch(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = MediaRoom(RoomPolicy(publishers={"student", "recruiter"}, watchers=()))
    _, source_id = await publish(room, server, browsers, "student", CounterVideoSource())
    intruder = server.open("intruder")
    receiver = intruder.pc.addTransceiver("video", direction="recvonly").receiver

    with pytest.raises(MediaRefused):
        room.watch("intruder", source_id)
    with pytest.raises(MediaRefused):
        room.publish("intruder", receiver, "video")
    with pytest.raises(MediaRefused):
        room.watch("recruiter", "no-such-source")
    assert room.watch("recruiter", source_id).viewer == "recruiter"
    assert list(room.sources) == [source_id]


async def test_a_closed_publisher_ends_its_viewers(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = CounterVideoSource()
    presenter, source_id = await publish(room, server, browsers, "presenter", camera)
    viewer, received = await watch(room, server, browsers, "viewer0", source_id)
    await wait_until(lambda: len(received) >= 5, 10, "video")
    viewer_track = viewer.pc.getSenders()[0].track

    await server.close(presenter.peer_id)

    assert room.sources == {}
    assert viewer_track.readyState == "ended"


async def test_the_lean_sender_answers_nack_and_keeps_the_sender_report_counters(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    watched = await one_viewer(server, browsers, 30)
    camera, received = watched.camera, watched.received
    sender = watched.peer.pc.getSenders()[0]
    state = vars(sender)

    # What RTCP sender reports and getStats() read is what went out.
    arrived = sum(len(frame.data) for frame in received)
    stats = [s for s in (await sender.getStats()).values() if s.type == "outbound-rtp"]
    assert stats[0].packetsSent >= 30 and stats[0].bytesSent >= arrived
    assert state["_RTCRtpSender__rtp_timestamp"] != 0
    assert state["_RTCRtpSender__ntp_timestamp"] != 0

    # The viewer's browser reports a lost packet: it is sent again, once, as RTX.
    kept = [entry for entry in state["_forwarding_history"] if entry is not None]
    lost = max(kept, key=lambda entry: entry[1][12:])  # any packet still in the history
    rtx_before = state["_RTCRtpSender__rtx_sequence_number"]
    browser_receiver = browsers.of_participant("viewer0")[0].pc.getReceivers()[0]
    await browser_receiver._send_rtcp_nack(sender._ssrc, [lost[0]])
    await wait_until(
        lambda: state["_RTCRtpSender__rtx_sequence_number"] == (rtx_before + 1) & 0xFFFF,
        3,
        "the retransmission",
    )
    resent = state["_RTCRtpSender__rtp_history"][lost[0] % 128]
    assert resent.sequence_number == lost[0] and resent.payload == lost[1][-len(resent.payload) :]
    assert_forwarded_run(received, camera.encoded)
