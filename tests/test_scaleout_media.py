"""Media homes with real processes: two `fairserver serve` processes on one PostgreSQL and
one Redis. Sockets of one room land on different processes; the room's media runs on one
of them (its home) and in-process aiortc peers stand in for the browsers."""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import SimpleNamespace
from typing import Any

from fairserver.keys import DB
from fairserver.store.db import Database
from fairserver.webrtc.peers import PeerRegistry
from tests import test_scaleout
from tests.interview_helpers import ok, send_offer
from tests.sockets import Client
from tests.test_scaleout import Cluster, socket_on
from tests.test_socket_briefing import make_briefing
from tests.test_socket_media import send_offer as send_stage_offer
from tests.test_socket_media import two_presenter_briefing
from tests.webrtc.media import camera_browser, viewer_browser, wait_until

FRAMES = 10

# Two processes on one PostgreSQL and a Redis of the test's own (tests/test_scaleout.py).
cluster = test_scaleout.cluster
redis_server = test_scaleout.redis_server


async def _at_campus_booth(stack: AsyncExitStack, cluster: Cluster, on: Any, who: str) -> Client:
    sock = await stack.enter_async_context(socket_on(on, cluster.world, who))
    ok(await sock.call("fair.join", {"fair": "campus"}))
    ok(await sock.call("booth.join", {"booth_id": cluster.world.booth_a_campus}))
    return sock


async def _video_from(
    sock: Client, iid: int, browsers: PeerRegistry, name: str, user_id: int
) -> dict[str, list[Any]]:
    browser, received = viewer_browser(browsers, name)
    ok(await send_offer(sock, "interview.watch", iid, browser, user_id=user_id))
    return received


async def test_an_interview_across_two_processes_meets_on_its_home(
    cluster: Cluster, browsers: PeerRegistry
) -> None:
    world = cluster.world
    async with AsyncExitStack() as stack:
        # The recruiter's socket is on the second process, the student's on the first.
        student = await _at_campus_booth(stack, cluster, cluster.first, "student_a")
        ok(await student.call("booth.queue_join", {"booth_id": world.booth_a_campus}))
        recruiter = await _at_campus_booth(stack, cluster, cluster.second, "recruiter_a")
        opened = ok(
            await recruiter.call(
                "interview.open",
                {"booth_id": world.booth_a_campus, "student_id": world.users["student_a"]},
            )
        )
        iid = int(opened["interview_id"])
        ok(await recruiter.call("interview.join", {"interview_id": iid}))  # home: second

        knocking = ok(await student.call("interview.join", {"interview_id": iid}))
        assert knocking["me"]["admitted"] is False
        # The recruiter's room (on the home) sees the knock that came through the first.
        await recruiter.wait_for(
            "interview.participants",
            lambda e: any(p["present"] and p["role"] == "candidate" for p in e["participants"]),
        )
        ok(await recruiter.call("interview.admit", {"interview_id": iid}))
        await student.wait_for("interview.admitted", lambda e: e["interview_id"] == iid)
        ok(await student.call("interview.join", {"interview_id": iid}))

        for sock, name in ((recruiter, "recruiter"), (student, "student")):
            ok(await send_offer(sock, "interview.publish", iid, camera_browser(browsers, name)))
        student_sees = await _video_from(
            student, iid, browsers, "student-view", world.users["recruiter_a"]
        )
        recruiter_sees = await _video_from(
            recruiter, iid, browsers, "recruiter-view", world.users["student_a"]
        )
        await wait_until(
            lambda: len(student_sees["video"]) >= FRAMES and len(recruiter_sees["video"]) >= FRAMES,
            timeout=15,
            what="video both ways through the home",
        )
        await wait_until(
            lambda: student_sees["audio"] and recruiter_sees["audio"],
            timeout=10,
            what="audio both ways through the home",
        )

        # The student's process is told nothing about the room; leaving still reaches it.
        ok(await student.call("interview.leave", {"interview_id": iid}))
        await recruiter.wait_for(
            "interview.participants",
            lambda e: not any(p["present"] for p in e["participants"] if p["role"] == "candidate"),
        )


async def _briefing(pg_url: str, cluster: Cluster, make: Any = make_briefing) -> int:
    db = Database(pg_url)
    try:
        # The briefing factories only need the app's database.
        return int(await make(SimpleNamespace(app={DB: db}), cluster.world))
    finally:
        await db.dispose()


async def _seated(stack: AsyncExitStack, cluster: Cluster, on: Any, who: str, bid: int) -> Client:
    sock = await stack.enter_async_context(socket_on(on, cluster.world, who))
    ok(await sock.call("fair.join", {"fair": "open"}))
    ok(await sock.call("briefing.join", {"briefing_id": bid}))
    return sock


async def test_a_stage_across_two_processes_streams_from_its_home(
    cluster: Cluster, pg_url: str, browsers: PeerRegistry
) -> None:
    bid = await _briefing(pg_url, cluster)
    async with AsyncExitStack() as stack:
        presenter = await _seated(stack, cluster, cluster.first, "recruiter_a", bid)
        alice = await _seated(stack, cluster, cluster.second, "student_a", bid)
        ok(await send_stage_offer(presenter, "media.publish", bid, camera_browser(browsers, "p")))
        await alice.wait_for("media.live", lambda e: e["live"])
        state = ok(await alice.call("media.state", {"briefing_id": bid}))
        assert state["live"] is True and state["publishers"], state

        browser, received = viewer_browser(browsers, "alice")
        watched = ok(await send_stage_offer(alice, "media.watch", bid, browser))
        assert watched["type"] == "answer"
        await wait_until(
            lambda: len(received["video"]) >= FRAMES and received["audio"],
            timeout=15,
            what="the stage's video on the other process",
        )
        await presenter.wait_for("media.live", lambda e: e["viewers"] == 1)

        # Leaving the briefing on the viewer's process closes the peer on the home.
        ok(await alice.call("briefing.leave", {"briefing_id": bid}))
        await presenter.wait_for("media.live", lambda e: e["viewers"] == 0)


async def test_a_stage_whose_home_died_moves_to_a_surviving_worker(
    cluster: Cluster, pg_url: str, browsers: PeerRegistry
) -> None:
    bid = await _briefing(pg_url, cluster, two_presenter_briefing)
    async with AsyncExitStack() as stack:
        # Ben goes live first on the first process: the stage's home is the first process.
        ben = await _seated(stack, cluster, cluster.first, "recruiter_b", bid)
        ok(await send_stage_offer(ben, "media.publish", bid, camera_browser(browsers, "ben")))
        ann = await _seated(stack, cluster, cluster.second, "recruiter_a", bid)
        alice = await _seated(stack, cluster, cluster.second, "student_a", bid)
        ok(await send_stage_offer(ann, "media.publish", bid, camera_browser(browsers, "ann")))
        await alice.wait_for("media.live", lambda e: len(e["publishers"]) == 2)

        cluster.first.kill_hard()  # the home dies with Ben's socket and every peer
        # Ann's page publishes again (rtc.js does so when its peer fails): the survivor
        # finds the home silent, takes the stage over, and Alice watches Ann there.
        ok(await send_stage_offer(ann, "media.publish", bid, camera_browser(browsers, "ann-2")))
        browser, received = viewer_browser(browsers, "alice")
        feeds = ok(await send_stage_offer(alice, "media.watch", bid, browser))["feeds"]
        assert [f["user_id"] for f in feeds] == [cluster.world.users["recruiter_a"]]
        await wait_until(
            lambda: len(received["video"]) >= FRAMES,
            timeout=15,
            what="the stage's video from its new home",
        )
