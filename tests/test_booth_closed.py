"""A booth whose company the organiser rejects closes under everyone in it (issue 11: the
rejected company's recruiter stayed in the booth's rooms and kept hearing them)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SERVICES, SOCKETS
from fairserver.rooms.booths.live import booth_room
from fairserver.rooms.fairs import organising
from fairserver.rooms.notify import Outbound, moderators_room
from tests.factories import World
from tests.sockets import connected


class Probe(Outbound):
    n: int


async def test_rejecting_a_company_takes_everyone_out_of_its_booth(
    client: TestClient[Any, Any], world: World
) -> None:
    booth = world.booth_a_open
    async with (
        connected(client, world, "recruiter_a") as recruiter,
        connected(client, world, "student_a") as student,
    ):
        for sock in (recruiter, student):
            assert (await sock.call("fair.join", {"fair": "open"}))["ok"]
            assert (await sock.call("booth.join", {"booth_id": booth}))["ok"]
        await organising.decide(client.app[DB], world.open_fair, world.company_a, "reject")
        # Within the session check's period (4 s), each is told and taken out.
        for sock in (recruiter, student):
            closed = await sock.wait_for("booth.closed", timeout=8)
            assert closed == {"booth_id": booth}
        layer = client.app[SOCKETS]
        for conn in layer.connections.values():
            assert booth_room(booth) not in conn.rooms
            assert moderators_room(booth_room(booth)) not in conn.rooms
            assert booth not in conn.state.booths
        # Nothing said in the booth's rooms reaches them any more.
        notifier = client.app[SERVICES].notifier
        await notifier.emit(moderators_room(booth_room(booth)), "probe", Probe(n=1))
        await notifier.emit(booth_room(booth), "probe", Probe(n=2))
        assert (await recruiter.call("fair.join", {"fair": "open"}))["ok"]  # a round trip
        assert recruiter.received["probe"] == [] and student.received["probe"] == []
        # And they cannot come back in.
        reply = await recruiter.call("booth.join", {"booth_id": booth})
        assert reply["error"]["code"] == "not_found"
