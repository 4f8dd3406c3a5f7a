"""Media events (P1 go live, P2 watch): WebRTC signalling for a briefing's stage.

aiortc has no trickle ICE, so the browser waits for ICE gathering to complete and sends
its full SDP offer; the server answers with its full SDP. Every event names its briefing
and needs the caller's seat in it (briefing.join); rooms/stage.py decides the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from fairserver.rooms import stage as service
from fairserver.rooms.briefing import briefing_room
from fairserver.rooms.context import Services
from fairserver.socket.briefing import BriefingRef, active_seat, seat_of
from fairserver.socket.kit import Connection, EventRegistry, Rate

events = EventRegistry()

# The socket frame cap is 64 KiB; a browser's full offer with host candidates for one
# audio and one video m-line is 4-8 KB. 32 KiB leaves room for many candidates.
MAX_SDP = 32 * 1024
SIGNAL = Rate(per_second=0.5, burst=5)


class Offer(BriefingRef):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"]


def _still_seated(conn: Connection, briefing_id: int) -> service.StillSeated:
    """For the stage's seat check: leaving the briefing or a ban removes the room."""
    room = briefing_room(briefing_id)
    return lambda: room in conn.rooms


@events.on("media.state", BriefingRef, rate=Rate(per_second=2, burst=10))
async def media_state(services: Services, conn: Connection, payload: BriefingRef) -> dict[str, Any]:
    seat_of(conn, payload.briefing_id)
    return service.ice_state(services, conn.actor, payload.briefing_id)


@events.on("media.publish", Offer, rate=SIGNAL)
async def publish(services: Services, conn: Connection, payload: Offer) -> dict[str, str]:
    seat = await active_seat(services, conn, payload.briefing_id)
    seated = _still_seated(conn, payload.briefing_id)
    return await service.publish(services, conn.id, conn.actor, seat, payload.sdp, seated)


@events.on("media.unpublish", BriefingRef, rate=Rate(per_second=2, burst=10))
async def unpublish(services: Services, conn: Connection, payload: BriefingRef) -> None:
    seat = seat_of(conn, payload.briefing_id)
    await service.unpublish(services, conn.id, conn.actor, seat)


@events.on("media.watch", Offer, rate=SIGNAL)
async def watch(services: Services, conn: Connection, payload: Offer) -> dict[str, Any]:
    seat = seat_of(conn, payload.briefing_id)
    seated = _still_seated(conn, payload.briefing_id)
    return await service.watch(services, conn.id, conn.actor, seat, payload.sdp, seated)


@events.on("media.unwatch", BriefingRef, rate=Rate(per_second=2, burst=10))
async def unwatch(services: Services, conn: Connection, payload: BriefingRef) -> None:
    seat_of(conn, payload.briefing_id)
    await service.unwatch(services, conn.id)


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    """Disconnect and graceful stop ("shutdown") close this connection's peers."""
    await service.leave(services, conn.id)
