"""The live fair dashboard end to end: real server, real python-socketio clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.keys import SOCKETS
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import dashboard
from tests.factories import ROLES, World
from tests.sockets import connected

NOT_FOUND = {"ok": False, "error": {"code": "not_found", "message": "not found"}}
SOCKET_ROLES = tuple(role for role in ROLES if role != "anonymous")

# Canonical scenario: each role joins the campus fair (school A) if it may, then asks
# for its dashboard. Only its organisers and admins manage it.
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "fair.dashboard": {
        role: "ok" if role in {"organiser_a", "admin"} else "not_found" for role in SOCKET_ROLES
    },
}


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "TICK_SECONDS", 0.2)


def services_of(client: TestClient[Any, Any]) -> Services:
    services = client.app[SOCKETS].services
    assert services is not None
    return services


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Server-side disconnect handling runs after the client has gone: poll, bounded."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def booth_of(snapshot: dict[str, Any], booth_id: int) -> dict[str, Any]:
    return next(b for b in snapshot["booths"] if b["booth_id"] == booth_id)


@pytest.mark.parametrize("role", SOCKET_ROLES)
async def test_dashboard_decision_for(
    client: TestClient[Any, Any], world: World, role: str
) -> None:
    async with connected(client, world, role) as sock:
        await sock.call("fair.join", {"fair": "campus"})
        reply = await sock.call("fair.dashboard", {})
    outcome = "ok" if reply["ok"] else reply["error"]["code"]
    assert outcome == SOCKET_DECISIONS["fair.dashboard"][role]
    if not reply["ok"]:
        assert reply == NOT_FOUND


async def test_organiser_gets_a_snapshot_then_live_updates(
    client: TestClient[Any, Any], world: World, fast_ticks: None
) -> None:
    async with (
        connected(client, world, "organiser_a") as organiser,
        connected(client, world, "student_a") as student,
    ):
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        reply = await organiser.call("fair.dashboard", {})
        assert reply["ok"], reply
        snapshot = reply["data"]
        assert snapshot["fair_id"] == world.campus_fair
        assert snapshot["online"]["organisers"] == 1 and snapshot["online"]["students"] == 0
        assert booth_of(snapshot, world.booth_a_campus) == {
            "booth_id": world.booth_a_campus,
            "company": "Company A",
            "visitors": 0,
            "queue": 0,
            "in_call": 0,
            "staff": [],
            "unstaffed": True,
        }
        assert snapshot["visitors_today"] == 1  # the organiser's own visit

        assert (await student.call("fair.join", {"fair": "campus"}))["ok"]
        assert (await student.call("booth.join", {"booth_id": world.booth_a_campus}))["ok"]
        assert (await student.call("booth.queue_join", {"booth_id": world.booth_a_campus}))["ok"]

        def student_waits(update: dict[str, Any]) -> bool:
            booth = booth_of(update, world.booth_a_campus)
            return update["online"]["students"] == 1 and booth["visitors"] == booth["queue"] == 1

        update = await organiser.wait_for("fair.dashboard", student_waits, timeout=5)
        assert booth_of(update, world.booth_a_campus)["unstaffed"] is True
        assert update["visitors_today"] == 2
        # Students never hear the staff room.
        assert "fair.dashboard" not in student.received


async def test_updates_are_sent_only_when_something_changed(
    client: TestClient[Any, Any], world: World, fast_ticks: None
) -> None:
    async with connected(client, world, "organiser_a") as organiser:
        assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
        assert (await organiser.call("fair.dashboard", {}))["ok"]
        # The first tick sends the first snapshot (no previous one); then silence.
        await organiser.wait_for("fair.dashboard", timeout=5)
        await asyncio.sleep(5 * dashboard.TICK_SECONDS)
        assert len(organiser.received["fair.dashboard"]) == 1


async def test_one_ticker_per_fair_stopped_when_the_last_watcher_goes(
    client: TestClient[Any, Any], world: World, fast_ticks: None
) -> None:
    tickers = services_of(client).dashboard_tickers
    async with connected(client, world, "organiser_a") as first:
        async with connected(client, world, "admin") as second:
            for sock in (first, second):
                assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
                assert (await sock.call("fair.dashboard", {}))["ok"]
            assert len(tickers.watching(world.campus_fair)) == 2
            assert list(tickers.fairs) == [world.campus_fair]
            task = tickers.fairs[world.campus_fair].task

        async def one_left() -> bool:
            return len(tickers.watching(world.campus_fair)) == 1

        await eventually(one_left)
        assert tickers.fairs[world.campus_fair].task is task
        # Leaving the fair ends the subscription too, at the next tick.
        assert (await first.call("fair.leave"))["ok"]

        async def stopped() -> bool:
            return world.campus_fair not in tickers.fairs

        await eventually(stopped)
        assert task is not None
        await asyncio.wait_for(task, timeout=2)  # it returned on its own


async def test_dashboard_needs_the_fair_joined_first(
    client: TestClient[Any, Any], world: World
) -> None:
    async with connected(client, world, "organiser_a") as organiser:
        assert await organiser.call("fair.dashboard", {}) == NOT_FOUND
        # An organiser in a fair they do not manage (the open fair of school B).
        assert (await organiser.call("fair.join", {"fair": "open"}))["ok"]
        assert await organiser.call("fair.dashboard", {}) == NOT_FOUND
        spoofed = await organiser.call("fair.dashboard", {"fair_id": world.campus_fair})
        assert spoofed["error"]["code"] == "request.invalid"
    assert services_of(client).dashboard_tickers.fairs == {}


# --- the page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 303),
        ("student_a", 404),
        ("recruiter_a", 404),
        ("organiser_b", 404),
        ("organiser_a", 200),
        ("admin", 200),
    ],
)
async def test_live_page_permission(
    client: TestClient[Any, Any], world: World, who: str, status: int
) -> None:
    if who != "anonymous":
        await world.login(client, who)
    response = await client.get("/organiser/fairs/campus/live", allow_redirects=False)
    assert response.status == status
    if status == 303:
        assert response.headers["Location"].startswith("/login")
    missing = await client.get("/organiser/fairs/no-such-fair/live", allow_redirects=False)
    assert missing.status == (303 if who == "anonymous" else 404)


async def test_live_page_is_a_shell_for_the_script(
    client: TestClient[Any, Any], world: World
) -> None:
    await world.login(client, "organiser_a")
    html = await (await client.get("/organiser/fairs/campus/live")).text()
    assert 'id="fair-dashboard"' in html and 'data-fair="campus"' in html
    assert '<script type="module" src="/static/js/dashboard.js">' in html
    assert 'maxlength="2000"' in html and 'for="announcement-body"' in html
    assert 'class="table-wrap"' in html and "<script>" not in html
    manage = await (await client.get("/organiser/fairs/campus")).text()
    assert 'href="/organiser/fairs/campus/live"' in manage


async def test_lobby_has_the_announcements_banner_for_logged_in_visitors_only(
    client: TestClient[Any, Any], world: World
) -> None:
    anonymous = await (await client.get("/fairs/open")).text()
    assert 'id="announcements"' not in anonymous and "announcements.js" not in anonymous
    await world.login(client, "student_b")
    html = await (await client.get("/fairs/open")).text()
    assert 'id="announcements"' in html and 'aria-live="polite"' in html
    assert 'data-fair="open"' in html
    assert '<script type="module" src="/static/js/announcements.js">' in html
