"""The interview room's calls on its media home (rooms/media/homes.py): one typed command
per socket event that touches the room's in-memory state (presence, peers, recording), each
run by a function of rooms/interviews/rooms.py. The home reads the caller's seat afresh from
the database; the socket layer (socket/interviews/rooms.py) sends them."""

from __future__ import annotations

from typing import Any, ClassVar

from fairserver.rooms.context import Services
from fairserver.rooms.interviews.rooms import Seat as Seat
from fairserver.rooms.interviews.rooms import (
    admit,
    end,
    join,
    leave,
    publish,
    seat_of,
    set_consent,
    set_recording,
    watch,
)
from fairserver.rooms.media.homes import Caller, HomeCommand, HomeRoutes, Seated
from fairserver.rooms.notify import Outbound

# --- on the media home (rooms/media/homes.py): typed calls, each run by a function above ---
# Everything that touches the room's in-memory state (presence, peers, recording) runs
# there; the home reads the caller's seat afresh from the database.

# A home's reply may cross pub/sub to the worker holding the socket, as JSON
# (rooms/media/homes.py): so each call answers with its function's Outbound model dumped,
# and the socket layer reads it back into that model (socket/interviews/rooms.py).
HomeReply = dict[str, Any]


def _reply(model: Outbound) -> HomeReply:
    return model.model_dump(mode="json")


class InterviewCall(HomeCommand):
    interview_id: int
    connection_id: str
    caller: Caller

    async def seat(self, services: Services) -> Seat:
        return await seat_of(services, self.caller.actor(), self.interview_id)


class InterviewJoin(InterviewCall):
    call: ClassVar[str] = "interview.join"
    ice: list[dict[str, Any]]


class InterviewLeave(InterviewCall):
    call: ClassVar[str] = "interview.leave"
    reason: str


class InterviewAdmit(InterviewCall):
    call: ClassVar[str] = "interview.admit"


class InterviewEnd(InterviewCall):
    call: ClassVar[str] = "interview.end"


class InterviewPublish(InterviewCall):
    call: ClassVar[str] = "interview.publish"
    sdp: str


class InterviewWatch(InterviewCall):
    call: ClassVar[str] = "interview.watch"
    sdp: str
    user_id: int


class InterviewConsent(InterviewCall):
    call: ClassVar[str] = "interview.consent"
    consent: bool


class InterviewRecord(InterviewCall):
    call: ClassVar[str] = "interview.record"
    on: bool


HOME_ROUTES = HomeRoutes()


@HOME_ROUTES.on(InterviewJoin)
async def _join(services: Services, command: InterviewJoin, seated: Seated) -> HomeReply:
    found = await command.seat(services)
    actor = command.caller.actor()
    return _reply(await join(services, command.connection_id, actor, found, command.ice))


@HOME_ROUTES.on(InterviewLeave)
async def _leave(services: Services, command: InterviewLeave, seated: Seated) -> None:
    await leave(services, command.connection_id, command.interview_id, command.reason)


@HOME_ROUTES.on(InterviewAdmit)
async def _admit(services: Services, command: InterviewAdmit, seated: Seated) -> HomeReply:
    return _reply(await admit(services, await command.seat(services)))


@HOME_ROUTES.on(InterviewEnd)
async def _end(services: Services, command: InterviewEnd, seated: Seated) -> HomeReply:
    return _reply(await end(services, await command.seat(services)))


@HOME_ROUTES.on(InterviewPublish)
async def _publish(services: Services, command: InterviewPublish, seated: Seated) -> HomeReply:
    found = await command.seat(services)
    actor = command.caller.actor()
    return _reply(await publish(services, command.connection_id, actor, found, command.sdp))


@HOME_ROUTES.on(InterviewWatch)
async def _watch(services: Services, command: InterviewWatch, seated: Seated) -> HomeReply:
    found = await command.seat(services)
    return _reply(await watch(services, command.connection_id, found, command.user_id, command.sdp))


@HOME_ROUTES.on(InterviewConsent)
async def _consent(services: Services, command: InterviewConsent, seated: Seated) -> HomeReply:
    return _reply(await set_consent(services, await command.seat(services), command.consent))


@HOME_ROUTES.on(InterviewRecord)
async def _record(services: Services, command: InterviewRecord, seated: Seated) -> HomeReply:
    found = await command.seat(services)
    return _reply(await set_recording(services, command.caller.actor(), found, command.on))


def live_here(services: Services, room: str) -> bool:
    """For the home's lease: the interview ``room`` ("interview:<id>") is live here."""
    return int(room.split(":", 1)[1]) in services.interview_rooms.rooms
