"""The load side of `make bench-media`: stand-in browsers and the server process's CPU.

Viewers that only count never decode: their receivers are tapped with the pass-through
adapter. Latency viewers decode like a browser (aiortc's own receiver and decoder thread)
and read the capture time back from each picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench.common import cpu_seconds, percentile, rss_bytes
from bench.media_source import STAMP_BITS, monotonic_ms, read_stamp
from fairserver.webrtc import passthrough
from fairserver.webrtc.passthrough import EncodedFrame

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])
SETTLE_SECONDS = 3.0
JOIN_TIMEOUT = 30.0
JOIN_CONCURRENCY = 4
BOTH = ("video", "audio")


@dataclass
class ViewerTally:
    joined: float
    first_frame: float | None = None
    frames: dict[str, int] = field(default_factory=lambda: {"video": 0, "audio": 0})
    video_bytes: int = 0

    def sink(self, kind: str) -> passthrough.FrameSink:
        def count(frame: EncodedFrame) -> None:
            self.frames[kind] += 1
            if kind == "video":
                self.video_bytes += frame.packet.size
                if self.first_frame is None:
                    self.first_frame = time.monotonic()

        return count


@dataclass
class LatencyTally:
    """Capture-to-decoded delays (ms) seen by one decoding viewer."""

    samples: list[float] = field(default_factory=list)
    unreadable: int = 0
    size: tuple[int, int] = (0, 0)
    recording: bool = False

    async def read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame: Any = await track.recv()
                if not self.recording:
                    continue
                stamp = read_stamp(frame)
                self.size = (frame.width, frame.height)
                if stamp is None:
                    self.unreadable += 1
                else:
                    self.samples.append((monotonic_ms() - stamp) % (1 << STAMP_BITS))


@dataclass
class Row:
    mode: str
    viewers: int
    cpu_percent: float
    rss: int
    load_cpu_percent: float
    video_fps: float
    video_kbps: float
    failed: int


@dataclass
class Load:
    url: str
    session: aiohttp.ClientSession
    pcs: list[RTCPeerConnection] = field(default_factory=list)
    viewers: list[ViewerTally] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    failed: int = 0

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(self.url + path, json=body) as response:
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def publish(
        self,
        video: MediaStreamTrack,
        audio: MediaStreamTrack | None,
        room: str = "stage",
        participant: str = "presenter",
    ) -> None:
        pc = RTCPeerConnection(NO_ICE_SERVERS)
        self.pcs.append(pc)
        sender = pc.addTransceiver(video, direction="sendonly").sender
        passthrough.on_keyframe_request(sender, getattr(video, "want_keyframe"))  # noqa: B009
        if audio is not None:
            pc.addTransceiver(audio, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.post(
            "/publish", {"room": room, "participant": participant, **_description(pc)}
        )
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    async def _viewer_pc(self, watch: dict[str, Any]) -> tuple[RTCPeerConnection, str]:
        pc = RTCPeerConnection(NO_ICE_SERVERS)
        self.pcs.append(pc)
        offer = await self.post("/watch", watch)
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        return pc, offer["peer_id"]

    async def join(
        self,
        name: str,
        *,
        room: str = "stage",
        publisher: str = "presenter",
        kinds: Sequence[str] = BOTH,
        low: bool = False,
    ) -> None:
        """A counting viewer; returns once its first video frame arrived."""
        tally = ViewerTally(joined=time.monotonic())
        watch = {"room": room, "viewer": name, "publisher": publisher, "kinds": list(kinds)}
        pc, peer_id = await self._viewer_pc({**watch, "low": low})
        for transceiver in pc.getTransceivers():
            kind = transceiver.kind
            passthrough.tap_receiver(transceiver.receiver, kind, tally.sink(kind))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.post("/answer", {"peer_id": peer_id, **_description(pc)})
        self.viewers.append(tally)
        while tally.first_frame is None:
            await asyncio.sleep(0.01)

    async def join_decoding(self, name: str, *, low: bool) -> LatencyTally:
        """A viewer that decodes video like a browser and reads each picture's stamp."""
        watch = {"room": "stage", "viewer": name, "publisher": "presenter", "kinds": ["video"]}
        pc, peer_id = await self._viewer_pc({**watch, "low": low})
        tally = LatencyTally()
        track = pc.getTransceivers()[0].receiver.track
        self.readers.append(asyncio.ensure_future(tally.read(track)))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.post("/answer", {"peer_id": peer_id, **_description(pc)})
        return tally

    async def grow_to(self, total: int, prefix: str = "viewer", *, low: bool = False) -> None:
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)

        async def one(index: int) -> None:
            async with gate:
                try:
                    await asyncio.wait_for(self.join(f"{prefix}{index}", low=low), JOIN_TIMEOUT)
                except Exception as error:  # a failed join is counted, not fatal
                    print(f"  {prefix}{index} failed: {error!r}", file=sys.stderr)
                    self.failed += 1

        start = len(self.viewers) + self.failed
        await asyncio.gather(*(one(i) for i in range(start, total)))

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.wait_for(
            asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True), 30
        )


async def start_server(mode: str) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.media_server", mode, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if not line.startswith(b"READY "):
        raise RuntimeError(f"media server did not start: {line!r}")
    return process, int(line.split()[1])


async def stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 25)
        except TimeoutError:
            process.kill()
            await asyncio.wait_for(process.wait(), 5)


@contextlib.asynccontextmanager
async def server_and_load(mode: str) -> Any:
    """A fresh server process and a load bound to it; both torn down, whatever happens."""
    process, port = await start_server(mode)
    try:
        async with aiohttp.ClientSession() as session:
            load = Load(url=f"http://127.0.0.1:{port}", session=session)
            try:
                yield process, load
            finally:
                with contextlib.suppress(Exception):
                    await load.close()
    finally:
        await stop_server(process)


async def measure(load: Load, mode: str, pid: int, seconds: float, count: int) -> Row:
    """Server CPU and memory over ``seconds`` after settling; ``count`` names the step."""
    await asyncio.sleep(SETTLE_SECONDS)
    frames = [v.frames["video"] for v in load.viewers]
    sizes = [v.video_bytes for v in load.viewers]
    server0, load0, wall0 = cpu_seconds(pid), cpu_seconds(os.getpid()), time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - wall0
    fps = [(v.frames["video"] - f) / wall for v, f in zip(load.viewers, frames, strict=True)]
    kbps = [(v.video_bytes - b) * 8 / wall / 1000 for v, b in zip(load.viewers, sizes, strict=True)]
    return Row(
        mode=mode,
        viewers=count,
        cpu_percent=100 * (cpu_seconds(pid) - server0) / wall,
        rss=rss_bytes(pid),
        load_cpu_percent=100 * (cpu_seconds(os.getpid()) - load0) / wall,
        video_fps=percentile(fps, 0.5) if fps else 0.0,
        video_kbps=percentile(kbps, 0.5) if kbps else 0.0,
        failed=load.failed,
    )


def _description(pc: RTCPeerConnection) -> dict[str, Any]:
    return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}
