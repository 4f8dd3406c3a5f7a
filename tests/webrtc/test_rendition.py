"""The low rendition through real aiortc connections: one transcode per source, any viewers."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import av
import pytest

from fairserver.webrtc import passthrough, rendition
from fairserver.webrtc.forwarding import MediaRefused, MediaRoom, RoomPolicy
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.peers import PeerRegistry
from tests.webrtc.media import (
    CounterVideoSource,
    ToneAudioSource,
    publish,
    read_counter,
    wait_until,
    watch,
)
from tests.webrtc.test_forwarding import assert_forwarded_run

LOW = [f"low{i}" for i in range(6)]
FULL = ["full0", "full1"]


def briefing() -> MediaRoom:
    return MediaRoom(RoomPolicy(publishers={"presenter"}, watchers={*LOW, *FULL}))


def camera_360p() -> CounterVideoSource:
    return CounterVideoSource(640, 360)


def rendition_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rendition")]


def decoder_trouble(low: rendition.Rendition) -> tuple[int, int]:
    """What makes a rendition ask the publisher for a keyframe: input overflow, decode error.

    On a loaded machine either may happen during a test; only then may the publisher be asked.
    """
    return low.input.queue.stats.overflows, low.decoder_losses


def decode_low(received: list[EncodedFrame]) -> list[int]:
    """Decode a low viewer's stream from its first frame; the counters it shows, in order."""
    assert received and received[0].keyframe, "a low stream starts at a keyframe"
    decoder = av.CodecContext.create("vp8", "r")
    counters = []
    for frame in received:
        for picture in decoder.decode(frame.packet):
            assert (picture.width, picture.height) == (320, 180)
            counters.append(read_counter(picture))
    assert len(counters) == len(received)
    return counters


async def test_low_viewers_share_one_transcode_and_full_viewers_are_untouched(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = camera_360p()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    _, full = await watch(room, server, browsers, "full0", source_id)
    lows = await asyncio.gather(
        *(watch(room, server, browsers, name, source_id, low=True) for name in LOW[:5])
    )
    streams = [received for _, received in lows]
    await wait_until(lambda: all(len(r) >= 20 for r in streams), 20, "20 low frames per viewer")
    await wait_until(lambda: len(full) >= 45, 10, "45 full-rate frames")

    # One decoder, one encoder and one worker thread, whatever the number of low viewers.
    assert list(room.renditions) == [source_id]
    assert rendition.open_codecs() == {"decoder": 1, "encoder": 1}
    assert len(rendition_threads()) == 1
    assert len(room.renditions[source_id].output.viewers) == 5
    for received in streams:
        counters = decode_low(received)
        # In order, at most 15 of the publisher's 30 fps, counters straight from its pictures.
        steps = [b - a for a, b in itertools.pairwise(counters)]
        assert min(steps) >= 2, counters
        assert counters[-1] < len(camera.encoded)
    # The full-rate viewer still gets the publisher's bytes, contiguous and in order.
    assert_forwarded_run(full, camera.encoded)


async def test_a_late_low_viewer_gets_a_rendition_keyframe_within_a_second(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = camera_360p()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    _, early = await watch(room, server, browsers, "low0", source_id, low=True)
    await wait_until(lambda: len(early) >= 15, 15, "1 s of low video")
    low = room.renditions[source_id]
    source = room.sources[source_id]
    keyframes_before, plis_before = low.keyframes_out, source.keyframe_requests_sent
    trouble_before = decoder_trouble(low)

    peer, late = await watch(room, server, browsers, "low1", source_id, low=True)
    # The second counts from the moment the viewer's connection is up: ICE and DTLS set-up
    # is the machine's, the keyframe request is ours.
    await wait_until(lambda: peer.pc.connectionState == "connected", 10, "the connection")
    joined = time.monotonic()
    await wait_until(lambda: len(late) >= 1, 1.0, "the late low viewer's first frame")

    assert time.monotonic() - joined < 1.0
    assert late[0].keyframe and low.keyframes_out > keyframes_before
    if decoder_trouble(low) == trouble_before:  # the decoder never needed a keyframe
        assert source.keyframe_requests_sent == plis_before, "the publisher was asked"
    await wait_until(lambda: len(late) >= 10, 10, "ten low frames for the late viewer")
    decode_low(late)


async def test_a_low_viewers_picture_loss_is_answered_by_the_rendition(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = camera_360p()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    _, received = await watch(room, server, browsers, "low0", source_id, low=True)
    await wait_until(lambda: len(received) >= 15, 15, "1 s of low video")
    low = room.renditions[source_id]
    source = room.sources[source_id]
    keyframes_before, plis_before = low.keyframes_out, source.keyframe_requests_sent
    trouble_before = decoder_trouble(low)

    browser_receiver = browsers.of_participant("low0")[0].pc.getReceivers()[0]
    await passthrough.send_picture_loss(browser_receiver, received[-1].ssrc)

    await wait_until(lambda: low.keyframes_out > keyframes_before, 3, "a rendition keyframe")
    await wait_until(
        lambda: any(f.keyframe for f in received[15:]), 3, "the new keyframe at the viewer"
    )
    if decoder_trouble(low) == trouble_before:
        assert source.keyframe_requests_sent == plis_before, "the PLI reached the publisher"
    decode_low(received)


async def test_the_rendition_stops_with_its_last_low_viewer(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    camera = camera_360p()
    _, source_id = await publish(room, server, browsers, "presenter", camera)
    full_peer, full = await watch(room, server, browsers, "full0", source_id)
    first, _ = await watch(room, server, browsers, "low0", source_id, low=True)
    second, received = await watch(room, server, browsers, "low1", source_id, low=True)
    await wait_until(lambda: len(received) >= 10, 10, "low video")
    low = room.renditions[source_id]

    await server.close(first.peer_id)
    assert room.renditions == {source_id: low} and not low.stopped
    await server.close(second.peer_id)

    assert low.stopped and room.renditions == {}
    assert room.sources[source_id].viewers == {full_peer.pc.getSenders()[0].track}
    await wait_until(lambda: not rendition_threads(), 5, "the worker thread to exit")
    assert rendition.open_codecs() == {}
    forwarded = len(full)
    await wait_until(lambda: len(full) >= forwarded + 15, 5, "full-rate video going on")
    assert_forwarded_run(full, camera.encoded)

    # A new low viewer starts a fresh rendition.
    _, again = await watch(room, server, browsers, "low2", source_id, low=True)
    await wait_until(lambda: len(again) >= 5, 10, "low video again")
    assert room.renditions[source_id] is not low
    decode_low(again)


async def test_the_rendition_ends_with_its_source(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    presenter, source_id = await publish(room, server, browsers, "presenter", camera_360p())
    viewer, received = await watch(room, server, browsers, "low0", source_id, low=True)
    await wait_until(lambda: len(received) >= 5, 10, "low video")
    track = viewer.pc.getSenders()[0].track

    await server.close(presenter.peer_id)

    assert room.sources == {} and room.renditions == {}
    assert track.readyState == "ended"
    await wait_until(lambda: not rendition_threads(), 5, "the worker thread to exit")
    assert rendition.open_codecs() == {}


async def test_only_video_and_only_watchers_get_a_low_rendition(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    room = briefing()
    _, video_id = await publish(room, server, browsers, "presenter", camera_360p())
    _, audio_id = await publish(room, server, browsers, "presenter", ToneAudioSource())

    with pytest.raises(MediaRefused):
        room.watch_low("intruder", video_id)
    with pytest.raises(MediaRefused):
        room.watch_low("low0", audio_id)
    with pytest.raises(MediaRefused):
        room.watch_low("low0", "no-such-source")
    assert room.renditions == {}
    room.watch_low("low0", video_id).stop()
    assert room.renditions == {}


def test_the_low_size_keeps_the_aspect_and_never_upscales() -> None:
    assert rendition.low_size(640, 360) == (320, 180)
    assert rendition.low_size(1280, 720) == (320, 180)
    assert rendition.low_size(360, 640) == (180, 320)
    assert rendition.low_size(640, 480) == (240, 180)
    assert rendition.low_size(1920, 800) == (320, 134)
    assert rendition.low_size(160, 120) == (160, 120)
