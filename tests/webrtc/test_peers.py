"""The registry closes every connection exactly once and leaks nothing over 200 cycles."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections import Counter

from aiortc import RTCPeerConnection

from fairserver.webrtc.peers import Peer, PeerRegistry
from tests.webrtc.media import wait_until

CYCLES = 200


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def connect(server: PeerRegistry, browsers: PeerRegistry, name: str) -> tuple[Peer, Peer]:
    """A connected pair with one audio m-line: ICE and DTLS really run."""
    browser = browsers.open(name)
    browser.pc.addTransceiver("audio", direction="sendrecv")
    peer = server.open(name)
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    await peer.pc.setRemoteDescription(browser.pc.localDescription)
    await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    await browser.pc.setRemoteDescription(peer.pc.localDescription)
    await wait_until(lambda: peer.pc.connectionState == "connected", 5, "connected")
    return peer, browser


async def settle() -> None:
    """Let aiortc's and aioice's own finishing tasks run out."""
    for _ in range(50):
        if len(asyncio.all_tasks()) <= 1:
            break
        await asyncio.sleep(0.02)
    gc.collect()


async def end_one(
    server: PeerRegistry, browsers: PeerRegistry, peer: Peer, browser: Peer, i: int
) -> None:
    """Every terminal path in turn: close, leave, remote hang-up, shutdown, double close."""
    match i % 5:
        case 0:
            await server.close(peer.peer_id)
        case 1:
            await server.close_participant(peer.participant)
        case 2:
            # The browser hangs up: DTLS close_notify makes aiortc close, then the registry.
            await browsers.close(browser.peer_id)
            await wait_until(lambda: peer.peer_id not in server, 5, "remote hang-up seen")
        case 3:
            await server.close_all()
        case _:
            await asyncio.gather(server.close(peer.peer_id), server.close(peer.peer_id))
            await server.close(peer.peer_id)
    await browsers.close(browser.peer_id)


async def test_two_hundred_cycles_return_to_baseline(
    server: PeerRegistry, browsers: PeerRegistry
) -> None:
    await connect(server, browsers, "warm-up")  # first use loads codecs and certificates
    await server.close_all()
    await browsers.close_all()
    await settle()
    baseline = (len(asyncio.all_tasks()), open_fds(), threading.active_count())
    closes: Counter[str] = Counter()

    for i in range(CYCLES):
        peer, browser = await connect(server, browsers, f"p{i}")
        peer.on_close.append(lambda p: closes.update([p.peer_id]))
        await end_one(server, browsers, peer, browser, i)
        assert peer.pc.connectionState == "closed"
    del peer, browser  # the loop's last pair must not count as a leak

    await settle()
    assert len(server) == 0 and len(browsers) == 0
    assert len(closes) == CYCLES and set(closes.values()) == {1}
    assert (len(asyncio.all_tasks()), open_fds(), threading.active_count()) == baseline
    pcs = [o for o in gc.get_objects() if isinstance(o, RTCPeerConnection)]
    assert pcs == []
