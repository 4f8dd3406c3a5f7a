"""The briefing stage end to end: a real server, real socket.io clients, and in-process
aiortc peers standing in for the presenter's and the viewers' browsers.

recruiter_a presents company A's briefing at the open fair (tests.test_socket_briefing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCConfiguration, RTCSessionDescription

from fairserver.http.kit import SOCKETS
from fairserver.rooms import stage
from fairserver.webrtc import passthrough
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.peers import Peer, PeerRegistry
from tests.factories import ROLES, World
from tests.sockets import Client, connected
from tests.test_socket_briefing import make_briefing, seated
from tests.webrtc.media import CounterVideoSource, ToneAudioSource, wait_until

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


@pytest.fixture
async def browsers() -> AsyncIterator[PeerRegistry]:
    registry = PeerRegistry(RTCConfiguration(iceServers=[]))
    yield registry
    await registry.close_all()


def registry_of(client: TestClient[Any, Any]) -> PeerRegistry:
    return stage.stage_of(client.app[SOCKETS].services).registry


async def send_offer(sock: Client, event: str, bid: int, browser: Peer) -> dict[str, Any]:
    """Full-SDP signalling, as the browser does it: gather everything, then send."""
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    offer = browser.pc.localDescription
    reply = await sock.call(event, {"briefing_id": bid, "sdp": offer.sdp, "type": offer.type})
    if reply["ok"]:
        answer = reply["data"]
        await browser.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    return reply


def presenter_browser(browsers: PeerRegistry, name: str) -> Peer:
    browser = browsers.open(name)
    camera = CounterVideoSource()
    sender = browser.pc.addTransceiver(camera, direction="sendonly").sender
    passthrough.on_keyframe_request(sender, camera.want_keyframe)
    browser.pc.addTransceiver(ToneAudioSource(), direction="sendonly")
    return browser


def viewer_browser(browsers: PeerRegistry, name: str) -> tuple[Peer, dict[str, list[EncodedFrame]]]:
    browser = browsers.open(name)
    received: dict[str, list[EncodedFrame]] = {"video": [], "audio": []}
    for kind in ("video", "audio"):
        receiver = browser.pc.addTransceiver(kind, direction="recvonly").receiver
        passthrough.tap_receiver(receiver, kind, received[kind].append)
    return browser, received


def ok(reply: dict[str, Any]) -> Any:
    assert reply["ok"], reply
    return reply["data"]


def code(reply: dict[str, Any]) -> str:
    return "ok" if reply["ok"] else str(reply["error"]["code"])


@asynccontextmanager
async def live_presenter(
    client: TestClient[Any, Any], world: World, bid: int, browsers: PeerRegistry
) -> AsyncIterator[Client]:
    async with seated(client, world, "recruiter_a", bid) as (sock, _):
        ok(await send_offer(sock, "media.publish", bid, presenter_browser(browsers, "pres")))
        yield sock


async def test_a_presenter_goes_live_and_two_viewers_receive_frames(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with (
        seated(client, world, "student_a", bid) as (alice, _),
        seated(client, world, "student_b", bid) as (bob, _),
    ):
        not_live = await send_offer(alice, "media.watch", bid, viewer_browser(browsers, "x")[0])
        assert code(not_live) == "media.not_live"
        assert ok(await alice.call("media.state", {"briefing_id": bid}))["live"] is False
        async with live_presenter(client, world, bid, browsers):
            event = await alice.wait_for("media.live", lambda e: e["live"])
            assert event["publishers"][0]["user_id"] == world.users["recruiter_a"]
            streams = []
            for sock, name in ((alice, "alice"), (bob, "bob")):
                browser, received = viewer_browser(browsers, name)
                data = ok(await send_offer(sock, "media.watch", bid, browser))
                assert data["live"] is True and data["type"] == "answer"
                streams.append(received)
            await wait_until(
                lambda: all(len(r["video"]) >= 10 and r["audio"] for r in streams), 10, "frames"
            )
            assert all(r["video"][0].keyframe for r in streams)
            assert len(registry_of(client)) == 3
            ok(await bob.call("media.unwatch", {"briefing_id": bid}))
            assert len(registry_of(client)) == 2
        # The presenter's disconnect closes their peer and the viewers'; everyone hears.
        ended = await alice.wait_for("media.live", lambda e: not e["live"])
        assert ended["publishers"] == []
        await wait_until(lambda: len(registry_of(client)) == 0, 5, "every peer closed")


async def test_third_parties_are_refused_and_leaving_closes_the_peer(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with live_presenter(client, world, bid, browsers):
        async with seated(client, world, "student_a", bid) as (alice, _):
            # A seated student is no presenter: not found, and no peer is left behind.
            refused = await send_offer(
                alice, "media.publish", bid, presenter_browser(browsers, "a")
            )
            assert code(refused) == "not_found"
            assert len(registry_of(client)) == 1
            watching = await send_offer(alice, "media.watch", bid, viewer_browser(browsers, "b")[0])
            ok(watching)
            assert len(registry_of(client)) == 2
            # Leaving the briefing closes the viewer's peer within the seat check.
            ok(await alice.call("briefing.leave", {"briefing_id": bid}))
            await wait_until(lambda: len(registry_of(client)) == 1, 3, "viewer peer closed")
        async with connected(client, world, "student_b") as bob:
            ok(await bob.call("fair.join", {"fair": "open"}))  # but not the briefing
            unseated = await send_offer(bob, "media.watch", bid, viewer_browser(browsers, "c")[0])
            assert code(unseated) == "not_found"
            too_big = await bob.call(
                "media.watch", {"briefing_id": bid, "sdp": "v" * 40000, "type": "offer"}
            )
            assert code(too_big) == "request.invalid"
    await wait_until(lambda: len(registry_of(client)) == 0, 5, "every peer closed")


async def test_a_bad_offer_is_an_error_and_leaves_no_peer(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "recruiter_a", bid) as (sock, _):
        reply = await sock.call(
            "media.publish", {"briefing_id": bid, "sdp": "v=0", "type": "offer"}
        )
        assert code(reply) == "media.bad_offer"
        answer = await sock.call(
            "media.publish", {"briefing_id": bid, "sdp": "v=0", "type": "answer"}
        )
        assert code(answer) == "request.invalid"
    assert len(registry_of(client)) == 0


# Every media.* event for every role -------------------------------------------------------

PRESENTERS = {"recruiter_a"}


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


EVERYONE = set(SIGNED_IN)
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "media.state": _row(EVERYONE),
    "media.watch": _row(EVERYONE),
    "media.unwatch": _row(EVERYONE),
    "media.publish": _row(PRESENTERS),
    "media.unpublish": _row(PRESENTERS),
}


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_media_event_decisions(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry, role: str
) -> None:
    bid = await make_briefing(client, world)
    async with (
        live_presenter(client, world, bid, browsers),
        seated(client, world, role, bid) as (
            sock,
            _,
        ),
    ):
        b = {"briefing_id": bid}
        seen = {
            "media.state": code(await sock.call("media.state", b)),
            "media.watch": code(
                await send_offer(sock, "media.watch", bid, viewer_browser(browsers, "v")[0])
            ),
            "media.unwatch": code(await sock.call("media.unwatch", b)),
            "media.publish": code(
                await send_offer(sock, "media.publish", bid, presenter_browser(browsers, "p"))
            ),
            "media.unpublish": code(await sock.call("media.unpublish", b)),
        }
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)
    await wait_until(lambda: len(registry_of(client)) == 0, 5, "every peer closed")
