"""The low-bandwidth rendition: one decode and one encode per watched video source.

Low-mode viewers of a source share one ``Rendition``: it watches the source like any viewer
(a bounded input queue that skips to the publisher's next keyframe when the rendition falls
behind), decodes the publisher's VP8, scales it to fit 320x180 (keeping the aspect, never
upscaling), drops to at most 15 fps and encodes VP8 at about 150 kbps with libvpx's realtime
settings. The encoded packets feed a ``RenditionSource``, which fans out to its viewers
through the usual ``ViewerTrack`` / ``FrameQueue``, so a slow low viewer skips to the
rendition's next keyframe exactly as a full-rate viewer does.

All codec work runs on the rendition's single worker thread (PyAV releases the GIL inside
libavcodec and swscale); the event loop only moves packets. A low viewer's keyframe request
(join, PLI/FIR, overflow) makes the rendition's next encoded frame a keyframe; the publisher
is asked for one (PLI) only when the decoder needs it: on start, after the input queue
overflowed, or after a frame failed to decode. The room starts a rendition on its first low
viewer and stops it, releasing thread and codec contexts, when its last low viewer leaves or
the source ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import av
from av.video.reformatter import Interpolation, VideoReformatter

from fairserver.webrtc.passthrough import VIDEO_TIME_BASE, EncodedFrame, PictureIds
from fairserver.webrtc.sources import Source, ViewerTrack

LOW_BOX = (320, 180)  # landscape box; a portrait source fits the transposed box
LOW_FPS = 15
LOW_BITRATE = 150_000
# Frames waiting for the worker: half a second at 30 fps. Beyond that the rendition is
# behind, and catching up means skipping to the publisher's next keyframe (which every
# full-rate viewer then receives too, so a short hiccup should not cause one).
INPUT_QUEUE = 15
TICKS = 90_000  # RTP video clock
WRAP = 1 << 32  # RTP timestamps are 32-bit

logger = logging.getLogger(__name__)

_codecs_lock = threading.Lock()
_codecs: Counter[str] = Counter()


def open_codecs() -> dict[str, int]:
    """Codec contexts the renditions of this process hold right now, by role."""
    with _codecs_lock:
        return {role: count for role, count in _codecs.items() if count}


def _count(role: str, delta: int) -> None:
    with _codecs_lock:
        _codecs[role] += delta


def low_size(width: int, height: int, box: tuple[int, int] = LOW_BOX) -> tuple[int, int]:
    """The largest even size within ``box`` (turned to match the source) with its aspect."""
    long_side, short_side = box
    scale = min(1.0, long_side / max(width, height), short_side / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


@dataclass(slots=True)
class Transcoded:
    packets: list[av.Packet[Any]] = field(default_factory=list)
    decoder_lost: bool = False  # the decoder needs a keyframe from the publisher


class Transcoder:
    """Decoder, scaler and encoder of one rendition; used only on its worker thread."""

    def __init__(self, fps: int = LOW_FPS, bitrate: int = LOW_BITRATE) -> None:
        self._interval = TICKS // fps
        self._bitrate = bitrate
        self._decoder: Any = av.CodecContext.create("vp8", "r")
        self._decoder.thread_count = 1  # the rendition's thread is the only one
        _count("decoder", 1)
        self._encoder: Any = None
        self._scaler = VideoReformatter()
        self._origin: int | None = None  # first RTP timestamp; encoder pts count from it
        self._last_raw = 0
        self._pts = 0
        self._next_due = 0
        self._keyframe_pending = False
        self.closed = False

    def transcode(self, packet: av.Packet[Any], want_keyframe: bool) -> Transcoded:
        """Decode ``packet`` (RTP-timestamped) and encode its picture if one is due."""
        self._keyframe_pending |= want_keyframe
        result = Transcoded()
        if self.closed:
            return result
        raw = int(packet.pts or 0) % WRAP
        try:
            pictures = self._decoder.decode(packet)
        except av.error.FFmpegError:
            result.decoder_lost = True
            return result
        for picture in pictures:
            if self._due(raw):
                result.packets.extend(self._encode(picture, raw))
        return result

    def _due(self, raw: int) -> bool:
        """Advance the unwrapped clock to ``raw``; True when this picture keeps ≤ fps."""
        if self._origin is None:
            self._origin, self._last_raw = raw, raw
            self._next_due = self._interval
            return True
        step = (raw - self._last_raw) % WRAP
        if step == 0 or step >= WRAP // 2:
            return False  # a repeated or older timestamp: the encoder needs rising pts
        self._last_raw = raw
        self._pts += step
        if self._pts < self._next_due - self._interval // 4:
            return False
        # Keep the cadence (a picture a little early still counts), but after a gap restart
        # it from this picture rather than catching up.
        self._next_due += self._interval
        if self._next_due <= self._pts:
            self._next_due = self._pts + self._interval
        return True

    def _encode(self, picture: av.VideoFrame, raw: int) -> list[av.Packet[Any]]:
        width, height = low_size(picture.width, picture.height)
        if self._encoder is None or (self._encoder.width, self._encoder.height) != (width, height):
            self._open_encoder(width, height)  # a new encoder starts with a keyframe
        small = self._scaler.reformat(
            picture,
            width=width,
            height=height,
            format="yuv420p",
            interpolation=Interpolation.FAST_BILINEAR,
        )
        small.pts, small.time_base = self._pts, VIDEO_TIME_BASE
        if self._keyframe_pending:
            self._keyframe_pending = False
            small.pict_type = av.video.frame.PictureType.I
        packets: list[av.Packet[Any]] = self._encoder.encode(small)
        for packet in packets:
            # The publisher's RTP timestamp: each viewer's sender adds its own origin.
            packet.pts, packet.time_base = raw, VIDEO_TIME_BASE
        return packets

    def _open_encoder(self, width: int, height: int) -> None:
        if self._encoder is None:
            _count("encoder", 1)
        encoder: Any = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuv420p"
        encoder.bit_rate = self._bitrate
        encoder.time_base = VIDEO_TIME_BASE
        encoder.framerate = fractions.Fraction(TICKS, self._interval)
        encoder.gop_size = 3000  # keyframes on request, as aiortc and browsers do
        encoder.thread_count = 1
        rate = str(self._bitrate)
        encoder.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "static-thresh": "1",
            # CBR with a one-second buffer, like aiortc's own VP8 encoder.
            "minrate": rate,
            "maxrate": rate,
            "bufsize": rate,
            "undershoot-pct": "100",
            "overshoot-pct": "15",
        }
        self._encoder = encoder

    def close(self) -> None:
        """Free the codec contexts (run on the worker thread, after any frame in flight)."""
        if self.closed:
            return
        self.closed = True
        self._decoder = None
        _count("decoder", -1)
        if self._encoder is not None:
            self._encoder = None
            _count("encoder", -1)


class RenditionSource(Source):
    """The rendition's output: fans out like a published source, but has no receiver."""

    def __init__(self, rendition: Rendition, upstream: Source) -> None:
        super().__init__(
            source_id=f"{upstream.source_id}/low",
            publisher=upstream.publisher,
            kind="video",
            receiver=None,
            keyframe_interval=upstream.keyframe_interval,
        )
        self.rendition = rendition

    def send_keyframe(self) -> None:
        self.rendition.want_keyframe()

    def detach(self, viewer: ViewerTrack) -> None:
        super().detach(viewer)
        if not self.viewers:
            self.rendition.stop()


class RenditionInput(ViewerTrack):
    """The rendition's place among the source's viewers; never put on a connection."""

    counts_as_viewer = False

    def __init__(self, rendition: Rendition, source: Source) -> None:
        super().__init__(source, f"{source.source_id}#rendition", INPUT_QUEUE)
        self.rendition = rendition

    def stop(self) -> None:
        super().stop()
        self.rendition.stop()  # the source ended, or the rendition stops itself


class Rendition:
    """One low-rate rendition of ``source``, shared by all its low viewers."""

    def __init__(self, source: Source, on_stop: Callable[[], object] | None = None) -> None:
        self.source = source
        self.output = RenditionSource(self, source)
        self.stopped = False
        self.frames_in = 0
        self.frames_out = 0
        self.keyframes_out = 0
        self.decoder_losses = 0
        self._on_stop = on_stop
        self._keyframe_wanted = True
        self._transcoder = Transcoder()
        self._picture_ids = PictureIds()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"rendition {source.source_id}")
        self.input = RenditionInput(self, source)
        source.viewers.add(self.input)
        source.request_keyframe()  # the decoder starts at a keyframe
        self._task = asyncio.ensure_future(self._run())

    def watch(self, viewer: str, max_queued: int) -> ViewerTrack:
        """A track of this rendition for ``viewer``; it starts at the next keyframe."""
        track = ViewerTrack(self.output, viewer, max_queued)
        self.output.viewers.add(track)
        self.output.request_keyframe()
        return track

    def leave(self, participant: str) -> None:
        for track in tuple(self.output.viewers):
            if track.viewer == participant:
                track.stop()

    def want_keyframe(self) -> None:
        self._keyframe_wanted = True

    def stop(self) -> None:
        """Idempotent: end the low viewers, leave the source, free the codecs."""
        if self.stopped:
            return
        self.stopped = True
        self.input.stop()
        self.output.end()
        if self._task is not asyncio.current_task():
            self._task.cancel()
        # Runs after any frame still in flight; then the worker thread exits.
        self._worker.submit(self._transcoder.close)
        self._worker.shutdown(wait=False)
        if self._on_stop is not None:
            self._on_stop()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (frame := await self.input.queue.get()) is not None and not self.stopped:
                self.frames_in += 1
                wanted, self._keyframe_wanted = self._keyframe_wanted, False
                result = await loop.run_in_executor(
                    self._worker, self._transcoder.transcode, frame.packet, wanted
                )
                if self.stopped:
                    return
                self._deliver(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("rendition of %s failed", self.source.source_id)
        with contextlib.suppress(Exception):
            self.stop()

    def _deliver(self, result: Transcoded) -> None:
        if result.decoder_lost:
            # Only the decoder's own need reaches the publisher.
            self.decoder_losses += 1
            self.input.queue.waiting_for_keyframe = True
            self.source.request_keyframe()
        for packet in result.packets:
            self.frames_out += 1
            self.keyframes_out += packet.is_keyframe
            self.output.on_frame(
                EncodedFrame(packet, packet.is_keyframe, 0, picture_id=self._picture_ids.take())
            )
