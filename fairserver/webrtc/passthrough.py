"""The only module that touches aiortc internals: encoded frames in and out, no codec work.

aiortc 1.16.0 always decodes what an ``RTCRtpReceiver`` gets and offers no public way to
read the encoded frames. The forwarding core needs exactly those frames, so this adapter
hooks three private points (see docs/webrtc-notes.md for the why and the upgrade list):

- ``RTCRtpReceiver._RTCRtpReceiver__jitter_buffer``: wrapped per receiver by a tap that hands
  every reassembled frame to the core and returns ``None`` to aiortc, so nothing reaches the
  decoder thread (which then idles in ``queue.get()`` until aiortc stops it as usual).
- ``RTCRtpReceiver._send_rtcp_pli(media_ssrc)``: asks a publisher for a keyframe.
- ``RTCRtpSender._send_keyframe()``: replaced per sender, because stock aiortc only sets an
  encoder flag there, which is meaningless for forwarded ``av.Packet`` s (they are packetized
  by ``Encoder.pack`` and never encoded), so a viewer's PLI/FIR would be lost.

The send side needs no hook: ``RTCRtpSender`` packetizes an ``av.Packet`` returned by
``track.recv()`` without encoding it (``_next_encoded_frame`` → ``Encoder.pack``).
``tests/webrtc/test_passthrough_guard.py`` pins all of this and fails loudly on upgrade.
"""

from __future__ import annotations

import fractions
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiortc
import av
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

EXPECTED_AIORTC_VERSION = "1.16.0"
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
OPUS_TIME_BASE = fractions.Fraction(1, 48000)
FORWARDABLE_MIME_TYPES = {"video": ("video/VP8", "video/rtx"), "audio": ("audio/opus",)}

# Name-mangled private attribute of RTCRtpReceiver holding its JitterBuffer.
JITTER_BUFFER_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"
# VP8 key frames carry this start code right after the 3-byte frame tag (RFC 6386 §9.1).
VP8_START_CODE = b"\x9d\x01\x2a"

logger = logging.getLogger(__name__)


class AdapterError(RuntimeError):
    """aiortc is not the version this adapter was written against."""


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One reassembled frame as the publisher encoded it, ready for ``RTCRtpSender``.

    The same ``av.Packet`` is handed to every viewer: ``Encoder.pack`` only reads it.
    """

    packet: av.Packet[Any]
    keyframe: bool
    ssrc: int

    @property
    def data(self) -> bytes:
        return bytes(self.packet)


FrameSink = Callable[[EncodedFrame], None]


def is_vp8_keyframe(data: bytes) -> bool:
    """Bit 0 of the frame tag is 0 for a key frame; the start code rules out fragments."""
    return len(data) >= 10 and data[0] & 1 == 0 and data[3:6] == VP8_START_CODE


class _FrameTap:
    """Stands in for a receiver's JitterBuffer: same reassembly, frames go to the core."""

    def __init__(self, inner: JitterBuffer, kind: str, sink: FrameSink) -> None:
        self._inner = inner
        self._is_video = kind == "video"
        self._time_base = VIDEO_TIME_BASE if self._is_video else OPUS_TIME_BASE
        self._sink = sink

    @property
    def capacity(self) -> int:
        return self._inner.capacity

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli_flag, frame = self._inner.add(packet)
        if frame is not None:
            self._deliver(frame, packet.ssrc)
        # Returning no frame keeps aiortc from queueing it for its decoder thread.
        return pli_flag, None

    def _deliver(self, frame: JitterFrame, ssrc: int) -> None:
        packet = av.Packet(frame.data)
        # The raw RTP timestamp; the viewer's sender adds its own random origin modulo 2**32.
        packet.pts = frame.timestamp
        packet.time_base = self._time_base
        keyframe = is_vp8_keyframe(frame.data) if self._is_video else True
        try:
            self._sink(EncodedFrame(packet=packet, keyframe=keyframe, ssrc=ssrc))
        except Exception:
            # A bug in the core must not kill aiortc's RTP handling for this connection.
            logger.exception("forwarding sink failed")


def tap_receiver(receiver: RTCRtpReceiver, kind: str, sink: FrameSink) -> None:
    """Send the receiver's encoded frames to ``sink`` instead of decoding them.

    Call before media flows (e.g. in the ``track`` event); calling twice is an error.
    """
    inner = getattr(receiver, JITTER_BUFFER_ATTRIBUTE, None)
    if not isinstance(inner, JitterBuffer):
        raise AdapterError(f"RTCRtpReceiver has no JitterBuffer at {JITTER_BUFFER_ATTRIBUTE}")
    setattr(receiver, JITTER_BUFFER_ATTRIBUTE, _FrameTap(inner, kind, sink))


async def send_picture_loss(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the publisher behind ``receiver`` for a keyframe (RTCP PLI, RFC 4585 §6.3.1)."""
    await receiver._send_rtcp_pli(media_ssrc)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote viewer sends a PLI or FIR for this sender."""
    # RTCRtpSender._handle_rtcp_packet calls self._send_keyframe() for PLI and FIR; an
    # instance attribute shadows the method for this sender only.
    setattr(sender, "_send_keyframe", callback)  # noqa: B010


def prefer_forwardable_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Negotiate only VP8 (with RTX) or Opus, the codecs the core forwards.

    A viewer's sender packetizes with the first negotiated codec, so a publisher's VP8
    frames must never meet an H.264 sender.
    """
    wanted = FORWARDABLE_MIME_TYPES[transceiver.kind]
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind)
    codecs = [codec for codec in capabilities.codecs if codec.mimeType in wanted]
    transceiver.setCodecPreferences(codecs)


def aiortc_mismatches() -> list[str]:
    """Everything this adapter relies on that the installed aiortc does not provide."""
    problems: list[str] = []
    if aiortc.__version__ != EXPECTED_AIORTC_VERSION:
        problems.append(f"aiortc {aiortc.__version__} != {EXPECTED_AIORTC_VERSION}")
    needed: list[tuple[Any, str]] = [
        (RTCRtpReceiver, "_send_rtcp_pli"),
        (RTCRtpReceiver, "_handle_rtp_packet"),
        (RTCRtpSender, "_send_keyframe"),
        (RTCRtpSender, "_handle_rtcp_packet"),
        (RTCRtpSender, "_next_encoded_frame"),
        (JitterBuffer, "add"),
    ]
    problems.extend(
        f"{owner.__name__}.{name} is missing"
        for owner, name in needed
        if not callable(getattr(owner, name, None))
    )
    return problems
