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
- ``session``: ``MediaSession``, one per live room (a briefing's stage, an interview room),
  and ``MediaSessions``, the app's manager holding the registry. A session owns the room's
  ``MediaRoom``, its publishers and viewers, the one offer/answer exchange, and tells the
  room's service when a peer has ended (``on_left``), so nothing polls. ``lines`` makes the
  transceivers in the offer's m-line order (max-bundle, ``ice.bundled_configuration``).
- ``recorder``: remuxes a room's sources into WebM (and ``is_playable`` after a crash).

The services in fairserver/rooms/ keep the policy (who may publish, who may watch) and call
a session with plain values; they never import aiortc or av::

    session = sessions.open("stage:7", on_left=lambda participant: ...)
    answer, sources = await session.publish("<conn>/pub", offer_sdp)  # {kind: source id}
    answer, feeds = await session.watch("<conn>/view", [sources], offer_sdp, "full")
    await session.close("<conn>/view")  # on_left("<conn>/view") follows, once
"""
