"""The interview room page (I2): only its participants see it; for anyone else it does not
exist (the same 404 as a missing id). The room itself runs over socket.io and WebRTC
(web/static/js/interview.js, events interview.* in fairserver/socket/interviews/rooms.py)."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import not_found, render, require_login
from fairserver.keys import DB
from fairserver.rooms.interviews import access as interviews
from fairserver.rooms.interviews import attendance_report
from fairserver.rooms.interviews import timing as slot_room
from fairserver.rooms.interviews.access import CLOSED_STATES, access_interview

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1


@routes.get("/interviews")
async def my_interviews(request: web.Request) -> web.Response:
    """The interviews the caller takes part in: where a colleague added to a panel, or a
    student who closed the booth page, finds the room again."""
    actor = require_login(request)
    rows = await interviews.interviews_of(request.app[DB], actor)
    return render(
        request,
        "interviews.html",
        {
            "upcoming": [r for r in rows if r.state not in CLOSED_STATES],
            "past": [r for r in rows if r.state in CLOSED_STATES],
        },
    )


@routes.get(r"/interviews/{interview_id:\d{1,10}}")
async def interview_page(request: web.Request) -> web.Response:
    actor = require_login(request)
    interview_id = int(request.match_info["interview_id"])
    if interview_id > MAX_ID:
        not_found()
    interview, me = await access_interview(request.app[DB], actor, interview_id)
    people, staff = await interviews.panel(request.app[DB], interview)
    taking_part = {p.user_id for p in people}
    is_interviewer = me.role == "interviewer"
    return render(
        request,
        "interview.html",
        {
            "interview": interview,
            "me": me,
            "colleagues": (
                [c for c in staff if c.id not in taking_part] if me.role == "interviewer" else []
            ),
            "ended": interview.state in CLOSED_STATES,
            # A booked slot's room (I2), hand-off and attendance (I6): docs/decisions.md §26.
            **await slot_room.page_context(request.app[DB], interview, me, staff),
            "attendance": (
                await attendance_report.report(request.app[DB], interview)
                if is_interviewer
                else None
            ),
        },
    )
