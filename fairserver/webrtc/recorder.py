"""Recording a room's published tracks to WebM by remuxing their encoded frames.

A ``Recorder`` listens to ``Source`` s of a ``MediaRoom`` (``Source.listeners``) and writes
the publishers' VP8 and Opus frames into one WebM file as they are: no decoding, no
encoding, and no work per viewer. On the event loop it only copies each frame's bytes and
turns its RTP timestamp into a pts; a writer thread of its own muxes with PyAV, so disk
I/O never blocks the loop.

- Timestamps: each track's RTP clock (VP8 1/90000, Opus 1/48000) is unwrapped and rebased
  to the recording's start using the arrival time of the track's first frame, which keeps
  audio and video in step to within network jitter. Pts only ever increase per track.
- Video starts at a keyframe (one is requested at start); the stream's width and height
  come from that keyframe's header (RFC 6386 §9.1). Resolution changes later on are
  in-band VP8 keyframes, which players follow.
- The file header needs every track's shape, so the writer begins once every video source
  has sent a keyframe, or ``begin_after`` seconds after start with those that did.
- Memory is bounded: the queue between loop and writer holds at most ``max_queued_frames``
  frames and ``max_queued_bytes`` bytes. On overflow the queue is emptied and video
  resumes at the next keyframe (requested), as a stalled viewer does.
- Opus in WebM needs an OpusHead (CodecPrivate) that browsers insist on. PyAV 18 cannot
  set extradata on a codec-less stream, so the audio stream is given a libopus *encoder*
  context, which PyAV opens when writing the header (filling in a standard OpusHead);
  it never encodes anything.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

from fairserver.webrtc.passthrough import EncodedFrame, is_vp8_keyframe
from fairserver.webrtc.sources import Source

CLOCK_RATES = {"video": 90000, "audio": 48000}
DEFAULT_MAX_QUEUED_FRAMES = 3000  # about 20 s of 30 fps video with its Opus
DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024
DEFAULT_BEGIN_AFTER = 3.0

log = logging.getLogger(__name__)


def vp8_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe's header (the low 14 bits; 2 are scaling)."""
    if not is_vp8_keyframe(data):
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


class RtpTimeline:
    """One track's RTP timestamps as increasing pts from the recording's start."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._last_rtp: int | None = None
        self._base = 0
        self._extended = 0
        self._last_pts = -1

    def pts(self, rtp: int, arrival: float, origin: float) -> int:
        if self._last_rtp is None:
            self._base = max(0, round((arrival - origin) * self.rate))
        else:
            delta = (rtp - self._last_rtp) & 0xFFFFFFFF
            self._extended += delta - (1 << 32) if delta >= 1 << 31 else delta
        self._last_rtp = rtp
        pts = max(self._base + self._extended, self._last_pts + 1)
        self._last_pts = pts
        return pts


@dataclass(slots=True)
class _Item:
    track: int
    data: bytes
    pts: int  # in 1 / the track's clock rate
    keyframe: bool


@dataclass(eq=False)
class _Track:
    index: int
    source: Source
    timeline: RtpTimeline
    dimensions: tuple[int, int] | None = None
    waiting_for_keyframe: bool = True


@dataclass
class RecorderStats:
    written: int = 0
    dropped: int = 0
    overflows: int = 0
    peak_frames: int = 0
    peak_bytes: int = 0


@dataclass(frozen=True)
class RecordingResult:
    bytes: int
    ok: bool
    error: str | None = None


@dataclass
class _Queue:
    items: deque[_Item] = field(default_factory=deque)
    size: int = 0


class Recorder:
    """Remuxes ``sources`` into a WebM file at ``path`` until ``stop()``."""

    def __init__(
        self,
        path: Path,
        sources: Sequence[Source],
        *,
        max_queued_frames: int = DEFAULT_MAX_QUEUED_FRAMES,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
        begin_after: float = DEFAULT_BEGIN_AFTER,
    ) -> None:
        if not sources:
            raise ValueError("nothing to record")
        self.path = path
        self.stats = RecorderStats()
        self._tracks = [
            _Track(i, s, RtpTimeline(CLOCK_RATES[s.kind]), waiting_for_keyframe=s.kind == "video")
            for i, s in enumerate(sources)
        ]
        self._listeners: list[tuple[Source, Callable[[EncodedFrame], None]]] = []
        self._max_frames = max_queued_frames
        self._max_bytes = max_queued_bytes
        self._begin_after = begin_after
        self._queue = _Queue()
        self._cond = threading.Condition()
        self._layout: list[_Track] | None = None  # set once: the tracks in the file
        self._stopping = False
        self._origin = 0.0
        self._begin_timer: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._done: asyncio.Future[RecordingResult] | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self._done is not None and not self._done.done()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._origin = time.monotonic()
        self._done = loop.create_future()
        for track in self._tracks:
            listener = self._listener(track)
            track.source.listeners.append(listener)
            self._listeners.append((track.source, listener))
            track.source.request_keyframe()
        self._begin_timer = loop.call_later(self._begin_after, self._begin)
        self._thread = threading.Thread(
            target=self._write_all, args=(loop,), name=f"recorder {self.path.name}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> RecordingResult:
        """Stops listening, writes what is queued and the file's index; idempotent."""
        if self._done is None:
            raise RuntimeError("the recorder was never started")
        if not self._stopping:
            self._stopping = True
            for source, listener in self._listeners:
                if listener in source.listeners:
                    source.listeners.remove(listener)
            self._begin()
            with self._cond:
                self._cond.notify_all()
        return await asyncio.shield(self._done)

    def done(self) -> asyncio.Future[RecordingResult]:
        """Resolves when the file is closed: after stop(), or early when writing failed."""
        if self._done is None:
            raise RuntimeError("the recorder was never started")
        return self._done

    # Event loop side ------------------------------------------------------------------

    def _listener(self, track: _Track) -> Callable[[EncodedFrame], None]:
        return lambda frame: self._on_frame(track, frame)

    def _on_frame(self, track: _Track, frame: EncodedFrame) -> None:
        if self._stopping or self.error is not None:
            return
        if track.waiting_for_keyframe:
            dimensions = vp8_dimensions(frame.data) if frame.keyframe else None
            if dimensions is None:
                self.stats.dropped += 1
                return
            track.waiting_for_keyframe = False
            if track.dimensions is None:
                track.dimensions = dimensions
                if all(t.dimensions for t in self._tracks if t.source.kind == "video"):
                    self._begin()
        if self._layout is not None and track not in self._layout:
            return
        assert frame.packet.pts is not None
        pts = track.timeline.pts(frame.packet.pts, time.monotonic(), self._origin)
        data = bytes(frame.packet)
        with self._cond:
            queue = self._queue
            if len(queue.items) >= self._max_frames or queue.size + len(data) > self._max_bytes:
                queue = self._overflow()
                if track.source.kind == "video":
                    if not frame.keyframe:
                        self.stats.dropped += 1
                        return
                    track.waiting_for_keyframe = False
            queue.items.append(_Item(track.index, data, pts, frame.keyframe))
            queue.size += len(data)
            self.stats.peak_frames = max(self.stats.peak_frames, len(queue.items))
            self.stats.peak_bytes = max(self.stats.peak_bytes, queue.size)
            self._cond.notify()

    def _overflow(self) -> _Queue:
        """The writer fell behind: drop what waits and resume video at a keyframe."""
        self.stats.overflows += 1
        self.stats.dropped += len(self._queue.items)
        self._queue = _Queue()
        for track in self._tracks:
            if track.source.kind == "video":
                track.waiting_for_keyframe = True
                track.source.request_keyframe()
        return self._queue

    def _begin(self) -> None:
        """Fixes the file's tracks: audio, and video that has shown its size."""
        if self._begin_timer is not None:
            self._begin_timer.cancel()
            self._begin_timer = None
        with self._cond:
            if self._layout is None:
                self._layout = [t for t in self._tracks if t.source.kind != "video" or t.dimensions]
                self._cond.notify_all()

    # Writer thread --------------------------------------------------------------------

    def _next(self) -> _Item | None:
        """The next frame to write, once the layout is fixed; None when stopped and empty."""
        with self._cond:
            while True:
                if self._layout is not None and self._queue.items:
                    item = self._queue.items.popleft()
                    self._queue.size -= len(item.data)
                    return item
                if self._stopping:  # stop() fixed the layout first: the queue is drained
                    return None
                self._cond.wait()

    def _write_all(self, loop: asyncio.AbstractEventLoop) -> None:
        container: Any = None
        streams: dict[int, tuple[Any, fractions.Fraction]] = {}
        try:
            while (item := self._next()) is not None:
                if container is None:
                    container, streams = self._open()
                stream = streams.get(item.track)
                if stream is not None:
                    self._write_packet(container, stream, item)
        except Exception as exc:
            log.exception("recording %s failed", self.path.name)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if container is not None:
                try:
                    container.close()
                except Exception as exc:
                    log.exception("closing recording %s failed", self.path.name)
                    self.error = self.error or f"{type(exc).__name__}: {exc}"
        size = self.path.stat().st_size if self.path.exists() else 0
        result = RecordingResult(
            bytes=size, ok=self.error is None and self.stats.written > 0, error=self.error
        )
        try:
            loop.call_soon_threadsafe(self._finish, result)
        except RuntimeError:  # the loop is gone (interpreter shutdown): nobody waits
            pass

    def _finish(self, result: RecordingResult) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(result)

    def _open(self) -> tuple[Any, dict[int, tuple[Any, fractions.Fraction]]]:
        assert self._layout is not None
        container = av.open(str(self.path), "w", format="webm")
        streams: dict[int, tuple[Any, fractions.Fraction]] = {}
        for track in self._layout:
            if track.source.kind == "video":
                assert track.dimensions is not None
                width, height = track.dimensions
                stream: Any = container.add_mux_stream("vp8", width=width, height=height)
            else:
                stream = container.add_stream("libopus", rate=48000)
            # The muxer picks its own time base (1 ms for WebM) when writing the header.
            time_base = fractions.Fraction(1, track.timeline.rate)
            stream.time_base = time_base
            streams[track.index] = (stream, time_base)
        return container, streams

    def _write_packet(
        self, container: Any, stream: tuple[Any, fractions.Fraction], item: _Item
    ) -> None:
        packet = av.Packet(item.data)
        packet.stream, packet.time_base = stream
        packet.pts = packet.dts = item.pts
        packet.is_keyframe = item.keyframe
        container.mux_one(packet)
        self.stats.written += 1


def is_playable(path: Path) -> bool:
    """A WebM cut short by a crash has no index, but its header and clusters still play."""
    try:
        with av.open(str(path)) as container:
            return any(s.type in {"video", "audio"} for s in container.streams)
    except Exception:
        return False
