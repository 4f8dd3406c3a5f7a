"""Video interview rooms: escalating a booth chat (B6), the waiting room and panel (I2),
recording consent (I3) and attendance (I6).

Only participants (rows in interview_participants) see an interview; to anyone else it does
not exist (not_found, like a missing id). The candidate waits ("knocks") until an
interviewer admits them; interviewers are admitted when added. Only admitted participants
publish, watch and chat. State: waiting until the candidate is first admitted, then live
(started_at), then ended (ended_at). A booked slot's interview is scheduled until its start
and opens then (rooms/interviews/timing.py; hand-off in handoff.py, wrap-up in wrapup.py).
Media and presence are in interview_media.py, recording in interview_recording.py, the
in-room chat in interview_chat.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fairserver.auth import Actor
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.fairs import attendance
from fairserver.rooms.interviews import chat as interview_chat
from fairserver.rooms.interviews import media, recording
from fairserver.rooms.interviews.access import access_interview
from fairserver.rooms.interviews.chat import ChatMessage
from fairserver.rooms.interviews.media import (
    InterviewRoom,
    PublisherView,
    SdpAnswer,
    interview_room,
)
from fairserver.rooms.interviews.recording import RecordingView
from fairserver.rooms.interviews.timing import SlotView, not_open_error, opens_at, slot_view
from fairserver.rooms.notify import Outbound, user_room
from fairserver.store import interviews as store
from fairserver.store.interviews import InterviewRow, ParticipantRow, SlotTimesRow


def interview_url(interview_id: int) -> str:
    return f"/interviews/{interview_id}"


@dataclass(frozen=True)
class Seat:
    """The caller's place in an interview, as the database said when they asked."""

    interview: InterviewRow
    me: ParticipantRow
    # A booked slot's times (None: no slot), and whether its room was open to the caller
    # when they asked (rooms/interviews/timing.py).
    slot: SlotTimesRow | None = None
    open: bool = True

    @property
    def id(self) -> int:
        return self.interview.id

    @property
    def fair_id(self) -> int:
        return self.interview.fair_id

    @property
    def interviewer(self) -> bool:
        return self.me.role == "interviewer"

    @property
    def admitted(self) -> bool:
        return self.me.admitted_at is not None

    @property
    def ended(self) -> bool:
        return self.interview.state in store.CLOSED_STATES


class InterviewSummary(Outbound):
    """An interview as listed (interview.mine) and opened (interview.open)."""

    interview_id: int
    url: str
    state: str
    company_name: str
    student_id: int
    student_name: str


class ParticipantView(Outbound):
    user_id: int
    display_name: str
    role: str
    admitted: bool
    consented: bool
    present: bool


class Participants(Outbound):
    interview_id: int
    state: str
    started_at: datetime | None
    owner_id: int | None  # the recruiter responsible; a hand-off changes it
    participants: list[ParticipantView]


class Me(Outbound):
    user_id: int
    role: str
    admitted: bool
    consented: bool


class Snapshot(InterviewSummary):
    """interview.join's answer: the room as this participant finds it. Its times are
    ``isoformat()`` strings, as the page has always read them."""

    room: str
    now: str  # the page's timer corrects its clock by it
    # A booked slot's times and whether its room is open to the caller yet (None: no slot).
    slot: SlotView | None
    owner_id: int | None
    started_at: str | None
    ended_at: str | None
    me: Me
    participants: list[ParticipantView]
    recording: RecordingView
    publishers: list[PublisherView]
    messages: list[ChatMessage]
    # Stays a list of dicts: RTCIceServer entries passed to the browser as they are
    # (webrtc/ice.py); a STUN entry has only "urls", a TURN one adds username and credential.
    ice_servers: list[dict[str, Any]]


class ConsentSet(Participants):
    """interview.consent's answer: the participants, and the caller's consent now."""

    consent: bool


class Admitted(Outbound):
    interview_id: int
    url: str


class Ended(Outbound):
    interview_id: int
    ended_at: datetime | None


class EndedReply(Outbound):
    """interview.end's answer."""

    interview_id: int
    state: str
    ended_at: str  # isoformat()


class WatchAnswer(SdpAnswer):
    """interview.watch's answer: the server's answer and whom it carries."""

    user_id: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def seat_of(services: Services, actor: Actor, interview_id: int) -> Seat:
    row, me = await access_interview(services, actor, interview_id)
    if row.slot_id is None:
        return Seat(row, me)
    async with services.db.connect() as conn:
        slot = await store.slot_times(conn, interview_id)
    is_open = slot is None or services.clock() >= opens_at(slot, me.role)
    return Seat(row, me, slot, is_open)


def require_interviewer(seat: Seat) -> None:
    if not seat.interviewer:
        raise NotFound()


def require_open(seat: Seat) -> None:
    if seat.ended:
        raise ServiceError("interview.ended", "this interview has ended")


def require_admitted(seat: Seat) -> None:
    """Media and chat: an admitted participant of an interview that has not ended."""
    require_open(seat)
    if not seat.open and seat.slot is not None:
        raise not_open_error(seat.slot)
    if not seat.admitted:
        raise ServiceError("interview.not_admitted", "wait until an interviewer lets you in")


def require_started(services: Services, seat: Seat) -> None:
    """Admitting, and a candidate's knock, wait for the slot's start."""
    if seat.slot is not None and services.clock() < seat.slot.starts_at:
        raise not_open_error(seat.slot)


def summary(row: InterviewRow) -> InterviewSummary:
    return InterviewSummary(
        interview_id=row.id,
        url=interview_url(row.id),
        state=row.state,
        company_name=row.company_name,
        student_id=row.student_id,
        student_name=row.student_name,
    )


# --- the room: presence, the waiting room, state ---------------------------------------


async def participants_event(services: Services, interview_id: int) -> Participants:
    async with services.db.connect() as conn:
        row = await store.interview(conn, interview_id)
        people = await store.participants(conn, interview_id)
    room = services.interview_rooms.rooms.get(interview_id)
    present = room.present_users() if room else set()
    assert row is not None
    return Participants(
        interview_id=interview_id,
        state=row.state,
        started_at=row.started_at,
        owner_id=row.owner_id,
        participants=[
            ParticipantView(
                user_id=p.user_id,
                display_name=p.display_name,
                role=p.role,
                admitted=p.admitted_at is not None,
                consented=p.consented_at is not None,
                present=p.user_id in present,
            )
            for p in people
        ],
    )


async def broadcast_participants(services: Services, interview_id: int) -> Participants:
    event = await participants_event(services, interview_id)
    await services.notifier.emit(interview_room(interview_id), "interview.participants", event)
    return event


async def snapshot(services: Services, seat: Seat, ice_servers: list[dict[str, Any]]) -> Snapshot:
    people = await participants_event(services, seat.id)
    room = services.interview_rooms.rooms.get(seat.id)
    active = seat.admitted and not seat.ended and seat.open
    now = services.clock()
    return Snapshot(
        **summary(seat.interview).model_dump(),
        room=interview_room(seat.id),
        now=now.isoformat(),
        slot=slot_view(seat.slot, seat.me.role, now) if seat.slot else None,
        owner_id=people.owner_id,
        started_at=_iso(seat.interview.started_at),
        ended_at=_iso(seat.interview.ended_at),
        me=Me(
            user_id=seat.me.user_id,
            role=seat.me.role,
            admitted=seat.admitted,
            consented=seat.me.consented_at is not None,
        ),
        participants=people.participants,
        recording=recording.recording_view(room),
        publishers=room.publisher_views() if room and active else [],
        messages=await interview_chat.history(services, seat.id) if active else [],
        ice_servers=ice_servers if active else [],
    )


async def join(
    services: Services,
    connection_id: str,
    actor: Actor,
    seat: Seat,
    ice_servers: list[dict[str, Any]],
) -> Snapshot:
    """Present in the room (knocking, for a candidate not yet admitted) and its state.
    Before a slot's room opens the caller is on record as arrived (on time) but not
    present: nobody sees a knock, and the page joins again when the room opens."""
    if seat.ended:
        return await snapshot(services, seat, ice_servers)
    # Committed before the ack: arrival time is what I6's late arrivals are made of.
    await attendance.open_interval(
        services,
        connection_id=connection_id,
        user_id=actor.user_id or 0,
        fair_id=seat.fair_id,
        kind="interview",
        subject_id=seat.id,
    )
    if not seat.open:
        return await snapshot(services, seat, ice_servers)
    if seat.slot is not None and services.clock() >= seat.slot.starts_at:
        async with services.db.begin() as conn:
            opened = await store.open_scheduled(conn, seat.id)  # the slot started: it opens
        if opened:
            seat = await seat_of(services, actor, seat.id)
    room = services.interview_rooms.room(seat.id, seat.fair_id)
    room.present[connection_id] = actor.user_id or 0
    await broadcast_participants(services, seat.id)
    return await snapshot(services, seat, ice_servers)


async def leave(services: Services, connection_id: str, interview_id: int, reason: str) -> None:
    """Leave, disconnect or shutdown: this connection's peers close and it is no longer here."""
    rooms = services.interview_rooms
    await attendance.close_intervals(
        services, connection_id, reason, kind="interview", subject_id=interview_id
    )
    room = rooms.rooms.get(interview_id)
    if room is None:
        return
    room.present.pop(connection_id, None)
    await rooms.close_connection(room, connection_id)
    rooms.retire_if_empty(room)
    if reason != "shutdown":
        await broadcast_participants(services, interview_id)


async def admit(services: Services, seat: Seat) -> Participants:
    """An interviewer lets the candidate in; the first admission makes the interview live."""
    require_interviewer(seat)
    require_open(seat)
    require_started(services, seat)
    candidate = seat.interview.student_id
    now = services.clock()
    async with services.db.begin() as conn:
        await store.open_scheduled(conn, seat.id)  # a slot's room opens at its start
        admitted = await store.admit(conn, seat.id, candidate, now)
        await store.go_live(conn, seat.id, now)
    if admitted:
        event = Admitted(interview_id=seat.id, url=interview_url(seat.id))
        await services.notifier.emit(user_room(candidate), "interview.admitted", event)
    return await after_panel_change(services, seat.id)


async def after_panel_change(services: Services, interview_id: int) -> Participants:
    """Someone was admitted or added: a recording runs only if they consented too."""
    room = services.interview_rooms.rooms.get(interview_id)
    if room is not None:
        async with room.lock:
            await enforce_consent(services, room)
    return await broadcast_participants(services, interview_id)


async def enforce_consent(services: Services, room: InterviewRoom) -> None:
    if room.recording_since is None:
        return
    async with services.db.connect() as conn:
        people = await store.participants(conn, room.interview_id)
    if recording.missing_consent(people):
        await recording.stop(services, room, "consent_missing")


async def set_consent(services: Services, seat: Seat, consent: bool) -> ConsentSet:
    require_open(seat)
    at = services.clock() if consent else None
    room = services.interview_rooms.rooms.get(seat.id)
    async with services.db.begin() as conn:
        await store.set_consent(conn, seat.id, seat.me.user_id, at)
    if room is not None and not consent:
        async with room.lock:  # a recording starting right now sees the withdrawal
            await recording.stop(services, room, "consent_missing")
    event = await broadcast_participants(services, seat.id)
    return ConsentSet(**event.model_dump(), consent=consent)


async def set_recording(services: Services, actor: Actor, seat: Seat, on: bool) -> RecordingView:
    """An interviewer starts or stops recording; starting needs everyone's consent."""
    require_interviewer(seat)
    require_admitted(seat)
    room = services.interview_rooms.room(seat.id, seat.fair_id)
    async with room.lock:
        if on:
            async with services.db.connect() as conn:
                people = await store.participants(conn, seat.id)
            missing = recording.missing_consent(people)
            if missing:
                raise ServiceError(
                    "interview.consent_missing",
                    "everyone in the interview must consent before it is recorded",
                    missing=missing,
                )
            await recording.start(services, room, actor.user_id or 0)
        else:
            await recording.stop(services, room, "stopped")
    return recording.recording_view(room)


async def end(services: Services, seat: Seat) -> EndedReply:
    """An interviewer ends the interview: every peer closes and everyone is told."""
    require_interviewer(seat)
    now = services.clock()
    async with services.db.begin() as conn:
        ended = await store.end(conn, seat.id, now)
    rooms = services.interview_rooms
    room = rooms.rooms.get(seat.id)
    if room is not None:
        async with room.lock:
            await recording.stop(services, room, "ended")
        await rooms.close_room(room)
        for connection_id in list(room.present):
            await attendance.close_intervals(
                services, connection_id, "leave", kind="interview", subject_id=seat.id
            )
        room.present.clear()
    if ended:
        event = Ended(interview_id=seat.id, ended_at=now)
        await services.notifier.emit(interview_room(seat.id), "interview.ended", event)
        # A candidate still knocking is not in the room: tell them in their own.
        candidate = seat.interview.student_id
        await services.notifier.emit(user_room(candidate), "interview.ended", event)
    return EndedReply(interview_id=seat.id, state="ended", ended_at=now.isoformat())


# --- media -----------------------------------------------------------------------------


async def publish(
    services: Services, connection_id: str, actor: Actor, seat: Seat, sdp: str
) -> SdpAnswer:
    require_admitted(seat)
    rooms = services.interview_rooms
    room = rooms.room(seat.id, seat.fair_id)
    return await media.publish(
        rooms, room, connection_id, actor.user_id or 0, actor.display_name, sdp
    )


async def watch(
    services: Services, connection_id: str, seat: Seat, user_id: int, sdp: str
) -> WatchAnswer:
    require_admitted(seat)
    async with services.db.connect() as conn:
        target = await store.participant(conn, seat.id, user_id)
    if target is None or target.admitted_at is None or user_id == seat.me.user_id:
        raise NotFound()
    rooms = services.interview_rooms
    room = rooms.room(seat.id, seat.fair_id)
    answer = await media.watch(rooms, room, connection_id, user_id, sdp)
    return WatchAnswer(sdp=answer.sdp, type=answer.type, user_id=user_id)
