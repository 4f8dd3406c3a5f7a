"""Interview slot pages (I1): a booth's (or job's) slots for students, the company's slot
desk, a booking's calendar file and "continue later" (I2). Views parse, authorise through
the rooms' access functions and call the same services as the socket events
(socket/interviews/slots.py); a refusal is shown on the page with a 400."""

from __future__ import annotations

from datetime import UTC
from typing import Any, Literal

from aiohttp import web
from icalendar import Calendar, Event
from pydantic import BaseModel, ConfigDict, Field

from fairserver.http.briefings.agenda import calendar_response
from fairserver.http.kit import actor_of, not_found, parse_form, render, require_login
from fairserver.i18n import gettext as _
from fairserver.keys import DB, SERVICES
from fairserver.rooms.errors import FormRefused, NotFound, ServiceError
from fairserver.rooms.interviews import slot_publish, slots, waitlist
from fairserver.rooms.interviews.access import access_interview
from fairserver.rooms.interviews.slot_publish import FollowUpForm, OptionalId, SeriesForm

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1
BOOTH_SLOTS = "/fairs/{slug}/booths/{booth_id:[0-9]{1,9}}/slots"
INTERVIEW = r"/interviews/{interview_id:\d{1,10}}"
CSS = "/static/css/slots.css"


class StudentAction(BaseModel):
    """One form for the student's buttons: what to do, and with which slot or entry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    action: Literal["book", "cancel", "reschedule", "join", "leave", "take", "decline"]
    slot_id: OptionalId = None
    to: OptionalId = None
    entry_id: OptionalId = None
    job: OptionalId = None


class CompanyAction(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    action: Literal["withdraw"]
    slot_id: int = Field(ge=1, le=MAX_ID)


def _job_param(request: web.Request) -> int | None:
    raw = request.query.get("job", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        not_found()
    return int(raw)


async def _scope(request: web.Request, job_id: int | None) -> slots.Scope:
    return await slots.access_scope(
        request.app[DB],
        actor_of(request),
        request.match_info["slug"],
        int(request.match_info["booth_id"]),
        job_id,
    )


def _notices() -> dict[str, str]:
    return {
        "booked": _("Booked. The interview is in your agenda."),
        "cancelled": _("Your booking is cancelled."),
        "rescheduled": _("Your booking is moved."),
        "joined": _("You are on the waitlist."),
        "left": _("You left the waitlist."),
    }


async def _slot_page(
    request: web.Request, scope: slots.Scope, error: str | None = None, status: int = 200
) -> web.Response:
    page = await slots.slot_page(request.app[SERVICES], actor_of(request), scope)
    notices = _notices()
    done = request.query.get("done", "")
    return render(
        request,
        "slots.html",
        {
            "fair": scope.fair,
            "page": page,
            "scope": scope,
            "error": error,
            "notice": notices.get(done),
            "css": CSS,
        },
        status=status,
    )


@routes.get(BOOTH_SLOTS)
async def slot_page(request: web.Request) -> web.Response:
    return await _slot_page(request, await _scope(request, _job_param(request)))


async def _student_action(request: web.Request, scope: slots.Scope, form: StudentAction) -> str:
    """Runs the action; returns the notice key for the redirect."""
    services, actor = request.app[SERVICES], actor_of(request)
    slots.require_booker(actor, scope)
    match form.action:
        case "book" if form.slot_id:
            await slots.book(services, actor, scope, form.slot_id)
            return "booked"
        case "cancel" if form.slot_id:
            await slots.cancel(services, actor, scope, form.slot_id)
            return "cancelled"
        case "reschedule" if form.slot_id and form.to:
            await slots.reschedule(services, actor, scope, form.slot_id, form.to)
            return "rescheduled"
        case "join":
            await slots.join_waitlist(services, actor, scope)
            return "joined"
        case "leave" if form.entry_id:
            await waitlist.leave_waitlist(services, actor, form.entry_id)
            return "left"
        case "take" if form.entry_id:
            await waitlist.take_offer(services, actor, form.entry_id)
            return "booked"
        case "decline" if form.entry_id:
            await waitlist.decline_offer(services, actor, form.entry_id)
            return "left"
    raise ServiceError("request.invalid", _("Choose a slot first."))


@routes.post(BOOTH_SLOTS)
async def slot_action(request: web.Request) -> web.Response:
    # The scope first: a caller who may not book here gets the 404 before any form check.
    scope = await _scope(request, None)
    slots.require_booker(actor_of(request), scope)
    form, errors, _raw = await parse_form(request, StudentAction)
    if form is None:
        return await _slot_page(request, scope, "; ".join(errors.values()), 400)
    scope = await _scope(request, form.job)
    try:
        done = await _student_action(request, scope, form)
    except NotFound:
        raise
    except ServiceError as refused:
        return await _slot_page(request, scope, refused.message, 400)
    separator = "&" if "?" in scope.url else "?"
    raise web.HTTPSeeOther(f"{scope.url}{separator}done={done}")


# The company's slot desk ----------------------------------------------------------------


async def _company_fair(request: web.Request) -> slot_publish.CompanyFair:
    actor = require_login(request)
    return await slot_publish.access_company_fair(
        request.app[DB], actor, request.match_info["slug"]
    )


async def _company_page(
    request: web.Request,
    cf: slot_publish.CompanyFair,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    desk = await slot_publish.company_slots(request.app[DB], cf)
    return render(
        request,
        "company_slots.html",
        {
            "fair": cf.fair.fair,
            "desk": desk,
            "values": values,
            "errors": errors,
            "chosen": {str(v) for v in values.get("interviewers", ())},
            "saved": request.query.get("done"),
            "css": CSS,
        },
        status=status,
    )


@routes.get("/company/fairs/{slug}/slots")
async def company_page(request: web.Request) -> web.Response:
    cf = await _company_fair(request)
    actor = actor_of(request)
    values: dict[str, Any] = {
        "count": "6",
        "length": "20",
        "buffer": "10",
        "interviewers": [str(actor.user_id)],
    }
    return await _company_page(request, cf, values, {})


@routes.post("/company/fairs/{slug}/slots")
async def company_action(request: web.Request) -> web.Response:
    cf = await _company_fair(request)
    services, actor = request.app[SERVICES], actor_of(request)
    posted = await request.post()
    if posted.get("action") == "withdraw":
        action, errors, raw = await parse_form(request, CompanyAction)
        if action is None:
            return await _company_page(request, cf, raw, errors, 400)
        await slot_publish.withdraw(services, actor, cf, action.slot_id)
        raise web.HTTPSeeOther(f"/company/fairs/{cf.fair.fair.slug}/slots?done=withdrawn")
    form, errors, raw = await parse_form(request, SeriesForm)
    raw.pop("action", None)
    if form is not None:
        try:
            await slot_publish.publish_series(services, actor, cf, form)
        except FormRefused as refused:
            errors = refused.errors
        else:
            raise web.HTTPSeeOther(f"/company/fairs/{cf.fair.fair.slug}/slots?done=published")
    return await _company_page(request, cf, raw, errors, 400)


# A booking's calendar file and "continue later" ------------------------------------------


def _interview_id(request: web.Request) -> int:
    interview_id = int(request.match_info["interview_id"])
    if interview_id > MAX_ID:
        not_found()
    return interview_id


@routes.get(INTERVIEW + "/booking.ics")
async def booking_ics(request: web.Request) -> web.Response:
    """The booked slot as a calendar entry, for the candidate and the panel."""
    actor = require_login(request)
    interview, _me = await access_interview(request.app[DB], actor, _interview_id(request))
    slot = await slots.interview_slot(request.app[DB], interview)
    origin = str(request.url.origin())
    event = Event()
    event.add("uid", f"interview-{interview.id}@fairserver")
    event.add("dtstamp", request.app[SERVICES].clock().astimezone(UTC))
    event.add("dtstart", slot.starts_at.astimezone(UTC))
    event.add("dtend", slot.ends_at.astimezone(UTC))
    title = interview.company_name if slot.job_title is None else slot.job_title
    event.add("summary", _("Interview: %(title)s") % {"title": title})
    event.add("description", f"{interview.company_name} — {interview.student_name}")
    event.add("url", f"{origin}/interviews/{interview.id}")
    event.add("status", "CANCELLED" if interview.state == "cancelled" else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", "-//fairserver//interview booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar_response(bytes(calendar.to_ical()), f"interview-{interview.id}")


async def _follow_up_page(
    request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> web.Response:
    actor = require_login(request)
    interview, me = await access_interview(request.app[DB], actor, _interview_id(request))
    slot_publish.require_interviewer(me)
    return render(
        request,
        "slots_follow_up.html",
        {"interview": interview, "values": values, "errors": errors, "css": CSS},
        status=status,
    )


@routes.get(INTERVIEW + "/follow-up")
async def follow_up_page(request: web.Request) -> web.Response:
    return await _follow_up_page(request, {"length": "30"}, {})


@routes.post(INTERVIEW + "/follow-up")
async def follow_up(request: web.Request) -> web.Response:
    actor = require_login(request)
    interview, me = await access_interview(request.app[DB], actor, _interview_id(request))
    slot_publish.require_interviewer(me)
    form, errors, raw = await parse_form(request, FollowUpForm)
    if form is not None:
        try:
            new_id = await slot_publish.follow_up(request.app[SERVICES], actor, interview, me, form)
        except FormRefused as refused:
            errors = refused.errors
        else:
            raise web.HTTPSeeOther(f"/interviews/{new_id}")
    return await _follow_up_page(request, raw, errors, 400)
