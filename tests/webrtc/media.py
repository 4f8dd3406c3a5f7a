"""In-process "browsers" for the forwarding tests: synthetic publishers and tapped viewers.

The publishing side encodes its own frames (libvpx / libopus through PyAV) and hands
aiortc ready ``av.Packet`` s, so the test knows byte for byte what went on the wire. The
viewing side taps its receiver with the same pass-through adapter, so what it records is
what arrived *before* any decoding.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpTransceiver

from fairserver.webrtc import passthrough
from fairserver.webrtc.forwarding import MediaRoom, forward_to
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.peers import Peer, PeerRegistry

WIDTH, HEIGHT, FPS = 160, 120, 30
VIDEO_TICKS = 90000 // FPS
OPUS_SAMPLES = 960


def counter_picture(counter: int, width: int = WIDTH, height: int = HEIGHT) -> av.VideoFrame:
    """A grey picture whose 16 luma columns spell ``counter`` in binary (bright = 1)."""
    frame = av.VideoFrame(width, height, "yuv420p")
    column = width // 16
    row = bytes((220 if counter >> (x // column) & 1 else 30) for x in range(width))
    frame.planes[0].update(row * height)
    frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
    frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
    return frame


def read_counter(frame: av.VideoFrame) -> int:
    """The counter ``counter_picture`` drew, read back from a decoded (maybe scaled) frame."""
    plane = frame.planes[0]
    start = plane.line_size * (frame.height // 2)
    luma = bytes(plane)[start : start + frame.width]
    column = frame.width / 16
    bits = (int(luma[int(column * (i + 0.5))] > 125) for i in range(16))
    return sum(bit << i for i, bit in enumerate(bits))


class CounterVideoSource(MediaStreamTrack):
    """Paced VP8 frames carrying a counter; honours keyframe requests like a browser."""

    kind = "video"

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        super().__init__()
        self.size = (width, height)
        self.encoded: list[bytes] = []
        self.keyframe_wanted = False
        self.keyframes_sent = 0
        self._start: float | None = None
        self._codec = av.CodecContext.create("libvpx", "w")
        self._codec.width, self._codec.height = width, height
        self._codec.pix_fmt = "yuv420p"
        self._codec.bit_rate = 300_000
        self._codec.time_base = fractions.Fraction(1, FPS)
        self._codec.gop_size = 100_000  # like aiortc's 3000: keyframes only on request
        self._codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}

    async def recv(self) -> av.Packet[Any]:
        counter = len(self.encoded)
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + counter / FPS - time.monotonic()))
        picture = counter_picture(counter, *self.size)
        picture.pts, picture.time_base = counter, fractions.Fraction(1, FPS)
        if self.keyframe_wanted:
            self.keyframe_wanted = False
            picture.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in self._codec.encode(picture))
        self.keyframes_sent += passthrough.is_vp8_keyframe(data)
        self.encoded.append(data)
        packet = av.Packet(data)
        packet.pts, packet.time_base = counter * VIDEO_TICKS, passthrough.VIDEO_TIME_BASE
        return packet

    def want_keyframe(self) -> None:
        self.keyframe_wanted = True


class ToneAudioSource(MediaStreamTrack):
    """Paced 20 ms Opus packets of a tone."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[bytes] = []
        self._pending: list[av.Packet[Any]] = []
        self._start: float | None = None
        self._codec = av.CodecContext.create("libopus", "w")
        self._codec.sample_rate = 48000
        self._codec.layout = "stereo"
        self._codec.format = "s16"
        self._codec.bit_rate = 64000
        self._samples = 0

    def _tone(self) -> av.AudioFrame:
        frame = av.AudioFrame(format="s16", layout="stereo", samples=OPUS_SAMPLES)
        values = bytearray()
        for i in range(OPUS_SAMPLES):
            sample = int(8000 * math.sin(2 * math.pi * 440 * (self._samples + i) / 48000))
            values += sample.to_bytes(2, "little", signed=True) * 2
        frame.planes[0].update(bytes(values))
        frame.sample_rate, frame.pts = 48000, self._samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._samples += OPUS_SAMPLES
        return frame

    async def recv(self) -> av.Packet[Any]:
        while not self._pending:
            self._pending.extend(self._codec.encode(self._tone()))
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + len(self.encoded) * 0.02 - time.monotonic()))
        packet = self._pending.pop(0)
        self.encoded.append(bytes(packet))
        packet.pts, packet.time_base = len(self.encoded) * OPUS_SAMPLES, passthrough.OPUS_TIME_BASE
        return packet


async def publish(
    room: MediaRoom,
    server: PeerRegistry,
    browsers: PeerRegistry,
    participant: str,
    track: MediaStreamTrack,
) -> tuple[Peer, str]:
    """``participant``'s browser sends ``track`` to the server, which publishes it."""
    browser = browsers.open(participant)
    sender = browser.pc.addTransceiver(track, direction="sendonly").sender
    if isinstance(track, CounterVideoSource):
        passthrough.on_keyframe_request(sender, track.want_keyframe)
    peer = server.open(participant)
    peer.on_close.append(lambda p: room.leave(p.participant))
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    await peer.pc.setRemoteDescription(browser.pc.localDescription)
    transceiver: RTCRtpTransceiver = peer.pc.getTransceivers()[0]
    passthrough.prefer_forwardable_codecs(transceiver)
    source = room.publish(participant, transceiver.receiver, transceiver.kind)
    await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    await browser.pc.setRemoteDescription(peer.pc.localDescription)
    return peer, source.source_id


async def watch(
    room: MediaRoom,
    server: PeerRegistry,
    browsers: PeerRegistry,
    participant: str,
    source_id: str,
    *,
    low: bool = False,
) -> tuple[Peer, list[EncodedFrame]]:
    """``participant``'s browser watches ``source_id`` (``low``: its low rendition); returns
    what arrives, undecoded."""
    peer = server.open(participant)
    peer.on_close.append(lambda p: room.leave(p.participant))
    track = room.watch_low(participant, source_id) if low else room.watch(participant, source_id)
    forward_to(peer.pc, track)
    browser = browsers.open(participant)
    received: list[EncodedFrame] = []
    await peer.pc.setLocalDescription(await peer.pc.createOffer())
    await browser.pc.setRemoteDescription(peer.pc.localDescription)
    for transceiver in browser.pc.getTransceivers():
        passthrough.tap_receiver(transceiver.receiver, transceiver.kind, received.append)
    await browser.pc.setLocalDescription(await browser.pc.createAnswer())
    await peer.pc.setRemoteDescription(browser.pc.localDescription)
    return peer, received


async def wait_until(condition: object, timeout: float, what: str) -> None:
    """Poll ``condition()`` every 20 ms; fail with ``what`` after ``timeout`` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def camera_browser(browsers: PeerRegistry, name: str, width: int = 160) -> Peer:
    """A publishing browser: a counter camera (keyframe on PLI) and a tone microphone."""
    browser = browsers.open(name)
    camera = CounterVideoSource(width, width * 3 // 4)
    sender = browser.pc.addTransceiver(camera, direction="sendonly").sender
    passthrough.on_keyframe_request(sender, camera.want_keyframe)
    browser.pc.addTransceiver(ToneAudioSource(), direction="sendonly")
    return browser


def viewer_browser(browsers: PeerRegistry, name: str) -> tuple[Peer, dict[str, list[EncodedFrame]]]:
    """A watching browser that records the encoded frames it receives, per kind."""
    browser = browsers.open(name)
    received: dict[str, list[EncodedFrame]] = {"video": [], "audio": []}
    for kind in ("video", "audio"):
        receiver = browser.pc.addTransceiver(kind, direction="recvonly").receiver
        passthrough.tap_receiver(receiver, kind, received[kind].append)
    return browser, received
