"""Interview events (B6 escalate, I2 room, I3 consent and recording): parse, authorise, call.

Every event about an interview names it; only its participants get anything but
not_found. Events after interview.join need that join on this connection. Admitted
participants' connections are in the room "interview:<id>" (broadcasts, chat); a
candidate who is still knocking is not, and hears interview.admitted in their own user
room. WebRTC signalling is full SDP (aiortc has no trickle ICE), as for media.*.
Decisions live in rooms/interviews/rooms.py and rooms/interviews/opening.py.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import Field

from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import chat as interview_chat
from fairserver.rooms.interviews import home_calls as calls
from fairserver.rooms.interviews import opening as interview_open
from fairserver.rooms.interviews import rooms as service
from fairserver.rooms.interviews.chat import Posted, PostedBefore
from fairserver.rooms.interviews.media import SdpAnswer, interview_room
from fairserver.rooms.interviews.opening import MyInterviews, Opened
from fairserver.rooms.interviews.recording import RecordingView
from fairserver.rooms.media.homes import Caller, RoomActivity
from fairserver.rooms.notify import Outbound
from fairserver.socket.booths.live import staff_booth, visible_booth
from fairserver.socket.kit import MAX_EVENT_ID, Connection, EventRegistry, Payload, Rate
from fairserver.text import Text
from fairserver.webrtc.ice import browser_ice_servers

events = EventRegistry()
MAX_ID = 2**31 - 1
RECRUITERS = frozenset({"recruiter"})
PEOPLE = frozenset({"student", "recruiter"})
# As media.*: a browser's full offer is 4-8 KB; the socket frame cap is 64 KiB.
MAX_SDP = 32 * 1024
Id = Field(ge=1, le=MAX_ID)
SIGNAL = Rate(per_second=2, burst=10)  # a panel's browser watches up to four at once
ACTION = Rate(per_second=2, burst=10)
R = TypeVar("R", bound=Outbound)


class InterviewRef(Payload):
    interview_id: int = Id


class Join(InterviewRef):
    # Sent by the shared client on a rejoin (web/static/js/live.js); the snapshot always
    # carries the whole chat history, so there is nothing to replay after it.
    after: int | None = Field(default=None, ge=0, le=MAX_EVENT_ID)


class Open(Payload):
    booth_id: int = Id
    student_id: int = Id


class BoothRef(Payload):
    booth_id: int = Id


class AddInterviewer(InterviewRef):
    user_id: int = Id


class Offer(InterviewRef):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"]


class WatchOffer(Offer):
    user_id: int = Id


class Chat(InterviewRef):
    text: Text = Field(min_length=1, max_length=interview_chat.MAX_BODY)
    client_id: str = Field(min_length=1, max_length=64)


class Consent(InterviewRef):
    consent: bool


class Record(InterviewRef):
    on: bool


def _joined(conn: Connection) -> set[int]:
    return conn.state.interviews


async def seat(services: Services, conn: Connection, interview_id: int) -> service.Seat:
    """The caller's seat in an interview joined on this connection, fresh from the database."""
    if interview_id not in _joined(conn):
        raise NotFound()
    return await service.seat_of(services, conn.actor, interview_id)


# --- opening one from a booth (B6) -------------------------------------------------------


@events.on("interview.open", Open, roles=RECRUITERS, rate=Rate(per_second=1, burst=5))
async def open_interview(services: Services, conn: Connection, payload: Open) -> Opened:
    booth = await staff_booth(services, conn, payload.booth_id)
    return await interview_open.open_for_booth(services, conn.actor, booth, payload.student_id)


@events.on("interview.mine", BoothRef, roles=PEOPLE, rate=ACTION)
async def mine(services: Services, conn: Connection, payload: BoothRef) -> MyInterviews:
    booth, _ = await visible_booth(services, conn, payload.booth_id)
    return await interview_open.mine(services, conn.actor, booth)


@events.on("interview.add_interviewer", AddInterviewer, roles=RECRUITERS, rate=ACTION)
async def add_interviewer(
    services: Services, conn: Connection, payload: AddInterviewer
) -> service.Participants:
    found = await seat(services, conn, payload.interview_id)
    return await interview_open.add_interviewer(services, conn.actor, found, payload.user_id)


# --- the room (I2) -----------------------------------------------------------------------


@events.on("interview.join", Join, rate=ACTION)
async def join(services: Services, conn: Connection, payload: Join) -> service.Snapshot:
    found = await service.seat_of(services, conn.actor, payload.interview_id)
    _joined(conn).add(found.id)
    if found.admitted and not found.ended and found.open:
        await conn.enter(interview_room(found.id))
    ice = browser_ice_servers(services.settings, conn.user_id)
    reply = await _at_home(services, conn, found.id, calls.InterviewJoin, ice=ice)
    return service.Snapshot.model_validate(reply)


@events.on("interview.leave", InterviewRef, rate=ACTION)
async def leave(services: Services, conn: Connection, payload: InterviewRef) -> None:
    if payload.interview_id not in _joined(conn):
        raise NotFound()
    _joined(conn).discard(payload.interview_id)
    await conn.leave(interview_room(payload.interview_id))
    await _at_home(
        services, conn, payload.interview_id, calls.InterviewLeave, claim=False, reason="leave"
    )


@events.on("interview.admit", InterviewRef, roles=RECRUITERS, rate=ACTION)
async def admit(
    services: Services, conn: Connection, payload: InterviewRef
) -> service.Participants:
    return await _seated_at_home(
        services, conn, payload.interview_id, calls.InterviewAdmit, service.Participants
    )


@events.on("interview.end", InterviewRef, roles=RECRUITERS, rate=ACTION)
async def end(services: Services, conn: Connection, payload: InterviewRef) -> service.EndedReply:
    return await _seated_at_home(
        services, conn, payload.interview_id, calls.InterviewEnd, service.EndedReply
    )


# --- media -------------------------------------------------------------------------------


@events.on("interview.publish", Offer, roles=PEOPLE, rate=SIGNAL)
async def publish(services: Services, conn: Connection, payload: Offer) -> SdpAnswer:
    return await _seated_at_home(
        services, conn, payload.interview_id, calls.InterviewPublish, SdpAnswer, sdp=payload.sdp
    )


@events.on("interview.watch", WatchOffer, roles=PEOPLE, rate=SIGNAL)
async def watch(services: Services, conn: Connection, payload: WatchOffer) -> service.WatchAnswer:
    return await _seated_at_home(
        services,
        conn,
        payload.interview_id,
        calls.InterviewWatch,
        service.WatchAnswer,
        sdp=payload.sdp,
        user_id=payload.user_id,
    )


# --- chat, consent, recording (I3) -------------------------------------------------------


@events.on("interview.chat", Chat, roles=PEOPLE, rate=Rate(per_second=2, burst=10))
async def chat(services: Services, conn: Connection, payload: Chat) -> Posted | PostedBefore:
    found = await seat(services, conn, payload.interview_id)
    service.require_admitted(found)
    if not payload.text:  # only invisible characters, removed by cleaning
        raise ServiceError("request.invalid", "the payload is invalid", fields={"text": "empty"})
    return await interview_chat.post(
        services, conn.actor, found.id, found.fair_id, payload.text, payload.client_id
    )


@events.on("interview.consent", Consent, roles=PEOPLE, rate=ACTION)
async def consent(services: Services, conn: Connection, payload: Consent) -> service.ConsentSet:
    return await _seated_at_home(
        services,
        conn,
        payload.interview_id,
        calls.InterviewConsent,
        service.ConsentSet,
        consent=payload.consent,
    )


@events.on("interview.record", Record, roles=RECRUITERS, rate=ACTION)
async def record(services: Services, conn: Connection, payload: Record) -> RecordingView:
    return await _seated_at_home(
        services, conn, payload.interview_id, calls.InterviewRecord, RecordingView, on=payload.on
    )


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    """Disconnect and graceful stop close this connection's peers in every interview."""
    for interview_id in list(_joined(conn)):
        await _at_home(
            services, conn, interview_id, calls.InterviewLeave, claim=False, reason=reason
        )
    _joined(conn).clear()


# --- the media home: an interview's live room runs on one worker (rooms/media/homes.py) ---
# The calls are typed commands run by rooms/interviews/rooms.py (HOME_ROUTES); the worker
# holding the socket decides joins and keeps the socket's rooms.


def _home_key(interview_id: int) -> str:
    return f"interview:{interview_id}"


async def _at_home(
    services: Services,
    conn: Connection,
    interview_id: int,
    command: type[calls.InterviewCall],
    *,
    claim: bool = True,
    **args: Any,
) -> Any:
    call = command(
        interview_id=interview_id, connection_id=conn.id, caller=Caller.of(conn.actor), **args
    )
    return await services.homes.call(_home_key(interview_id), call, seated=_always, claim=claim)


async def _seated_at_home(
    services: Services,
    conn: Connection,
    interview_id: int,
    command: type[calls.InterviewCall],
    reply: type[R],
    **args: Any,
) -> R:
    """For events after interview.join on this connection; the home reads the seat afresh.
    Its answer (JSON, service.HomeReply) is read back into the service's model ``reply``."""
    if interview_id not in _joined(conn):
        raise NotFound()
    return reply.model_validate(await _at_home(services, conn, interview_id, command, **args))


def _always() -> bool:
    return True


HOME_ROUTES = calls.HOME_ROUTES
HOME_ROOMS: dict[str, RoomActivity] = {"interview": calls.live_here}
