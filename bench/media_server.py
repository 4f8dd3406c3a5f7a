"""The media server process of `make bench-media`: the real forwarding core, tiny signalling.

It owns every server-side RTCPeerConnection through ``PeerRegistry`` and ``MediaRoom`` s and
speaks a small JSON API on 127.0.0.1, so its CPU is its own (the load process holds the
stand-in browsers). Rooms:

- ``stage``: one ``presenter`` publishes, anyone watches (full rate or the low rendition);
- ``i<k>`` (interview rooms): ``i<k>:a`` and ``i<k>:b`` publish and watch each other, nobody
  else may (the 1:1 policy).

Modes: ``forward`` (the forwarding core) or ``reencode`` (the baseline: aiortc's usual path,
the presenter's track decoded once and shared through ``MediaRelay``, every viewer's sender
re-encoding; stage only).

    python -m bench.media_server forward   # prints "READY <port>"
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from fairserver.webrtc import passthrough
from fairserver.webrtc.forwarding import MediaRoom, RoomPolicy, forward_to
from fairserver.webrtc.peers import PeerRegistry

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])
MODES = ("forward", "reencode")


class Anyone:
    """A watcher list that holds every name: the stage is public in the bench."""

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class MediaServer:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.registry = PeerRegistry(NO_ICE_SERVERS)
        self.rooms: dict[str, MediaRoom] = {}
        self.sources: dict[tuple[str, str, str], str] = {}  # (room, publisher, kind) -> id
        self.relay = MediaRelay()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.drains: list[asyncio.Task[None]] = []

    def room(self, name: str) -> MediaRoom:
        if name not in self.rooms:
            if name == "stage":
                policy = RoomPolicy(publishers={"presenter"}, watchers=Anyone())
            else:
                policy = RoomPolicy(publishers={f"{name}:a", f"{name}:b"}, watchers=())
            self.rooms[name] = MediaRoom(policy)
        return self.rooms[name]

    async def publish(self, request: web.Request) -> web.Response:
        body = await request.json()
        room, participant = self.room(body["room"]), body["participant"]
        peer = self.registry.open(participant)
        peer.on_close.append(lambda p: room.leave(p.participant))
        peer.pc.on("track", self._remote_track)
        await peer.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        for transceiver in peer.pc.getTransceivers():
            passthrough.prefer_forwardable_codecs(transceiver)
            if self.mode == "forward":
                source = room.publish(participant, transceiver.receiver, transceiver.kind)
                self.sources[body["room"], participant, transceiver.kind] = source.source_id
        await peer.pc.setLocalDescription(await peer.pc.createAnswer())
        return web.json_response(_description(peer.pc))

    def _remote_track(self, track: MediaStreamTrack) -> None:
        if self.mode != "reencode":
            return
        self.tracks[track.kind] = track
        # One consumer always drains the relay, so the decoded frames never pile up
        # while nobody watches (aiortc decodes whether or not anyone reads).
        drain = self.relay.subscribe(track, buffered=False)
        self.drains.append(asyncio.ensure_future(_drain(drain)))

    async def watch(self, request: web.Request) -> web.Response:
        """Body: room, viewer, publisher, kinds (["video", "audio"]), low (video rendition)."""
        body = await request.json()
        room, viewer = self.room(body["room"]), body["viewer"]
        peer = self.registry.open(viewer)
        peer.on_close.append(lambda p: room.leave(p.participant))
        for kind in body["kinds"]:
            if self.mode == "forward":
                source_id = self.sources[body["room"], body["publisher"], kind]
                low = body.get("low") and kind == "video"
                track = room.watch_low(viewer, source_id) if low else room.watch(viewer, source_id)
                forward_to(peer.pc, track)
            else:
                relayed = self.relay.subscribe(self.tracks[kind], buffered=False)
                transceiver = peer.pc.addTransceiver(relayed, direction="sendonly")
                passthrough.prefer_forwardable_codecs(transceiver)
        await peer.pc.setLocalDescription(await peer.pc.createOffer())
        return web.json_response({"peer_id": peer.peer_id, **_description(peer.pc)})

    async def answer(self, request: web.Request) -> web.Response:
        body = await request.json()
        peer = self.registry.get(body["peer_id"])
        if peer is None:
            return web.json_response({"error": "no such peer"}, status=404)
        await peer.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        return web.json_response({"ok": True})

    async def close(self) -> None:
        for task in self.drains:
            task.cancel()
        for room in self.rooms.values():
            room.close()
        await asyncio.wait_for(self.registry.close_all(), 20)


def _description(pc: RTCPeerConnection) -> dict[str, Any]:
    return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(Exception):
        while True:
            await track.recv()


async def serve(mode: str) -> None:
    server = MediaServer(mode)
    app = web.Application()
    app.router.add_post("/publish", server.publish)
    app.router.add_post("/watch", server.watch)
    app.router.add_post("/answer", server.answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"READY {port}", flush=True)
    await stop.wait()
    with contextlib.suppress(Exception):
        await server.close()
    await runner.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: python -m bench.media_server {{{'|'.join(MODES)}}}")
    asyncio.run(serve(sys.argv[1]))
