"""Shared set-up for the interview room tests: colleagues, an opened interview, and
in-process aiortc "browsers" speaking the interview.* signalling."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription

from fairserver.keys import DB, PASSWORDS, SOCKETS
from fairserver.store import accounts
from fairserver.webrtc.peers import Peer, PeerRegistry
from tests.factories import PASSWORD, World
from tests.sockets import Client, connected

BOOTH_FAIR = "campus"


def ok(reply: dict[str, Any]) -> Any:
    assert reply["ok"], reply
    return reply["data"]


def code(reply: dict[str, Any]) -> str:
    return "ok" if reply["ok"] else str(reply["error"]["code"])


def registry_of(client: TestClient[Any, Any]) -> PeerRegistry:
    return client.app[SOCKETS].services.stage.registry


async def add_colleagues(client: TestClient[Any, Any], world: World, count: int) -> list[str]:
    """Recruiters of company A named recruiter_a2, recruiter_a3, ... (keys into world)."""
    pw_hash = await client.app[PASSWORDS].hash(PASSWORD)
    keys = []
    async with client.app[DB].begin() as conn:
        for n in range(2, 2 + count):
            key = f"recruiter_a{n}"
            world.emails[key] = f"{key}@test.fair"
            world.users[key] = await accounts.insert_user(
                conn,
                email=world.emails[key],
                password_hash=pw_hash,
                display_name=key,
                role="recruiter",
                company_id=world.company_a,
            )
            keys.append(key)
    return keys


async def at_booth(
    stack: AsyncExitStack, client: TestClient[Any, Any], world: World, who: str
) -> Client:
    sock = await stack.enter_async_context(connected(client, world, who))
    ok(await sock.call("fair.join", {"fair": BOOTH_FAIR}))
    ok(await sock.call("booth.join", {"booth_id": world.booth_a_campus}))
    return sock


async def opened(
    stack: AsyncExitStack, client: TestClient[Any, Any], world: World, *, admit: bool = True
) -> tuple[int, Client, Client]:
    """student_a queues at company A's campus booth; recruiter_a opens an interview with
    them; both join it (the student admitted unless ``admit`` is False)."""
    student = await at_booth(stack, client, world, "student_a")
    ok(await student.call("booth.queue_join", {"booth_id": world.booth_a_campus}))
    recruiter = await at_booth(stack, client, world, "recruiter_a")
    opened = ok(
        await recruiter.call(
            "interview.open",
            {"booth_id": world.booth_a_campus, "student_id": world.users["student_a"]},
        )
    )
    iid = int(opened["interview_id"])
    ok(await recruiter.call("interview.join", {"interview_id": iid}))
    ok(await student.call("interview.join", {"interview_id": iid}))
    if admit:
        ok(await recruiter.call("interview.admit", {"interview_id": iid}))
        ok(await student.call("interview.join", {"interview_id": iid}))
    return iid, recruiter, student


async def send_offer(
    sock: Client, event: str, iid: int, browser: Peer, **extra: Any
) -> dict[str, Any]:
    """Full-SDP signalling, as the browser does it: gather everything, then send."""
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    offer = browser.pc.localDescription
    payload = {"interview_id": iid, "sdp": offer.sdp, "type": offer.type, **extra}
    reply = await sock.call(event, payload)
    if reply["ok"]:
        answer = reply["data"]
        await browser.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    return reply
