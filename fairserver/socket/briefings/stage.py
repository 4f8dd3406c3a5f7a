"""Media events (P1 go live, P2 watch): WebRTC signalling for a briefing's stage.

aiortc has no trickle ICE, so the browser waits for ICE gathering to complete and sends
its full SDP offer; the server answers with its full SDP. Every event names its briefing
and needs the caller's seat in it (briefing.join); rooms/briefings/stage.py decides the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from fairserver.rooms.briefings import stage as service
from fairserver.rooms.briefings.live import Seat, briefing_room
from fairserver.rooms.context import Services
from fairserver.rooms.media.homes import Caller, RoomActivity
from fairserver.socket.briefings.live import BriefingRef, active_seat, seat_of
from fairserver.socket.kit import Connection, EventRegistry, Rate
from fairserver.webrtc.ice import browser_ice_servers
from fairserver.webrtc.session import WatchMode

events = EventRegistry()

# The socket frame cap is 64 KiB; a browser's full offer with host candidates for one
# audio and one video m-line is 4-8 KB. 32 KiB leaves room for many candidates.
MAX_SDP = 32 * 1024
SIGNAL = Rate(per_second=0.5, burst=5)


class Offer(BriefingRef):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"]


class WatchOffer(Offer):
    # "full": forwarded video and audio; "low": the low-bandwidth video rendition and audio;
    # "audio": audio only.
    mode: WatchMode = "full"


def _still_seated(conn: Connection, briefing_id: int) -> service.StillSeated:
    """Leaving the briefing or a ban removes the room (and says so: stage.seat_lost); this
    check covers a seat lost while the offer was being answered, and remote homes."""
    room = briefing_room(briefing_id)
    return lambda: room in conn.rooms


@events.on("media.state", BriefingRef, rate=Rate(per_second=2, burst=10))
async def media_state(
    services: Services, conn: Connection, payload: BriefingRef
) -> service.MediaState:
    seat = seat_of(conn, payload.briefing_id)
    command = service.StageState(connection_id=conn.id, caller=caller_of(conn), seat=seat)
    stage = await _at_home(services, conn, seat, command, claim=False)
    ice_servers = browser_ice_servers(services.settings, conn.user_id)
    return service.MediaState.model_validate({**stage, "ice_servers": ice_servers})


@events.on("media.publish", Offer, rate=SIGNAL)
async def publish(services: Services, conn: Connection, payload: Offer) -> service.SdpAnswer:
    seat = await active_seat(services, conn, payload.briefing_id)
    command = service.StagePublish(
        connection_id=conn.id, caller=caller_of(conn), seat=seat, sdp=payload.sdp
    )
    answer = await _at_home(services, conn, seat, command, watched=True)
    return service.SdpAnswer.model_validate(answer)


@events.on("media.unpublish", BriefingRef, rate=Rate(per_second=2, burst=10))
async def unpublish(services: Services, conn: Connection, payload: BriefingRef) -> None:
    seat = seat_of(conn, payload.briefing_id)
    command = service.StageUnpublish(connection_id=conn.id, caller=caller_of(conn), seat=seat)
    await _at_home(services, conn, seat, command, claim=False)


@events.on("media.watch", WatchOffer, rate=SIGNAL)
async def watch(services: Services, conn: Connection, payload: WatchOffer) -> service.WatchAnswer:
    seat = seat_of(conn, payload.briefing_id)
    command = service.StageWatch(
        connection_id=conn.id,
        caller=caller_of(conn),
        seat=seat,
        sdp=payload.sdp,
        mode=payload.mode,
    )
    answer = await _at_home(services, conn, seat, command, watched=True)
    return service.WatchAnswer.model_validate(answer)


@events.on("media.unwatch", BriefingRef, rate=Rate(per_second=2, burst=10))
async def unwatch(services: Services, conn: Connection, payload: BriefingRef) -> None:
    seat = seat_of(conn, payload.briefing_id)
    command = service.StageUnwatch(connection_id=conn.id, caller=caller_of(conn), seat=seat)
    await _at_home(services, conn, seat, command, claim=False)


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    """Disconnect and graceful stop ("shutdown") close this connection's peers, here and
    on any other worker that is the media home of a stage it was on."""
    await service.leave(services, conn.id)
    await services.homes.forget(conn.id)


# --- the media home: a stage's peers live on one worker (rooms/media/homes.py) -------------
# The calls are typed commands run by rooms/briefings/stage.py (HOME_ROUTES).


def stage_home(briefing_id: int) -> str:
    return service.home_key(briefing_id)


def caller_of(conn: Connection) -> Caller:
    return Caller.of(conn.actor)


async def _at_home(
    services: Services,
    conn: Connection,
    seat: Seat,
    command: service.StageCall,
    *,
    claim: bool = True,
    watched: bool = False,
) -> Any:
    """Runs a stage call on the briefing's media home; its reply is the call's model as JSON,
    which the handler validates back into the model. ``watched``: the call opens a peer
    there, so this worker watches the socket's seat and closes the peer when it goes."""
    leave = service.StageLeave(connection_id=conn.id) if watched else None
    return await services.homes.call(
        stage_home(seat.briefing_id),
        command,
        seated=_still_seated(conn, seat.briefing_id),
        claim=claim,
        connection_id=conn.id if watched else None,
        leave=leave,
    )


HOME_ROUTES = service.HOME_ROUTES
HOME_ROOMS: dict[str, RoomActivity] = {"stage": service.live_here}
