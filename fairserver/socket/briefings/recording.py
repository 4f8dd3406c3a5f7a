"""Recording events (P7): a briefing's presenter records the stage; everyone sees it.

Every event names its briefing and needs the caller's seat in it (briefing.join);
rooms/briefings/recording.py decides the rest. While a recording runs, the briefing room
hears recording.state {on: true}; when it stops, {on: false}.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fairserver.rooms.briefings import recording as service
from fairserver.rooms.briefings.live import Seat
from fairserver.rooms.context import Services
from fairserver.rooms.media.homes import Handler, Seated, actor_args, actor_of
from fairserver.socket.briefings.live import BriefingRef, active_seat, seat_of
from fairserver.socket.briefings.stage import home_seat, stage_home
from fairserver.socket.kit import Connection, EventRegistry, Rate

events = EventRegistry()
CONTROL = Rate(per_second=0.5, burst=5)


@events.on("recording.start", BriefingRef, rate=CONTROL)
async def start(services: Services, conn: Connection, payload: BriefingRef) -> dict[str, Any]:
    seat = await active_seat(services, conn, payload.briefing_id)
    return await _at_home(services, conn, seat, "start")


@events.on("recording.stop", BriefingRef, rate=CONTROL)
async def stop(services: Services, conn: Connection, payload: BriefingRef) -> dict[str, Any]:
    seat = seat_of(conn, payload.briefing_id)
    return await _at_home(services, conn, seat, "stop")


@events.on("recording.status", BriefingRef, rate=Rate(per_second=2, burst=10))
async def status(services: Services, conn: Connection, payload: BriefingRef) -> dict[str, Any]:
    """For a page that joins while a recording runs: the same data as recording.state."""
    seat = seat_of(conn, payload.briefing_id)
    return await _at_home(services, conn, seat, "status")


# The recorder reads the stage's sources, so it runs on the stage's media home.


async def _at_home(services: Services, conn: Connection, seat: Seat, call: str) -> dict[str, Any]:
    args = {"actor": actor_args(conn.actor), "seat": dataclasses.asdict(seat)}
    result: dict[str, Any] = await services.homes.call(
        stage_home(seat.briefing_id), f"recording.{call}", args, seated=lambda: True, claim=False
    )
    return result


async def _start(services: Services, args: dict[str, Any], seated: Seated) -> Any:
    return await service.start(services, actor_of(args), home_seat(args))


async def _stop(services: Services, args: dict[str, Any], seated: Seated) -> Any:
    return await service.stop(services, actor_of(args), home_seat(args))


async def _status(services: Services, args: dict[str, Any], seated: Seated) -> Any:
    return service.state(services, home_seat(args).briefing_id).model_dump(mode="json")


HOME_CALLS: dict[str, Handler] = {
    "recording.start": _start,
    "recording.stop": _stop,
    "recording.status": _status,
}
