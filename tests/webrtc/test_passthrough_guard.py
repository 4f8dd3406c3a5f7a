"""Fails loudly when aiortc changes under the pass-through adapter.

Each assertion names a fact docs/webrtc-notes.md relies on; when one fails after an upgrade,
re-read that part of aiortc before touching the pin.
"""

from __future__ import annotations

import inspect

import aioice
import aioice.ice
import aiortc
import aiortc.codecs.vpx
import av
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


def test_the_lean_sender_replaces_what_rtcrtpsender_send_starts() -> None:
    # send() starts the RTP loop through the instance, so an instance attribute wins.
    assert "self._run_rtp(parameters.codecs[0])" in source_of(RTCRtpSender.send)
    assert "await self._retransmit(seq)" in source_of(RTCRtpSender._handle_rtcp_packet)
    retransmit = source_of(RTCRtpSender._retransmit)
    assert "self.__rtp_history.get(sequence_number % RTP_HISTORY_SIZE)" in retransmit
    # The sender report reads the counters the lean loop keeps.
    rtcp = source_of(RTCRtpSender._run_rtcp)
    for name in ("ntp_timestamp", "rtp_timestamp", "packet_count", "octet_count"):
        assert f"self.__{name}" in rtcp
    # The lean loop's exit does what the stock loop's exit does.
    stock = source_of(RTCRtpSender._run_rtp)
    assert "self.__rtp_started.set()" in stock and "self.__rtp_exited.set()" in stock
    assert "self.__track.stop()" in stock


async def test_the_private_state_the_lean_sender_uses_exists() -> None:
    transport = RTCDtlsTransport.__new__(RTCDtlsTransport)
    transport._state = aiortc.rtcdtlstransport.State.NEW
    sender = RTCRtpSender("video", transport)
    state = vars(sender)
    for name in (
        "rtp_started",
        "rtp_exited",
        "track",
        "mid",
        "rtp_header_extensions_map",
        "rtp_history",
        "ntp_timestamp",
        "rtp_timestamp",
        "octet_count",
        "packet_count",
    ):
        assert passthrough._SENDER + name in state, name
    dtls_init = source_of(RTCDtlsTransport.__init__)
    assert "self.__tx_bytes = 0" in dtls_init and "self.__tx_packets = 0" in dtls_init
    assert "self._tx_srtp" in source_of(RTCDtlsTransport)
    send_rtp = source_of(RTCDtlsTransport._send_rtp)
    assert "data = self._tx_srtp.protect(data)" in send_rtp
    assert "await self.transport._send(data)" in send_rtp
    # aioice: the selected pair of component 1, and a host/srflx pair's plain sendto.
    connection = source_of(aioice.Connection.sendto)
    assert "active_pair = self._nominated.get(component)" in connection
    assert "await active_pair.protocol.send_data(data, active_pair.remote_addr)" in connection
    assert "self.transport.sendto(data, addr)" in source_of(aioice.ice.StunProtocol.send_data)


def test_payloads_are_cut_once_per_frame_with_the_sources_picture_ids() -> None:
    ids = passthrough.PictureIds()
    frames = [
        passthrough.EncodedFrame(av.Packet(bytes(3000)), True, 1, picture_id=ids.take())
        for _ in range(2)
    ]
    first = frames[0].payloads(video=True)
    assert first is frames[0].payloads(video=True)  # cut once, shared by every viewer
    assert len(first) == 3 and sum(len(p) for p in first) == 3000 + 3 * 4
    descriptors = [
        aiortc.codecs.vpx.VpxPayloadDescriptor.parse(f.payloads(True)[0])[0] for f in frames
    ]
    assert descriptors[1].picture_id == (descriptors[0].picture_id + 1) & 0x7FFF
    audio = passthrough.EncodedFrame(av.Packet(b"opus"), True, 2)
    assert audio.payloads(video=False) == [b"opus"]


def test_the_extension_template_writes_what_aiortc_would() -> None:
    parameters = aiortc.RTCRtpParameters(
        headerExtensions=[
            aiortc.rtcrtpparameters.RTCRtpHeaderExtensionParameters(
                id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"
            ),
            aiortc.rtcrtpparameters.RTCRtpHeaderExtensionParameters(
                id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
            ),
        ]
    )
    extensions_map = aiortc.rtp.HeaderExtensionsMap()
    extensions_map.configure(parameters)
    template = passthrough._ExtensionTemplate(extensions_map, "1")
    for ntp in (0, passthrough._ntp_now(), (1 << 64) - 1, 0x0123456789ABCDEF):
        profile, value = extensions_map.set(passthrough._extensions("1", (ntp >> 14) & 0xFFFFFF))
        head, block = template.at(ntp)
        assert head == 0x90
        assert block == passthrough._EXTENSION_HEADER.pack(profile, len(value) >> 2) + value
    # No extensions negotiated: none written.
    bare = passthrough._ExtensionTemplate(aiortc.rtp.HeaderExtensionsMap(), None)
    assert bare.at(passthrough._ntp_now()) == (0x80, b"")


def test_the_lean_clock_is_aiortcs_ntp_clock() -> None:
    stock = aiortc.clock.current_ntp_time()
    assert abs(passthrough._ntp_now() - stock) < (1 << 32) // 20  # within 50 ms
