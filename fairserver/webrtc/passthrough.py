"""The only module that touches aiortc internals: encoded frames in and out, no codec work.

aiortc 1.16.0 always decodes what an ``RTCRtpReceiver`` gets and offers no public way to
read the encoded frames. The forwarding core needs exactly those frames, so this adapter
hooks these private points (see docs/webrtc-notes.md for the why and the upgrade list):

- ``RTCRtpReceiver._RTCRtpReceiver__jitter_buffer``: wrapped per receiver by a tap that hands
  every reassembled frame to the core and returns ``None`` to aiortc, so nothing reaches the
  decoder thread (which then idles in ``queue.get()`` until aiortc stops it as usual).
- ``RTCRtpReceiver._send_rtcp_pli(media_ssrc)``: asks a publisher for a keyframe.
- ``RTCRtpSender._send_keyframe()``: replaced per sender, because stock aiortc only sets an
  encoder flag there, which is meaningless for forwarded ``av.Packet`` s (they are packetized
  by ``Encoder.pack`` and never encoded), so a viewer's PLI/FIR would be lost.

The send side works with stock aiortc (``RTCRtpSender`` packetizes an ``av.Packet`` from
``track.recv()`` without encoding it), but at about 70 µs of CPU per packet per viewer that
stock loop is what limits viewers per core. ``send_forwarded`` replaces a forwarding
sender's ``_run_rtp`` with a lean loop that packetizes each frame once for every viewer
and, per packet, only writes the 12-byte header, protects it with the viewer's SRTP session
and hands it to the selected ICE pair's socket, with no coroutine chain per packet. It keeps
what the rest of ``RTCRtpSender`` reads (the RTCP sender report counters, the NACK history,
the transport's byte counters); see docs/decisions.md §19.

``tests/webrtc/test_passthrough_guard.py`` pins all of this and fails loudly on upgrade.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import logging
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiortc
import av
from aioice.ice import StunProtocol
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, RtpPacket
from aiortc.utils import random16, random32

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


@dataclass(slots=True, eq=False)
class EncodedFrame:
    """One reassembled frame as the publisher encoded it, ready for ``RTCRtpSender``.

    The same ``av.Packet`` is handed to every viewer: ``Encoder.pack`` only reads it. Its
    RTP payloads are cut once, for every viewer (``payloads``); ``picture_id`` numbers a
    source's frames contiguously, as a VP8 receiver expects within one stream.
    """

    packet: av.Packet[Any]
    keyframe: bool
    ssrc: int
    picture_id: int = 0
    _payloads: list[bytes] | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        return bytes(self.packet)

    def payloads(self, video: bool) -> list[bytes]:
        if self._payloads is None:
            data = bytes(self.packet)
            self._payloads = Vp8Encoder._packetize(data, self.picture_id) if video else [data]
        return self._payloads


class PictureIds:
    """VP8 picture ids for one source's frames: 15 bits, from a random start."""

    def __init__(self) -> None:
        self._next = random16() & 0x7FFF

    def take(self) -> int:
        taken, self._next = self._next, (self._next + 1) & 0x7FFF
        return taken


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
        self._picture_ids = PictureIds()

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
            self._sink(EncodedFrame(packet, keyframe, ssrc, picture_id=self._picture_ids.take()))
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


NextFrame = Callable[[], Awaitable[EncodedFrame]]
# Sends one frame at once if it can (True), else the frame must wait for the RTP loop.
SendNow = Callable[[EncodedFrame], bool]

# RTCRtpSender's private state, read and kept up to date by the lean loop.
_SENDER = "_RTCRtpSender__"
_DTLS = "_RTCDtlsTransport__"
_RTP_HEADER = struct.Struct("!BBHLL")
_EXTENSION_HEADER = struct.Struct("!HH")


def send_forwarded(
    sender: RTCRtpSender,
    next_frame: NextFrame,
    direct: Callable[[SendNow | None], None] | None = None,
) -> None:
    """Run ``sender``'s RTP with the lean forwarding loop (module docstring).

    ``next_frame`` returns the viewer's next frame and raises ``MediaStreamError`` once the
    viewer's track has ended. While the loop runs, ``direct`` is given a function that sends
    a frame on the spot, so a viewer with nothing queued needs no task wake-up per frame
    (and None when the loop ends). Call before negotiation starts the sender.
    """

    async def run_rtp(codec: Any) -> None:
        await _forward_rtp(sender, codec, next_frame, direct)

    async def retransmit(sequence_number: int) -> None:
        await _retransmit(sender, sequence_number)

    setattr(sender, "_run_rtp", run_rtp)  # noqa: B010
    setattr(sender, "_retransmit", retransmit)  # noqa: B010
    setattr(sender, "_forwarding_history", [None] * RTP_HISTORY_SIZE)  # noqa: B010


async def _forward_rtp(
    sender: RTCRtpSender,
    codec: Any,
    next_frame: NextFrame,
    direct: Callable[[SendNow | None], None] | None,
) -> None:
    state = vars(sender)
    state[_SENDER + "rtp_started"].set()
    lean = _LeanSender(sender, codec)
    if direct is not None:
        direct(lean.send_now)
    try:
        while True:
            await lean.send(await next_frame())
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        logger.exception("forwarding sender failed")
    finally:
        if direct is not None:
            direct(None)
    track = state[_SENDER + "track"]
    if track is not None:
        track.stop()
        state[_SENDER + "track"] = None
    state[_SENDER + "rtp_exited"].set()


class _LeanSender:
    """One viewer's RTP for one forwarded track: headers, SRTP and the socket, per frame."""

    def __init__(self, sender: RTCRtpSender, codec: Any) -> None:
        self._sender = sender
        self._state = vars(sender)
        self._video = codec.mimeType.lower() == "video/vp8"
        self._payload_type = codec.payloadType
        self._ssrc = sender._ssrc
        self._history: list[tuple[int, bytes] | None] = self._state["_forwarding_history"]
        self._extension = _ExtensionTemplate(
            self._state[_SENDER + "rtp_header_extensions_map"], self._state[_SENDER + "mid"]
        )
        self._route = _Route()
        self._sequence_number = random16()
        self._timestamp_origin = random32()

    def send_now(self, frame: EncodedFrame) -> bool:
        """Sends ``frame`` synchronously; False when only the RTP loop can (a TURN pair, or
        a transport that is not connected, which the loop then reports by ending)."""
        if not self._sender._enabled:
            return True  # a disabled sender drops frames, as aiortc's does
        dtls = self._sender.transport
        if dtls._state is not State.CONNECTED:
            return False
        send = self._route.sender(dtls)
        if send is None:
            return False
        for packet in self._protected(frame, dtls):
            send(packet)
        return True

    async def send(self, frame: EncodedFrame) -> None:
        if self.send_now(frame):
            return
        dtls = self._sender.transport
        if dtls._state is not State.CONNECTED or self._route.pair(dtls) is None:
            raise ConnectionError("the viewer's transport is not connected")
        for packet in self._protected(frame, dtls):
            await dtls.transport._send(packet)  # a TURN relay: aioice's own path

    def _protected(self, frame: EncodedFrame, dtls: RTCDtlsTransport) -> list[bytes]:
        payloads = frame.payloads(self._video)
        timestamp = (self._timestamp_origin + int(frame.packet.pts or 0)) & 0xFFFFFFFF
        now = _ntp_now()
        head, extension = self._extension.at(now)
        protect = dtls._tx_srtp.protect
        history = self._history
        sequence_number = self._sequence_number
        last = len(payloads) - 1
        packets = []
        for index, payload in enumerate(payloads):
            data = (
                _RTP_HEADER.pack(
                    head,
                    (0x80 if index == last else 0) | self._payload_type,
                    sequence_number,
                    timestamp,
                    self._ssrc,
                )
                + extension
                + payload
            )
            history[sequence_number % RTP_HISTORY_SIZE] = (sequence_number, data)
            packets.append(protect(data))
            sequence_number = (sequence_number + 1) & 0xFFFF
        self._sequence_number = sequence_number
        state = self._state
        state[_SENDER + "ntp_timestamp"] = now
        state[_SENDER + "rtp_timestamp"] = timestamp
        state[_SENDER + "octet_count"] += sum(map(len, payloads))
        state[_SENDER + "packet_count"] += len(payloads)
        dtls_state = vars(dtls)
        dtls_state[_DTLS + "tx_bytes"] += sum(map(len, packets))
        dtls_state[_DTLS + "tx_packets"] += len(packets)
        return packets


_NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)


def _ntp_now() -> int:
    """``aiortc.clock.current_ntp_time()`` without the datetime objects (64-bit NTP)."""
    return int((time.time() + _NTP_UNIX_OFFSET) * 4294967296.0)


class _ExtensionTemplate:
    """A viewer's RTP header extensions (mid, abs-send-time) laid out once; per frame only
    the 3 bytes of abs-send-time change (RFC 5285 one-byte form, as aiortc writes it)."""

    def __init__(self, extensions_map: Any, mid: str | None) -> None:
        profile, low = extensions_map.set(_extensions(mid, 0))
        _, high = extensions_map.set(_extensions(mid, 0xFFFFFF))
        if not low:
            self._head, self._prefix, self._suffix, self._at = 0x80, b"", b"", -1
            return
        header = _EXTENSION_HEADER.pack(profile, len(low) >> 2)
        changed = [i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b]
        self._head = 0x90  # version 2 with the extension bit
        if changed:
            self._at = changed[0]
            self._prefix = header + low[: self._at]
            self._suffix = low[self._at + 3 :]
        else:  # abs-send-time was not negotiated: the extensions never change
            self._at, self._prefix, self._suffix = -1, header + low, b""

    def at(self, ntp: int) -> tuple[int, bytes]:
        """The first header byte and the extension block for a frame sent at ``ntp``."""
        if self._at < 0:
            return self._head, self._prefix
        return self._head, self._prefix + ((ntp >> 14) & 0xFFFFFF).to_bytes(3, "big") + self._suffix


class _Route:
    """The selected ICE pair's ``sendto`` bound to the viewer's address (None for a TURN
    pair, or before a pair is selected), looked up again only when the pair changes."""

    def __init__(self) -> None:
        self._pair: Any = None
        self._send: Callable[[bytes], None] | None = None

    @staticmethod
    def pair(dtls: RTCDtlsTransport) -> Any:
        return dtls.transport._connection._nominated.get(1)

    def sender(self, dtls: RTCDtlsTransport) -> Callable[[bytes], None] | None:
        pair = self.pair(dtls)
        if pair is None:
            return None
        if pair is not self._pair:
            self._pair, self._send = pair, None
            protocol = pair.protocol
            if type(protocol) is StunProtocol and protocol.transport is not None:
                self._send = functools.partial(protocol.transport.sendto, addr=pair.remote_addr)
        return self._send


def _extensions(mid: str | None, abs_send_time: int) -> HeaderExtensions:
    extensions = HeaderExtensions()
    extensions.mid = mid
    extensions.abs_send_time = abs_send_time
    return extensions


async def _retransmit(sender: RTCRtpSender, sequence_number: int) -> None:
    """NACK: the lean loop keeps plain packets, so parse one back for aiortc's own path."""
    history = vars(sender)["_forwarding_history"]
    kept = history[sequence_number % RTP_HISTORY_SIZE]
    if kept is None or kept[0] != sequence_number:
        return
    extensions_map = vars(sender)[_SENDER + "rtp_header_extensions_map"]
    rtp_history = vars(sender)[_SENDER + "rtp_history"]
    rtp_history[sequence_number % RTP_HISTORY_SIZE] = RtpPacket.parse(kept[1], extensions_map)
    await RTCRtpSender._retransmit(sender, sequence_number)


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
