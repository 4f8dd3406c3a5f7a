"""Per-viewer queues and keyframe rate limits, without connections."""

from __future__ import annotations

import asyncio
import tracemalloc

import av

from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.sources import FrameQueue, KeyframeRequester


def frame(i: int, keyframe: bool = False, size: int = 1200) -> EncodedFrame:
    packet = av.Packet(i.to_bytes(4, "big") * (size // 4))
    packet.pts = i
    return EncodedFrame(packet=packet, keyframe=keyframe, ssrc=1)


async def test_a_viewer_starts_at_a_keyframe() -> None:
    queue = FrameQueue(max_queued=5)
    assert not queue.offer(frame(0))
    assert queue.offer(frame(1, keyframe=True))
    assert queue.offer(frame(2))
    assert [(await queue.get()).packet.pts for _ in range(2)] == [1, 2]  # type: ignore[union-attr]


async def test_an_overflowing_viewer_skips_to_the_next_keyframe() -> None:
    queue = FrameQueue(max_queued=3)
    for i in range(3):
        assert queue.offer(frame(i, keyframe=i == 0))
    assert not queue.offer(frame(3))  # full: the run is broken, wait for a keyframe
    assert len(queue) == 0 and queue.waiting_for_keyframe
    assert not queue.offer(frame(4))
    assert queue.offer(frame(5, keyframe=True))
    assert queue.offer(frame(6))
    got = [(await queue.get()).packet.pts for _ in range(2)]  # type: ignore[union-attr]
    assert got == [5, 6]
    assert queue.stats.overflows == 1 and queue.stats.dropped == 5


async def test_a_stalled_viewer_does_not_grow_memory() -> None:
    queue = FrameQueue(max_queued=30)
    tracemalloc.start()
    try:
        for i in range(2000):  # about a minute of 30 fps video, a keyframe every 100
            queue.offer(frame(i, keyframe=i % 100 == 0, size=4000))
            if i == 200:
                after_warm_up, _ = tracemalloc.get_traced_memory()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(queue) <= 30
    assert current - after_warm_up < 64 * 1024  # flat, while 1800 more frames passed by


async def test_an_ended_queue_wakes_its_reader() -> None:
    queue = FrameQueue(max_queued=3)
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.end()
    assert await asyncio.wait_for(reader, 1) is None


async def test_keyframe_requests_are_rate_limited_but_never_lost() -> None:
    sent: list[float] = []
    loop = asyncio.get_running_loop()
    requester = KeyframeRequester(lambda: sent.append(loop.time()), interval=0.2)
    for _ in range(10):
        requester.request()
    assert len(sent) == 1  # the first goes at once
    await asyncio.sleep(0.3)
    assert len(sent) == 2  # the other nine became one, at the end of the window
    assert sent[1] - sent[0] >= 0.19
    requester.request()
    requester.cancel()
    await asyncio.sleep(0.3)
    assert len(sent) == 2
