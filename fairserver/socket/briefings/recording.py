"""Recording events (P7): a briefing's presenter records the stage; everyone sees it.

Every event names its briefing and needs the caller's seat in it (briefing.join);
rooms/briefings/recording.py decides the rest. While a recording runs, the briefing room
hears recording.state {on: true}; when it stops, {on: false}.
"""

from __future__ import annotations

from fairserver.rooms.briefings import recording as service
from fairserver.rooms.briefings.live import Seat
from fairserver.rooms.context import Services
from fairserver.socket.briefings.live import BriefingRef, active_seat, seat_of
from fairserver.socket.briefings.stage import caller_of, stage_home
from fairserver.socket.kit import Connection, EventRegistry, Rate

events = EventRegistry()
CONTROL = Rate(per_second=0.5, burst=5)


@events.on("recording.start", BriefingRef, rate=CONTROL)
async def start(
    services: Services, conn: Connection, payload: BriefingRef
) -> service.RecordingState:
    seat = await active_seat(services, conn, payload.briefing_id)
    return await _at_home(services, conn, seat, service.RecordingStart)


@events.on("recording.stop", BriefingRef, rate=CONTROL)
async def stop(
    services: Services, conn: Connection, payload: BriefingRef
) -> service.RecordingState:
    seat = seat_of(conn, payload.briefing_id)
    return await _at_home(services, conn, seat, service.RecordingStop)


@events.on("recording.status", BriefingRef, rate=Rate(per_second=2, burst=10))
async def status(
    services: Services, conn: Connection, payload: BriefingRef
) -> service.RecordingState:
    """For a page that joins while a recording runs: the same data as recording.state."""
    seat = seat_of(conn, payload.briefing_id)
    return await _at_home(services, conn, seat, service.RecordingStatus)


# The recorder reads the stage's sources, so it runs on the stage's media home; the calls
# are typed commands run by rooms/briefings/recording.py (HOME_ROUTES).


async def _at_home(
    services: Services, conn: Connection, seat: Seat, command: type[service.RecordingCall]
) -> service.RecordingState:
    call = command(caller=caller_of(conn), seat=seat)
    result = await services.homes.call(
        stage_home(seat.briefing_id), call, seated=lambda: True, claim=False
    )
    return service.RecordingState.model_validate(result)


HOME_ROUTES = service.HOME_ROUTES
