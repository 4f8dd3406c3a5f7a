"""WebRTC media: one forwarding core for briefings, interview rooms and booth calls.

The server terminates every participant's RTCPeerConnection (aiortc 1.16.0, pinned) and
forwards the publishers' *encoded* VP8/Opus frames to each viewer; nothing is re-encoded
per viewer. The modules, with no aiohttp or socketio (signalling lives elsewhere):

- ``passthrough``: the only module that touches aiortc internals. It taps a receiver's
  jitter buffer so reassembled frames come out as ``av.Packet`` s instead of being decoded,
  sends RTCP PLI to publishers and catches viewers' PLI/FIR. docs/webrtc-notes.md lists the
  hooks and what to check when upgrading; tests/webrtc/test_passthrough_guard.py fails
  loudly when aiortc changes.
- ``forwarding``: ``MediaRoom`` (policy: who may publish, who may watch), a ``Source`` per
  published track, a ``ViewerTrack`` per viewer with a bounded queue that skips to the next
  keyframe when a viewer falls behind, and rate-limited keyframe requests.
- ``rendition``: the low-bandwidth rendition (``MediaRoom.watch_low``): one decode and one
  small encode per watched video source, shared by all its low viewers, on a worker thread.
- ``peers``: ``PeerRegistry``, the one owner of every RTCPeerConnection, which closes each
  exactly once on every terminal path (failed/closed/disconnected, leave, removal, shutdown).

Typical wiring by a signalling handler (later work)::

    peer = registry.open(participant)
    peer.on_close.append(lambda p: room.leave(p.participant))
    # publisher: after setRemoteDescription(offer), before createAnswer()
    prefer_forwardable_codecs(transceiver)
    source = room.publish(participant, transceiver.receiver, transceiver.kind)
    # viewer: before createOffer()
    forward_to(peer.pc, room.watch(participant, source.source_id))
"""
