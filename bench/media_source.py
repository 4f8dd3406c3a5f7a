"""The stand-in presenter camera for `make bench-media`: 640x360 VP8 at about 600 kbps.

Encodes live (libvpx realtime, like a browser) and honours keyframe requests, so the
forwarding core's PLI path is exercised. The pictures cycle through a small pool of
partly noisy images, tuned so the encoder lands near the target bitrate.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import time
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
        counter = self.frames
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + counter / FPS - time.monotonic()))
        picture = self._pool[counter % POOL]
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
