"""A media session: publish and watch by SDP strings, and every peer's end as one event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiortc import RTCSessionDescription

from fairserver.webrtc.peers import Peer, PeerRegistry
from fairserver.webrtc.session import BadOffer, MediaSessions
from tests.webrtc.conftest import NO_ICE_SERVERS
from tests.webrtc.media import camera_browser, viewer_browser, wait_until


@pytest.fixture
async def sessions() -> AsyncIterator[MediaSessions]:
    made = MediaSessions(NO_ICE_SERVERS)
    yield made
    await made.close_all()
    assert len(made.registry) == 0


async def offer_of(browser: Peer) -> str:
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    return str(browser.pc.localDescription.sdp)


async def accept(browser: Peer, answer: dict[str, str]) -> None:
    await browser.pc.setRemoteDescription(RTCSessionDescription(**answer))


async def test_publish_watch_and_every_end_is_one_event(
    sessions: MediaSessions, browsers: PeerRegistry
) -> None:
    left: list[str] = []
    session = sessions.open("stage:1", left.append)
    assert sessions.get("stage:1") is session and session.idle

    camera = camera_browser(browsers, "cam")
    answer, sources = await session.publish("a/pub", await offer_of(camera))
    await accept(camera, answer.as_dict())
    assert set(sources) == {"video", "audio"} and session.publishing == {"a/pub"}
    assert all(source in session.media.sources for source in sources.values())

    viewer, received = viewer_browser(browsers, "view")
    answer, feeds = await session.watch("b/view", [sources], await offer_of(viewer))
    await accept(viewer, answer.as_dict())
    (feed,) = feeds
    mids = {t.mid for t in viewer.pc.getTransceivers()}
    assert feed.video in mids and feed.audio in mids and feed.video != feed.audio
    await wait_until(lambda: received["video"] and received["audio"], 10, "forwarded media")

    # Watching again replaces the viewer's peer: the old one's end is told, once.
    again, _ = viewer_browser(browsers, "view2")
    await session.watch("b/view", [sources], await offer_of(again))
    assert left == ["b/view"] and len(sessions.registry) == 2  # the camera's, the new view

    # The browser hangs up: the publisher's end arrives as the same event, nothing polls.
    await browsers.close(camera.peer_id)
    await wait_until(lambda: "a/pub" in left, 5, "the publisher's end")
    assert not session.media.sources and session.publishing == set()

    await session.close_all()
    assert left == ["b/view", "a/pub", "b/view"] and session.idle
    session.end()
    assert sessions.get("stage:1") is None


async def test_a_refused_offer_is_bad_offer_and_leaves_no_peer(
    sessions: MediaSessions,
) -> None:
    left: list[str] = []
    session = sessions.open("interview:1", left.append)
    with pytest.raises(BadOffer):
        await session.publish("a/pub", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
    assert len(sessions.registry) == 0 and left == ["a/pub"] and session.idle
