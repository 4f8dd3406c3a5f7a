"""The stand-in cameras and microphones for `make bench-media`: 640x360 VP8 at ~600 kbps.

``NoiseVideoSource`` encodes live (libvpx realtime, like a browser) and honours keyframe
requests, so the forwarding core's PLI path is exercised. The pictures cycle through a small
pool of partly noisy images, tuned so the encoder lands near the target bitrate.
``StampedVideoSource`` draws the capture time into each picture, for glass-to-glass latency.
``ClipVideoSource`` / ``ClipAudioSource`` replay a clip encoded once, so that dozens of
interview participants cost the load process no encoding.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
from aiortc import MediaStreamTrack

from fairserver.webrtc import passthrough

WIDTH, HEIGHT, FPS = 640, 360, 30
BITRATE = 600_000
VIDEO_TICKS = 90000 // FPS
POOL = 6
NOISE_FRACTION = 0.05


def noise_picture(seed: int) -> av.VideoFrame:
    """A flat picture whose top 5% is fresh noise: libvpx then lands near ``BITRATE``
    (full-frame noise overshoots to ~6.5 Mbps whatever the target)."""
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    luma = bytearray([100 + seed * 7]) * frame.planes[0].buffer_size
    noisy = int(len(luma) * NOISE_FRACTION)
    luma[:noisy] = os.urandom(noisy)
    frame.planes[0].update(bytes(luma))
    for plane in (frame.planes[1], frame.planes[2]):
        plane.update(bytes([128]) * plane.buffer_size)
    return frame


class NoiseVideoSource(MediaStreamTrack):
    """Paced 30 fps VP8 packets; keyframes only on request, as aiortc/browsers do."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0
        self.bytes = 0
        self.keyframes_sent = 0
        self.keyframe_wanted = False
        self._pool = [noise_picture(i) for i in range(POOL)]
        self._start: float | None = None
        self._codec = av.CodecContext.create("libvpx", "w")
        self._codec.width, self._codec.height = WIDTH, HEIGHT
        self._codec.pix_fmt = "yuv420p"
        self._codec.bit_rate = BITRATE
        self._codec.time_base = fractions.Fraction(1, FPS)
        self._codec.gop_size = 100_000
        self._codec.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
        }

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.frames / FPS - time.monotonic()))
        return self._encode(self._pool[self.frames % POOL])

    def _encode(self, picture: av.VideoFrame) -> av.Packet[Any]:
        counter = self.frames
        picture.pts, picture.time_base = counter, fractions.Fraction(1, FPS)
        picture.pict_type = av.video.frame.PictureType.NONE
        if self.keyframe_wanted:
            self.keyframe_wanted = False
            picture.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in self._codec.encode(picture))
        self.keyframes_sent += passthrough.is_vp8_keyframe(data)
        self.frames += 1
        self.bytes += len(data)
        packet = av.Packet(data)
        packet.pts, packet.time_base = counter * VIDEO_TICKS, passthrough.VIDEO_TIME_BASE
        return packet

    def want_keyframe(self) -> None:
        self.keyframe_wanted = True


# ---------------------------------------------------------------- pre-encoded clips

CLIP_FRAMES = 300  # 10 s; the clip's first frame is its only keyframe
OPUS_CLIP_PACKETS = 50  # 1 s of 20 ms packets


@functools.cache
def video_clip() -> tuple[bytes, ...]:
    """10 s of the noise camera encoded once, so many publishers cost no encoding."""
    camera = NoiseVideoSource()
    clip = []
    for counter in range(CLIP_FRAMES):
        picture = camera._pool[counter % POOL]
        picture.pts, picture.time_base = counter, fractions.Fraction(1, FPS)
        picture.pict_type = av.video.frame.PictureType.NONE
        clip.append(b"".join(bytes(p) for p in camera._codec.encode(picture)))
    assert passthrough.is_vp8_keyframe(clip[0])
    return tuple(clip)


@functools.cache
def opus_clip() -> tuple[bytes, ...]:
    codec: Any = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format, codec.bit_rate = 48000, "stereo", "s16", 64000
    packets: list[bytes] = []
    samples = 0
    while len(packets) < OPUS_CLIP_PACKETS:
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        tone = (int(8000 * math.sin(2 * math.pi * 440 * (samples + i) / 48000)) for i in range(960))
        frame.planes[0].update(b"".join(v.to_bytes(2, "little", signed=True) * 2 for v in tone))
        frame.sample_rate, frame.pts = 48000, samples
        frame.time_base = fractions.Fraction(1, 48000)
        samples += 960
        packets.extend(bytes(p) for p in codec.encode(frame))
    return tuple(packets[:OPUS_CLIP_PACKETS])


class _Paced(MediaStreamTrack):
    """Replays a clip at its own pace; ``interval`` seconds and ``ticks`` per packet."""

    interval: float
    ticks: int
    time_base: fractions.Fraction

    def __init__(self, clip: tuple[bytes, ...]) -> None:
        super().__init__()
        self.clip = clip
        self.sent = 0
        self.position = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.sent * self.interval - time.monotonic()))
        packet = av.Packet(self.clip[self.position])
        packet.pts, packet.time_base = self.sent * self.ticks, self.time_base
        self.sent += 1
        self.position = (self.position + 1) % len(self.clip)
        return packet


class ClipVideoSource(_Paced):
    """The pre-encoded 640x360 clip at 30 fps; a keyframe request restarts it (a keyframe)."""

    kind = "video"
    interval, ticks, time_base = 1 / FPS, VIDEO_TICKS, passthrough.VIDEO_TIME_BASE

    def __init__(self) -> None:
        super().__init__(video_clip())

    def want_keyframe(self) -> None:
        self.position = 0


class ClipAudioSource(_Paced):
    kind = "audio"
    interval, ticks, time_base = 0.02, 960, passthrough.OPUS_TIME_BASE

    def __init__(self) -> None:
        super().__init__(opus_clip())


# ---------------------------------------------------------------- glass-to-glass stamps

STAMP_BITS = 24  # monotonic milliseconds modulo 2**24 (4.6 hours)
STAMP_CELLS = STAMP_BITS + 8  # and an 8-bit check, so a smeared picture is not misread
STAMP_BAND = (HEIGHT // 3, 2 * HEIGHT // 3)  # the rows that carry the code


def monotonic_ms() -> int:
    """CLOCK_MONOTONIC is system-wide: both bench processes read the same clock."""
    return int(time.monotonic() * 1000) % (1 << STAMP_BITS)


def _cells(value: int) -> list[int]:
    check = ((value & 0xFF) + (value >> 8 & 0xFF) + (value >> 16 & 0xFF)) & 0xFF ^ 0xA5
    word = value | check << STAMP_BITS
    return [word >> i & 1 for i in range(STAMP_CELLS)]


def stamp(picture: av.VideoFrame, value: int) -> av.VideoFrame:
    """A copy of ``picture`` with ``value`` as a bar code of black and white cells."""
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    luma = bytearray(bytes(picture.planes[0]))
    row = b"".join(bytes([235 if bit else 16]) * (WIDTH // STAMP_CELLS) for bit in _cells(value))
    line = picture.planes[0].line_size
    for y in range(*STAMP_BAND):
        luma[y * line : y * line + len(row)] = row
    frame.planes[0].update(bytes(luma))
    for plane in (frame.planes[1], frame.planes[2]):
        plane.update(bytes([128]) * plane.buffer_size)
    return frame


def read_stamp(frame: av.VideoFrame) -> int | None:
    """The value ``stamp`` drew, from a decoded frame of any size; None if unreadable."""
    plane = frame.planes[0]
    start = plane.line_size * (frame.height // 2)
    row = memoryview(plane)[start : start + frame.width]
    cell = frame.width * (WIDTH // STAMP_CELLS) / WIDTH
    bits = [row[int(cell * (i + 0.5))] > 125 for i in range(STAMP_CELLS)]
    value = sum(bit << i for i, bit in enumerate(bits[:STAMP_BITS]))
    return value if bits == [bool(b) for b in _cells(value)] else None


class StampedVideoSource(NoiseVideoSource):
    """The noise camera with the capture time (monotonic ms) drawn into every picture.

    It encodes on its own thread, as a browser does, so that the load process's event loop
    (which also receives and times the frames) is not blocked for an encode per frame.
    """

    def __init__(self) -> None:
        super().__init__()
        self._encoder_thread = ThreadPoolExecutor(1, thread_name_prefix="camera")

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.frames / FPS - time.monotonic()))
        picture = stamp(self._pool[self.frames % POOL], monotonic_ms())
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._encoder_thread, self._encode, picture)

    def stop(self) -> None:
        super().stop()
        self._encoder_thread.shutdown(wait=False)
