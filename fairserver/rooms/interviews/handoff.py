"""Handing an interview to a colleague (I2): an interviewer makes another recruiter of the
same company responsible for it (interviews.owner_id).

The colleague joins the panel if they are not on it yet (at most four interviewers), is
invited in their own user room, and everyone in the room hears the new panel and owner.
Anyone but a colleague of the interview's company (another company's recruiter, a
student, an organiser) is not_found, like a missing user. Two hand-offs at once: the
conditional UPDATE of owner_id lets the first win and refuses the second
(interview.handed_off), so the history never shows a hand-off that did not happen.
A panel change touches the room's in-memory recording state, so it runs on the media home.
"""

from __future__ import annotations

from typing import ClassVar

from fairserver.auth import Actor
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.interviews import rooms as interviews
from fairserver.rooms.interviews.home_calls import HomeReply, InterviewCall
from fairserver.rooms.interviews.opening import add_to_panel, tell_colleague
from fairserver.rooms.interviews.rooms import Participants, Seat
from fairserver.rooms.media.homes import HomeRoutes, Seated
from fairserver.store import booth_live, history
from fairserver.store import interviews as store


async def hand_off(services: Services, actor: Actor, seat: Seat, user_id: int) -> Participants:
    interviews.require_interviewer(seat)
    interviews.require_open(seat)
    if user_id == actor.user_id:
        raise ServiceError("interview.hand_off_self", "choose a colleague, not yourself")
    now = services.clock()
    async with services.db.begin() as conn:
        colleague = await booth_live.colleague(conn, seat.interview.company_id, user_id)
        if colleague is None:
            raise NotFound()
        # The owner as the caller's seat saw it: if it changed since, this hand-off is
        # refused rather than applied on top of one the caller never saw.
        previous = seat.interview.owner_id
        if previous == user_id:
            raise ServiceError("interview.already_owner", "they already have this interview")
        if await store.participant(conn, seat.id, user_id) is None:
            await add_to_panel(conn, seat.id, user_id, now)
        if not await store.hand_owner(conn, seat.id, previous, user_id):
            raise ServiceError(
                "interview.handed_off", "a colleague handed this interview off just now"
            )
        await history.record(
            conn, seat.id, actor.user_id, now, "hand_off", from_user_id=previous, to_user_id=user_id
        )
    return await tell_colleague(services, actor, seat, user_id)


class InterviewHandOff(InterviewCall):
    call: ClassVar[str] = "interview.hand_off"
    user_id: int


HOME_ROUTES = HomeRoutes()


@HOME_ROUTES.on(InterviewHandOff)
async def _hand_off(services: Services, command: InterviewHandOff, seated: Seated) -> HomeReply:
    found = await command.seat(services)
    reply = await hand_off(services, command.caller.actor(), found, command.user_id)
    return reply.model_dump(mode="json")
