"""The recorder remuxes a publisher's frames into WebM: the publisher's bytes, in order,
with no re-encoding, while the viewers' forwarding goes on untouched."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import av
import pytest

from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy
from fairserver.webrtc.passthrough import is_vp8_keyframe
from fairserver.webrtc.peers import PeerRegistry
from fairserver.webrtc.recorder import Recorder, RtpTimeline, vp8_dimensions
from tests.webrtc.media import (
    HEIGHT,
    WIDTH,
    CounterVideoSource,
    ToneAudioSource,
    publish,
    read_counter,
    wait_until,
    watch,
)
from tests.webrtc.test_forwarding import assert_forwarded_run

SECONDS = 3.0


def stage() -> MediaRoom:
    return MediaRoom(RoomPolicy(publishers={"camera", "microphone"}, watchers={"viewer"}))


async def live(
    room: MediaRoom, server: PeerRegistry, browsers: PeerRegistry
) -> tuple[CounterVideoSource, ToneAudioSource, str, str]:
    camera, microphone = CounterVideoSource(), ToneAudioSource()
    _, video_id = await publish(room, server, browsers, "camera", camera)
    _, audio_id = await publish(room, server, browsers, "microphone", microphone)
    await wait_until(
        lambda: room.sources[video_id].frames > 5 and room.sources[audio_id].frames > 5,
        10,
        "media flowing",
    )
    return camera, microphone, video_id, audio_id


def packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def is_run_of(part: list[bytes], whole: list[bytes]) -> bool:
    """``part`` is a contiguous run of ``whole`` (packets may repeat, so try every start)."""
    return any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1))


def decoded_counters(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [read_counter(frame) for frame in container.decode(video=0)]


async def test_a_recording_holds_the_publishers_frames_while_viewers_still_get_theirs(
    server: PeerRegistry, browsers: PeerRegistry, tmp_path: Path
) -> None:
    room = stage()
    camera, microphone, video_id, audio_id = await live(room, server, browsers)
    _, received = await watch(room, server, browsers, "viewer", video_id)
    path = tmp_path / "briefing.webm"
    recorder = Recorder(path, [room.sources[video_id], room.sources[audio_id]])
    started = time.monotonic()
    recorder.start()
    await asyncio.sleep(SECONDS)
    forwarded_while_recording = len(received)
    result = await recorder.stop()
    elapsed = time.monotonic() - started

    assert result.ok and result.bytes == path.stat().st_size > 0
    assert recorder.stats.overflows == 0
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "vp8"
        assert (video.codec_context.width, video.codec_context.height) == (WIDTH, HEIGHT)
        assert audio.codec_context.name == "opus"
        assert audio.codec_context.extradata.startswith(b"OpusHead")  # browsers need it
        # Timestamps follow the senders' RTP clocks: 30 fps and 20 ms Opus frames, both
        # starting soon after the recording did. (The synthetic senders fall behind real
        # time on a loaded machine, so the length is only roughly the time recorded.)
        video_pts = [p.pts for p in container.demux(video) if p.size]
        assert {b - a for a, b in itertools.pairwise(video_pts)} <= {33, 34}
        container.seek(0)
        audio_pts = [p.pts for p in container.demux(audio) if p.size]
        assert {b - a for a, b in itertools.pairwise(audio_pts)} == {20}
        assert 0 <= video_pts[0] < 2500 and 0 <= audio_pts[0] < 1000
        assert container.duration is not None
        assert SECONDS / 2 < container.duration / 1_000_000 < elapsed + 1
    # Remuxed, not re-encoded: the file holds the publisher's very bytes, from a keyframe,
    # and they decode to the pictures sent, in order, none missing. (Each picture shows its
    # index among those the camera sent; small deltas can repeat byte for byte, so the
    # pictures, not the bytes, say where the run starts.)
    video_packets = packets(path, "video")
    assert len(video_packets) >= SECONDS * 30 * 0.8
    assert vp8_dimensions(video_packets[0]) == (WIDTH, HEIGHT)
    counters = decoded_counters(path)
    first = counters[0]
    assert counters == list(range(first, first + len(video_packets)))
    assert video_packets == camera.encoded[first : first + len(video_packets)]
    audio_packets = packets(path, "audio")
    assert is_run_of(audio_packets, microphone.encoded)
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(audio=0)) >= len(audio_packets) - 1
    # The viewer was forwarded the same contiguous run as without a recorder.
    assert forwarded_while_recording >= SECONDS * 30 * 0.8
    assert_forwarded_run(received, camera.encoded)
    assert not room.sources[video_id].listeners  # stop() detached the recorder


class SlowRecorder(Recorder):
    """A disk that takes 40 ms per frame: far slower than the 80 frames a second sent."""

    def _write_packet(self, container: Any, stream: Any, item: Any) -> None:
        time.sleep(0.04)
        super()._write_packet(container, stream, item)


async def test_a_slow_writer_stays_bounded_and_resumes_at_keyframes(
    server: PeerRegistry, browsers: PeerRegistry, tmp_path: Path
) -> None:
    room = stage()
    camera, _, video_id, audio_id = await live(room, server, browsers)
    path = tmp_path / "slow.webm"
    recorder = SlowRecorder(
        path,
        [room.sources[video_id], room.sources[audio_id]],
        max_queued_frames=25,
        max_queued_bytes=40_000,
    )
    keyframes_before = camera.keyframes_sent
    recorder.start()
    await asyncio.sleep(2.5)
    result = await recorder.stop()

    stats = recorder.stats
    assert stats.overflows >= 1 and stats.dropped > 0
    assert stats.peak_frames <= 25 and stats.peak_bytes <= 40_000
    # Each overflow asked the publisher for a keyframe to resume from.
    assert camera.keyframes_sent > keyframes_before + 1
    assert result.ok
    # Gaps, but every run after a gap starts at a keyframe, nothing is out of order, and
    # each packet is the camera's frame whose picture it decodes to (byte for byte).
    recorded = packets(path, "video")
    sent = decoded_counters(path)
    assert len(sent) == len(recorded) and sent == sorted(set(sent))
    assert [camera.encoded[i] for i in sent] == recorded
    assert is_vp8_keyframe(recorded[0])
    gaps = [i for i in range(1, len(sent)) if sent[i] != sent[i - 1] + 1]
    assert all(is_vp8_keyframe(recorded[i]) for i in gaps)


def test_rtp_timestamps_wrap_into_increasing_pts() -> None:
    timeline = RtpTimeline(90000)
    start = 2**32 - 6000
    stamps = [start + 3000 * i for i in range(5)]  # crosses 2**32
    pts = [timeline.pts(s % 2**32, 10.5, 10.0) for s in stamps]
    assert pts == [45000 + 3000 * i for i in range(5)]
    # A timestamp going back (reordering, a publisher's glitch) never makes pts go back.
    assert timeline.pts((start + 3000) % 2**32, 11.0, 10.0) == pts[-1] + 1


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + b"\0" * 10, (640, 480)),
        (b"\x11\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + b"\0" * 10, None),  # an interframe
        (b"\x10\x02\x00\x9d\x01\x2a\x80\xc2\xe0\x41" + b"\0" * 10, (640, 480)),  # scaled
    ],
)
def test_vp8_keyframe_dimensions(data: bytes, size: tuple[int, int] | None) -> None:
    assert vp8_dimensions(data) == size
