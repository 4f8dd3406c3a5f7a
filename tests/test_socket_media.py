"""The briefing stage end to end: a real server, real socket.io clients, and in-process
aiortc peers standing in for the presenter's and the viewers' browsers.

recruiter_a presents company A's briefing at the open fair (tests.test_socket_briefing);
co-presenter tests add recruiter_b as a second presenter of that briefing.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import av
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription

from fairserver.keys import DB, SOCKETS
from fairserver.rooms.briefings import stage
from fairserver.store import briefings as briefing_store
from fairserver.store import tables as t
from fairserver.store.briefings import NewBriefing
from fairserver.webrtc import passthrough
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.peers import Peer, PeerRegistry
from tests.factories import ROLES, World
from tests.sockets import Client, connected
from tests.test_socket_briefing import make_briefing, seated
from tests.webrtc.media import camera_browser as presenter_browser
from tests.webrtc.media import viewer_browser, wait_until

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


def registry_of(client: TestClient[Any, Any]) -> PeerRegistry:
    return client.app[SOCKETS].services.stage.registry


async def send_offer(
    sock: Client, event: str, bid: int, browser: Peer, **extra: Any
) -> dict[str, Any]:
    """Full-SDP signalling, as the browser does it: gather everything, then send."""
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    offer = browser.pc.localDescription
    payload = {"briefing_id": bid, "sdp": offer.sdp, "type": offer.type, **extra}
    reply = await sock.call(event, payload)
    if reply["ok"]:
        answer = reply["data"]
        await browser.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    return reply


def grid_browser(
    browsers: PeerRegistry, name: str, publishers: int, video: bool = True
) -> tuple[Peer, dict[str, list[EncodedFrame]]]:
    """A viewer's offer as stage.js makes it: the videos first, then the audios; frames
    are recorded per mid."""
    browser = browsers.open(name)
    received: dict[str, list[EncodedFrame]] = {}
    kinds = (["video"] * publishers if video else []) + ["audio"] * publishers
    for index, kind in enumerate(kinds):
        transceiver = browser.pc.addTransceiver(kind, direction="recvonly")
        received[str(index)] = frames = []  # aiortc's offer numbers the mids 0, 1, ...
        passthrough.tap_receiver(transceiver.receiver, kind, frames.append)
    return browser, received


async def two_presenter_briefing(client: TestClient[Any, Any], world: World) -> int:
    async with client.app[DB].begin() as conn:
        fair = (await conn.execute(sa.select(t.fairs).where(t.fairs.c.id == world.open_fair))).one()
        return await briefing_store.insert_briefing(
            conn,
            world.open_fair,
            NewBriefing(
                company_id=world.company_a,
                title="Panel briefing",
                starts_at=fair.starts_at,
                ends_at=fair.starts_at + timedelta(hours=1),
            ),
            [world.users["recruiter_a"], world.users["recruiter_b"]],
        )


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


async def test_a_lost_seat_closes_the_peers_before_the_ack(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    # Seat loss is an event (stage.seat_lost), not a poll: nothing is left to wait for.
    bid = await make_briefing(client, world)
    async with live_presenter(client, world, bid, browsers) as pres:
        async with seated(client, world, "student_a", bid) as (alice, _):
            ok(await send_offer(alice, "media.watch", bid, viewer_browser(browsers, "v")[0]))
            assert len(registry_of(client)) == 2
            ok(await alice.call("briefing.leave", {"briefing_id": bid}))
            assert len(registry_of(client)) == 1
        ok(await pres.call("briefing.leave", {"briefing_id": bid}))
        assert len(registry_of(client)) == 0
        assert client.app[SOCKETS].services.stage.rooms == {}


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


def stage_room(client: TestClient[Any, Any], bid: int) -> stage.StageRoom:
    return client.app[SOCKETS].services.stage.rooms[bid]


async def test_an_unknown_watch_mode_is_refused_and_leaves_no_peer(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with (
        live_presenter(client, world, bid, browsers),
        seated(client, world, "student_a", bid) as (alice, _),
    ):
        browser = viewer_browser(browsers, "v")[0]
        assert code(await send_offer(alice, "media.watch", bid, browser, mode="hd")) == (
            "request.invalid"
        )
        assert len(registry_of(client)) == 1


async def test_audio_only_forwards_the_sound_and_no_video(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with (
        live_presenter(client, world, bid, browsers),
        seated(client, world, "student_a", bid) as (alice, _),
    ):
        # Even an offer with a video m-line gets no video in audio mode.
        browser, received = viewer_browser(browsers, "v")
        data = ok(await send_offer(alice, "media.watch", bid, browser, mode="audio"))
        assert data["mode"] == "audio"
        (feed,) = data["feeds"]
        assert feed["video"] is None and feed["audio"] is not None
        await wait_until(lambda: len(received["audio"]) >= 25, 10, "audio frames")
        assert received["video"] == []
        room = stage_room(client, bid)
        primary = room.primary()
        assert primary is not None
        assert not room.media.sources[primary.sources["video"]].viewers
        assert len(room.media.sources[primary.sources["audio"]].viewers) == 1


async def test_low_mode_sends_the_rendition_and_stops_it_with_the_last_viewer(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with seated(client, world, "recruiter_a", bid) as (pres, _):
        camera = presenter_browser(browsers, "pres", width=640)  # 640x480
        ok(await send_offer(pres, "media.publish", bid, camera))
        async with seated(client, world, "student_a", bid) as (alice, _):
            browser, received = viewer_browser(browsers, "v")
            data = ok(await send_offer(alice, "media.watch", bid, browser, mode="low"))
            assert data["mode"] == "low" and data["feeds"][0]["video"] is not None
            await wait_until(
                lambda: any(f.keyframe for f in received["video"]) and received["audio"],
                15,
                "a low keyframe and audio",
            )
            keyframe = next(f for f in received["video"] if f.keyframe)
            decoder = av.CodecContext.create("vp8", "r")
            (picture,) = decoder.decode(keyframe.packet)
            assert picture.width <= 320 and picture.height <= 180
            room = stage_room(client, bid)
            assert len(room.media.renditions) == 1
            ok(await alice.call("media.unwatch", {"briefing_id": bid}))
            await wait_until(lambda: not room.media.renditions, 5, "the rendition stopped")


async def test_a_viewer_receives_every_co_presenter(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await two_presenter_briefing(client, world)
    ann_id, ben_id = world.users["recruiter_a"], world.users["recruiter_b"]
    async with (
        seated(client, world, "recruiter_a", bid) as (ann, _),
        seated(client, world, "recruiter_b", bid) as (ben, _),
        seated(client, world, "student_a", bid) as (alice, _),
    ):
        ok(await send_offer(ann, "media.publish", bid, presenter_browser(browsers, "ann")))
        ok(await send_offer(ben, "media.publish", bid, presenter_browser(browsers, "ben")))
        event = await alice.wait_for("media.live", lambda e: len(e["publishers"]) == 2)
        assert [p["user_id"] for p in event["publishers"]] == [ann_id, ben_id]

        browser, received = grid_browser(browsers, "alice", 2)
        feeds = ok(await send_offer(alice, "media.watch", bid, browser))["feeds"]
        assert [f["user_id"] for f in feeds] == [ann_id, ben_id]
        mids = [mid for f in feeds for mid in (f["video"], f["audio"])]
        assert sorted(mids) == ["0", "1", "2", "3"]
        await wait_until(lambda: all(len(received[m]) >= 5 for m in mids), 20, "all media")
        assert all(received[f["video"]][0].keyframe for f in feeds)

        # A co-presenter watches the other one, never themselves, and is no viewer.
        ann_view, _ = grid_browser(browsers, "ann-view", 1)
        ann_feeds = ok(await send_offer(ann, "media.watch", bid, ann_view))["feeds"]
        assert [f["user_id"] for f in ann_feeds] == [ben_id]
        assert ok(await alice.call("media.state", {"briefing_id": bid}))["viewers"] == 1

        # Ben stops: Ann is still live, so viewers keep their peers and watch again.
        ok(await ben.call("media.unpublish", {"briefing_id": bid}))
        left = await alice.wait_for("media.live", lambda e: len(e["publishers"]) == 1)
        assert left["live"] and left["publishers"][0]["user_id"] == ann_id
        assert len(registry_of(client)) == 3  # Ann's publisher and viewer peers, Alice's
        again, received = grid_browser(browsers, "alice-2", 1)
        (feed,) = ok(await send_offer(alice, "media.watch", bid, again))["feeds"]
        assert feed["user_id"] == ann_id
        await wait_until(lambda: len(received[feed["video"]]) >= 5, 10, "Ann again")
    await wait_until(lambda: len(registry_of(client)) == 0, 5, "every peer closed")


async def test_the_viewer_count_is_broadcast_at_most_once_a_second(
    client: TestClient[Any, Any], world: World, browsers: PeerRegistry
) -> None:
    bid = await make_briefing(client, world)
    async with (
        live_presenter(client, world, bid, browsers) as pres,
        seated(client, world, "student_a", bid) as (alice, _),
        seated(client, world, "student_b", bid) as (bob, _),
    ):
        # When each count update arrives (polled every 20 ms), after the going-live event.
        await pres.wait_for("media.live")
        events = pres.received["media.live"]
        seen = len(events)
        arrivals: list[tuple[float, int]] = []

        def sweep() -> None:
            nonlocal seen
            for event in events[seen:]:
                arrivals.append((time.monotonic(), event["viewers"]))
            seen = len(events)

        async def record() -> None:
            while True:
                sweep()
                await asyncio.sleep(0.02)

        def back_to_zero() -> bool:
            sweep()
            return bool(arrivals) and arrivals[-1][1] == 0

        recorder = asyncio.ensure_future(record())
        try:
            state = ok(await pres.call("media.state", {"briefing_id": bid}))
            assert state["viewers"] == 0 and isinstance(state["ice_servers"], list)
            for sock, name in ((alice, "a"), (bob, "b")):
                ok(await send_offer(sock, "media.watch", bid, viewer_browser(browsers, name)[0]))
            await pres.wait_for("media.live", lambda e: e["viewers"] == 2)
            assert ok(await alice.call("media.state", {"briefing_id": bid}))["viewers"] == 2
            ok(await bob.call("media.unwatch", {"briefing_id": bid}))
            ok(await alice.call("media.unwatch", {"briefing_id": bid}))
            await wait_until(back_to_zero, 5, "the count back to 0")
        finally:
            recorder.cancel()
        gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(arrivals)]
        assert all(gap > 0.9 for gap in gaps), arrivals
        assert [n for _, n in arrivals][-1] == 0 and 2 in [n for _, n in arrivals]


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
        watched = {
            mode: code(
                await send_offer(
                    sock, "media.watch", bid, viewer_browser(browsers, f"v-{mode}")[0], mode=mode
                )
            )
            for mode in ("low", "full")
        }
        assert len(set(watched.values())) == 1, watched  # the mode decides nothing about who
        seen = {
            "media.state": code(await sock.call("media.state", b)),
            "media.watch": watched["full"],
            "media.unwatch": code(await sock.call("media.unwatch", b)),
            "media.publish": code(
                await send_offer(sock, "media.publish", bid, presenter_browser(browsers, "p"))
            ),
            "media.unpublish": code(await sock.call("media.unpublish", b)),
        }
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)
    await wait_until(lambda: len(registry_of(client)) == 0, 5, "every peer closed")
