"""Fails loudly when aiortc changes under the pass-through adapter.

Each assertion names a fact docs/webrtc-notes.md relies on; when one fails after an upgrade,
re-read that part of aiortc before touching the pin.
"""

from __future__ import annotations

import inspect

import aiortc
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcdtlstransport import RTCDtlsTransport

from fairserver.webrtc import passthrough


def source_of(function: object) -> str:
    assert callable(function)
    return inspect.getsource(function)


def test_aiortc_is_the_pinned_version_with_every_hooked_attribute() -> None:
    assert aiortc.__version__ == passthrough.EXPECTED_AIORTC_VERSION == "1.16.0"
    assert passthrough.aiortc_mismatches() == []


def test_hooked_signatures_are_unchanged() -> None:
    def params(function: object) -> list[str]:
        assert callable(function)
        return list(inspect.signature(function).parameters)

    assert params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert params(RTCRtpSender._send_keyframe) == ["self"]
    assert params(JitterBuffer.add) == ["self", "packet"]
    assert params(JitterBuffer.__init__) == ["self", "capacity", "prefetch", "is_video"]


def test_the_receiver_decodes_only_what_its_jitter_buffer_returns() -> None:
    # The tap returns no frame, so nothing may reach the decoder queue any other way.
    handler = source_of(RTCRtpReceiver._handle_rtp_packet)
    assert "pli_flag, encoded_frame = self.__jitter_buffer.add(packet)" in handler
    assert "if encoded_frame is not None and self.__decoder_thread:" in handler
    assert handler.count("self.__decoder_queue.put(") == 1
    # The JitterBuffer is created per receiver in __init__ and read from nowhere else.
    receiver_source = inspect.getsource(RTCRtpReceiver)
    assert receiver_source.count("self.__jitter_buffer") == 3  # two assignments, one add


def test_a_viewers_pli_and_fir_go_through_send_keyframe() -> None:
    handler = source_of(RTCRtpSender._handle_rtcp_packet)
    assert "RTCP_PSFB_FIR" in handler and "RTCP_PSFB_PLI" in handler
    assert "self._send_keyframe()" in handler


def test_the_sender_packs_av_packets_without_encoding() -> None:
    next_frame = source_of(RTCRtpSender._next_encoded_frame)
    assert "data = await self.__track.recv()" in next_frame
    assert "if isinstance(data, Frame):" in next_frame
    assert "payloads, timestamp = self.__encoder.pack(data)" in next_frame


def test_a_tapped_receiver_hands_over_frames_and_hides_them_from_the_decoder() -> None:
    transport = RTCDtlsTransport.__new__(RTCDtlsTransport)
    transport._state = aiortc.rtcdtlstransport.State.NEW  # receivers refuse closed ones
    receiver = RTCRtpReceiver("video", transport)
    frames: list[passthrough.EncodedFrame] = []
    passthrough.tap_receiver(receiver, "video", frames.append)

    tap = getattr(receiver, passthrough.JITTER_BUFFER_ATTRIBUTE)
    keyframe = b"\x10\x02\x00\x9d\x01\x2a" + bytes(20)
    for seq, (timestamp, data) in enumerate([(1000, keyframe), (4000, b"\x01" * 12)]):
        packet = aiortc.rtp.RtpPacket(payload_type=96, sequence_number=seq, timestamp=timestamp)
        packet.ssrc = 1234
        packet._data = data  # type: ignore[attr-defined]  # set by aiortc's depayload
        assert tap.add(packet) == (False, None)

    assert [(bytes(f.packet), f.packet.pts, f.keyframe, f.ssrc) for f in frames] == [
        (keyframe, 1000, True, 1234)
    ]
    assert frames[0].packet.time_base == passthrough.VIDEO_TIME_BASE


def test_vp8_keyframe_detection() -> None:
    assert passthrough.is_vp8_keyframe(b"\x10\x02\x00\x9d\x01\x2a" + bytes(4))
    assert not passthrough.is_vp8_keyframe(b"\x11\x02\x00\x9d\x01\x2a" + bytes(4))
    assert not passthrough.is_vp8_keyframe(b"\x10\x02\x00\x00\x00\x00" + bytes(4))
    assert not passthrough.is_vp8_keyframe(b"")
