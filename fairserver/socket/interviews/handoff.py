"""interview.hand_off (I2): an interviewer hands the interview to a colleague of the same
company. Decided in rooms/interviews/handoff.py, run on the interview's media home
(a panel change may stop a recording that lacks the newcomer's consent)."""

from __future__ import annotations

from pydantic import Field

from fairserver.rooms.context import Services
from fairserver.rooms.interviews import handoff as service
from fairserver.rooms.interviews.rooms import Participants
from fairserver.socket.interviews.rooms import (
    ACTION,
    MAX_ID,
    RECRUITERS,
    InterviewRef,
    _seated_at_home,
)
from fairserver.socket.kit import Connection, EventRegistry

events = EventRegistry()


class HandOff(InterviewRef):
    user_id: int = Field(ge=1, le=MAX_ID, strict=True)  # never a bool or a string


@events.on("interview.hand_off", HandOff, roles=RECRUITERS, rate=ACTION)
async def hand_off(services: Services, conn: Connection, payload: HandOff) -> Participants:
    return await _seated_at_home(
        services,
        conn,
        payload.interview_id,
        service.InterviewHandOff,
        Participants,
        user_id=payload.user_id,
    )


HOME_ROUTES = service.HOME_ROUTES
