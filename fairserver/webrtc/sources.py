"""Sources and viewer tracks: one published track, and each viewer's bounded copy of it.

A ``Source`` receives a publisher's encoded frames (through ``passthrough``) and hands each
one to its ``ViewerTrack``s and frame listeners, never decoding. Each viewer's
``FrameQueue`` is bounded: on overflow the viewer skips to the next keyframe and a PLI is
requested through the source's ``KeyframeRequester``, at most one per interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError

from fairserver.webrtc import passthrough
from fairserver.webrtc.passthrough import EncodedFrame, FrameSink

logger = logging.getLogger(__name__)

DEFAULT_KEYFRAME_INTERVAL = 0.5


@dataclass(slots=True)
class ViewerStats:
    forwarded: int = 0
    dropped: int = 0
    overflows: int = 0


class FrameQueue:
    """A bounded queue of frames that only ever resumes at a keyframe."""

    def __init__(self, max_queued: int) -> None:
        self._frames: deque[EncodedFrame] = deque()
        self._max = max_queued
        self._ready = asyncio.Event()
        self._ended = False
        self.waiting_for_keyframe = True
        self.stats = ViewerStats()

    def __len__(self) -> int:
        return len(self._frames)

    def accepts(self, frame: EncodedFrame) -> bool:
        """``frame`` may be sent next: the viewer is not waiting for a keyframe, or it is one."""
        return frame.keyframe or not self.waiting_for_keyframe

    def took(self) -> None:
        """``frame`` went out directly, past an empty queue."""
        self.waiting_for_keyframe = False
        self.stats.forwarded += 1

    def offer(self, frame: EncodedFrame) -> bool:
        """Queue ``frame``; False when a keyframe is needed to go on."""
        if not self.accepts(frame):
            self.stats.dropped += 1
            return False
        if len(self._frames) >= self._max:
            # The queued deltas are useless once one is skipped: start over at a keyframe.
            self.stats.overflows += 1
            self.stats.dropped += len(self._frames)
            self._frames.clear()
            if not frame.keyframe:
                self.waiting_for_keyframe = True
                self.stats.dropped += 1
                return False
        self.waiting_for_keyframe = False
        self._frames.append(frame)
        self._ready.set()
        return True

    async def get(self) -> EncodedFrame | None:
        """The next frame, or None once the queue has ended and drained."""
        while not self._frames:
            if self._ended:
                return None
            self._ready.clear()
            await self._ready.wait()
        self.stats.forwarded += 1
        return self._frames.popleft()

    def end(self) -> None:
        self._ended = True
        self._frames.clear()
        self._ready.set()


class KeyframeRequester:
    """At most one PLI per ``interval``; a request inside the window is sent at its end."""

    def __init__(self, send: Callable[[], None], interval: float) -> None:
        self._send = send
        self._interval = interval
        self._last = float("-inf")
        self._deferred: asyncio.TimerHandle | None = None
        self.sent = 0

    def request(self) -> None:
        if self._deferred is not None:
            return
        wait = self._last + self._interval - time.monotonic()
        if wait <= 0:
            self._fire()
        else:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._fire)

    def cancel(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None

    def _fire(self) -> None:
        self._deferred = None
        self._last = time.monotonic()
        self.sent += 1
        self._send()


class ViewerTrack(MediaStreamTrack):
    """What one viewer's RTCRtpSender reads: forwarded ``av.Packet`` s, never frames."""

    counts_as_viewer = True  # a person's track (the low rendition's input is not)

    def __init__(self, source: Source, viewer: str, max_queued: int) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.viewer = viewer
        self.queue = FrameQueue(max_queued)
        self._direct: passthrough.SendNow | None = None

    async def recv(self) -> av.Packet[Any]:
        return (await self.next_frame()).packet

    async def next_frame(self) -> EncodedFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame

    def offer(self, frame: EncodedFrame) -> None:
        # Nothing queued and the sender idle: send now instead of waking its task.
        direct = self._direct
        if direct is not None and not self.queue and self.queue.accepts(frame):
            try:
                sent = direct(frame)
            except Exception:
                logger.exception("direct send to %s failed", self.viewer)
                sent = False
            if sent:
                self.queue.took()
                return
        if not self.queue.offer(frame):
            self.source.request_keyframe()

    def set_direct(self, send_now: passthrough.SendNow | None) -> None:
        self._direct = send_now

    def stop(self) -> None:
        # Called by the sender when its connection closes, or by the source when it ends.
        self._direct = None
        if self.readyState == "live":
            self.queue.end()
            self.source.detach(self)
        super().stop()


@dataclass(eq=False)
class Source:
    """One published track and the viewers it fans out to."""

    source_id: str
    publisher: str
    kind: str
    receiver: RTCRtpReceiver | None  # None for a derived source (the low rendition)
    keyframe_interval: float
    viewers: set[ViewerTrack] = field(default_factory=set)
    ssrc: int | None = None
    frames: int = 0
    bytes: int = 0  # encoded bytes received, for the bitrate in /metrics
    # Other consumers of every frame (a recorder), called after the viewers' queues; and
    # callbacks for when the source ends (publisher left, room closed). Never per viewer.
    listeners: list[FrameSink] = field(default_factory=list)
    end_listeners: list[Callable[[Source], None]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _keyframes: KeyframeRequester | None = None

    def __post_init__(self) -> None:
        self._keyframes = KeyframeRequester(self.send_keyframe, self.keyframe_interval)

    @property
    def keyframe_requests_sent(self) -> int:
        return self._keyframes.sent if self._keyframes else 0

    def on_frame(self, frame: EncodedFrame) -> None:
        self.ssrc = frame.ssrc
        self.frames += 1
        self.bytes += frame.packet.size
        for viewer in tuple(self.viewers):
            viewer.offer(frame)
        for listener in tuple(self.listeners):
            listener(frame)

    def request_keyframe(self) -> None:
        if self.kind == "video" and self._keyframes is not None:
            self._keyframes.request()

    def detach(self, viewer: ViewerTrack) -> None:
        self.viewers.discard(viewer)

    def end(self) -> None:
        if self._keyframes is not None:
            self._keyframes.cancel()
        for viewer in tuple(self.viewers):
            viewer.stop()
        for task in self._tasks:
            task.cancel()
        self.listeners.clear()
        ended, self.end_listeners = self.end_listeners, []
        for callback in ended:
            callback(self)

    def send_keyframe(self) -> None:
        """Make the next frame a keyframe (rate-limited): RTCP PLI to the publisher."""
        if self.ssrc is None or self.receiver is None:
            return  # no media yet: the encoder's first frame is a keyframe anyway
        task = asyncio.ensure_future(passthrough.send_picture_loss(self.receiver, self.ssrc))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
