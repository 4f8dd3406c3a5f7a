"""The briefing hall (F4): agenda, briefing pages, .ics export and scheduling."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fairserver.auth import Actor
from fairserver.clock import utcnow
from fairserver.http.fairs.pages import visible_fair
from fairserver.http.kit import actor_of, not_found, parse_form, render, require
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.briefings import schedule as service
from fairserver.rooms.briefings.access import access_briefing, visible_briefings
from fairserver.rooms.briefings.replay import briefing_replays
from fairserver.rooms.interviews import slots as interview_slots
from fairserver.rows import BriefingRow

routes = web.RouteTableDef()

# Ids beyond a 32-bit integer cannot exist, and PostgreSQL would refuse the parameter.
MAX_ID = 2**31 - 1
BRIEFING = r"/fairs/{slug}/briefings/{id:\d{1,10}}"


def _briefing_id(request: web.Request) -> int:
    briefing_id = int(request.match_info["id"])
    if briefing_id > MAX_ID:
        not_found()
    return briefing_id


def _can_edit(actor: Actor, fa: FairAccess, briefing: BriefingRow) -> bool:
    return can(actor, Right.BRIEFING_SCHEDULE, (fa, briefing.company_id))


async def _shown_briefings(request: web.Request, fa: FairAccess) -> list[BriefingRow]:
    """Attendees see briefings of approved companies; organisers see every one."""
    return await visible_briefings(request.app[DB], actor_of(request), fa)


async def _one_briefing(request: web.Request) -> tuple[FairAccess, BriefingRow]:
    """The briefing of the URL, or the 404 for a missing, hidden or other fair's one."""
    return await access_briefing(
        request.app[DB], actor_of(request), request.match_info["slug"], _briefing_id(request)
    )


def _page_url(request: web.Request, slug: str) -> Callable[[int], str]:
    origin = str(request.url.origin())
    return lambda briefing_id: f"{origin}/fairs/{slug}/briefings/{briefing_id}"


def _ascii_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:100] or "agenda"


def calendar_response(body: bytes, filename: str) -> web.Response:
    response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_ascii_filename(filename)}.ics"'
    )
    return response


def _can_schedule_any(actor: Actor, fa: FairAccess) -> bool:
    company = actor.company_id if actor.role == "recruiter" else None
    return can(actor, Right.BRIEFING_SCHEDULE, (fa, company))


@routes.get("/fairs/{slug}/agenda")
async def agenda(request: web.Request) -> web.Response:
    fa = await visible_fair(request, request.match_info["slug"])
    actor = actor_of(request)
    briefings = await _shown_briefings(request, fa)
    return render(
        request,
        "agenda.html",
        {
            "fair": fa.fair,
            "days": service.agenda_days(briefings, fa.fair.timezone),
            "editable": {b.id for b in briefings if _can_edit(actor, fa, b)},
            "can_schedule": _can_schedule_any(actor, fa),
            # I1: the student's own booked interviews in this fair.
            "bookings": await interview_slots.bookings_of(request.app[DB], actor, fa.id),
        },
    )


@routes.get("/fairs/{slug}/agenda.ics")
async def agenda_ics(request: web.Request) -> web.Response:
    fa = await visible_fair(request, request.match_info["slug"])
    briefings = [b for b in await _shown_briefings(request, fa) if b.status != "cancelled"]
    slug = str(fa.fair.slug)
    body = service.briefing_calendar(fa.fair, briefings, _page_url(request, slug), utcnow())
    return calendar_response(body, f"{slug}-agenda")


@routes.get(BRIEFING)
async def briefing_page(request: web.Request) -> web.Response:
    fa, briefing = await _one_briefing(request)
    replays = await briefing_replays(request.app[DB], briefing.id)
    return render(
        request,
        "briefing.html",
        {
            "fair": fa.fair,
            "briefing": briefing,
            "can_edit": _can_edit(actor_of(request), fa, briefing),
            "replays": len(replays),
        },
    )


@routes.get(BRIEFING + ".ics")
async def briefing_ics(request: web.Request) -> web.Response:
    fa, briefing = await _one_briefing(request)
    slug = str(fa.fair.slug)
    body = service.briefing_calendar(fa.fair, [briefing], _page_url(request, slug), utcnow())
    return calendar_response(body, f"{slug}-briefing-{briefing.id}")


# Scheduling -------------------------------------------------------------------


def _own_company(actor: Actor) -> int | None:
    """A recruiter schedules for their own company; organisers and admins choose one."""
    return actor.company_id if actor.role == "recruiter" else None


async def _render_form(
    request: web.Request,
    fa: FairAccess,
    values: dict[str, Any],
    errors: dict[str, str],
    briefing: BriefingRow | None = None,
) -> web.Response:
    own = _own_company(actor_of(request))
    companies, recruiters = await service.form_choices(request.app[DB], fa, own)
    groups = [(c, [r for r in recruiters if r.company_id == c.id]) for c in companies]
    return render(
        request,
        "briefing_form.html",
        {
            "fair": fa.fair,
            "briefing": briefing,
            "companies": companies,
            "company_fixed": own is not None,
            "groups": groups,
            "values": values,
            "errors": errors,
            "window": service.window_inputs(fa.fair),
        },
        status=400 if errors else 200,
    )


async def _schedulable_fair(request: web.Request) -> FairAccess:
    fa = await visible_fair(request, request.match_info["slug"])
    actor = actor_of(request)
    require(actor, Right.BRIEFING_SCHEDULE, (fa, _own_company(actor)))
    return fa


@routes.get("/fairs/{slug}/briefings/new")
async def new_briefing_page(request: web.Request) -> web.Response:
    fa = await _schedulable_fair(request)
    actor = actor_of(request)
    own = _own_company(actor)
    # A recruiter usually presents their own briefing: start with them ticked.
    presenters = [str(actor.user_id)] if own is not None else []
    values: dict[str, Any] = {"duration": "45", "presenters": presenters, "company": own or ""}
    return await _render_form(request, fa, values, {})


@routes.post("/fairs/{slug}/briefings/new")
async def create_briefing(request: web.Request) -> web.Response:
    fa = await _schedulable_fair(request)
    actor = actor_of(request)
    form, errors, raw = await parse_form(request, service.BriefingForm)
    if form is not None:
        company_id = _own_company(actor) or form.company
        try:
            if company_id is not None:
                require(actor, Right.BRIEFING_SCHEDULE, (fa, company_id))
            briefing_id = await service.schedule_briefing(request.app[DB], fa, company_id, form)
        except service.ScheduleRefused as refused:
            errors = refused.errors
        else:
            raise web.HTTPSeeOther(f"/fairs/{fa.fair.slug}/briefings/{briefing_id}")
    return await _render_form(request, fa, raw, errors)


async def _editable_briefing(request: web.Request) -> tuple[FairAccess, BriefingRow]:
    fa, briefing = await _one_briefing(request)
    require(actor_of(request), Right.BRIEFING_SCHEDULE, (fa, briefing.company_id))
    return fa, briefing


@routes.get(BRIEFING + "/edit")
async def edit_briefing_page(request: web.Request) -> web.Response:
    fa, briefing = await _editable_briefing(request)
    values = service.form_values(briefing, fa.fair.timezone)
    return await _render_form(request, fa, values, {}, briefing)


@routes.post(BRIEFING + "/edit")
async def save_briefing(request: web.Request) -> web.Response:
    fa, briefing = await _editable_briefing(request)
    actor = actor_of(request)
    form, errors, raw = await parse_form(request, service.BriefingForm)
    if form is not None:
        company_id = _own_company(actor) or form.company or briefing.company_id
        try:
            require(actor, Right.BRIEFING_SCHEDULE, (fa, company_id))
            await service.change_briefing(request.app[DB], fa, briefing, company_id, form)
        except service.ScheduleRefused as refused:
            errors = refused.errors
        else:
            raise web.HTTPSeeOther(f"/fairs/{fa.fair.slug}/briefings/{briefing.id}")
    return await _render_form(request, fa, raw, errors, briefing)
