"""Organiser views: dashboard, fair settings (F1), participation (F2), roster (F3), export."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fairserver.auth import Actor
from fairserver.http.kit import parse_form, render, require, require_login
from fairserver.i18n import gettext as _
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right
from fairserver.rooms.accounts import registration as accounts
from fairserver.rooms.accounts import roster
from fairserver.rooms.errors import Refused, ServiceError
from fairserver.rooms.fairs import export
from fairserver.rooms.fairs import halls as fair_halls
from fairserver.rooms.fairs import organising as service
from fairserver.rooms.fairs.access import access_fair
from fairserver.rooms.interviews import slots as interview_slots
from fairserver.rows import FairRow

routes = web.RouteTableDef()

STUDENTS_PER_PAGE = 100
CSS = "/static/css/organiser.css"


def _staff(request: web.Request) -> Actor:
    """An organiser or an admin; anyone else gets the 404 of a page that isn't there."""
    actor = require_login(request)
    require(actor, Right.FAIR_CREATE)
    return actor


async def _managed_fair(request: web.Request) -> tuple[Actor, FairAccess]:
    actor = require_login(request)
    access = await access_fair(
        request.app[DB], actor, request.match_info["slug"], Right.FAIR_MANAGE
    )
    return actor, access


def _hall_labels() -> list[tuple[str, str]]:
    return [
        ("booth", _("Booth hall")),
        ("briefing", _("Briefing hall")),
        ("policy", _("Policy hall")),
        ("registration", _("Registration hall")),
    ]


@routes.get("/organiser")
async def dashboard(request: web.Request) -> web.Response:
    actor = _staff(request)
    db = request.app[DB]
    fairs = await service.fairs_of(db, None if actor.is_admin else actor.school_id)
    school = await fair_halls.school(db, actor.school_id)
    return render(
        request, "organiser/dashboard.html", {"fairs": fairs, "school": school, "css": CSS}
    )


# Fair settings (F1)


async def _read_fair_form(
    request: web.Request,
) -> tuple[service.FairForm | None, dict[str, str], dict[str, Any]]:
    """(valid form or None, errors by field, values to refill the form with)."""
    form, errors, raw = await parse_form(request, service.FairForm)
    return form, (form.problems() if form is not None else errors), raw


async def _fair_form_page(
    request: web.Request,
    values: dict[str, Any],
    errors: dict[str, str],
    fair: FairRow | None = None,
    status: int = 200,
) -> web.Response:
    schools = await accounts.schools(request.app[DB])
    context = {
        "fair": fair,
        "school_options": [(s.id, s.name) for s in schools],
        "values": values,
        "errors": errors,
        "schools": schools,
        "chosen_schools": {str(s) for s in values.get("schools", ())},
        "timezones": service.COMMON_TIMEZONES,
        "hall_labels": _hall_labels(),
        "css": CSS,
    }
    return render(request, "organiser/fair_form.html", context, status=status)


def _new_fair_values(actor: Actor) -> dict[str, Any]:
    values: dict[str, Any] = {
        "timezone": service.DEFAULT_TIMEZONE,
        "visibility": "campus",
        "school_id": "" if actor.school_id is None else str(actor.school_id),
        "schools": set(),
    }
    for kind, label in _hall_labels():
        values[f"hall_{kind}"] = "1"
        values[f"hall_{kind}_title"] = label
    return values


def _fair_school(actor: Actor, form: service.FairForm, current: int | None) -> int | None:
    """Whose fair it is: an organiser's own school; for an admin, the one chosen."""
    if not actor.is_admin:
        return actor.school_id
    return form.school_id if form.school_id is not None else current


async def _save(request: web.Request, actor: Actor, fair: FairRow | None) -> web.Response:
    form, errors, values = await _read_fair_form(request)
    if form is not None and not errors:
        school_id = _fair_school(actor, form, None if fair is None else fair.school_id)
        try:
            if school_id is None:
                raise Refused(
                    "school_id", _("Choose a school from the list."), code="fair.unknown_school"
                )
            slug = await service.save_fair(
                request.app[DB], form, school_id, None if fair is None else fair.id
            )
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            raise web.HTTPSeeOther(f"/organiser/fairs/{slug}?saved=1")
    return await _fair_form_page(request, values, errors, fair, status=400)


@routes.get("/organiser/fairs/new")
async def new_fair_page(request: web.Request) -> web.Response:
    actor = _staff(request)
    return await _fair_form_page(request, _new_fair_values(actor), {})


@routes.post("/organiser/fairs/new")
async def create_fair(request: web.Request) -> web.Response:
    return await _save(request, _staff(request), None)


@routes.get("/organiser/fairs/{slug}/edit")
async def edit_fair_page(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    halls = await fair_halls.halls(request.app[DB], access.id)
    values = service.form_values(access.fair, halls)
    values["schools"] = {str(s) for s in access.school_ids - {access.school_id}}
    return await _fair_form_page(request, values, {}, access.fair)


@routes.post("/organiser/fairs/{slug}/edit")
async def edit_fair(request: web.Request) -> web.Response:
    actor, access = await _managed_fair(request)
    return await _save(request, actor, access.fair)


# Participation (F2)


def _notices() -> dict[str, str]:
    """What a redirect after a change says, keyed by its query parameter."""
    return {
        "saved": _("Saved."),
        "invited": _("Invitation sent."),
        "approved": _("Approved: the company's booth is open."),
        "rejected": _("Rejected."),
    }


async def _manage_page(
    request: web.Request, access: FairAccess, errors: dict[str, str], status: int = 200
) -> web.Response:
    db = request.app[DB]
    halls = await fair_halls.halls(db, access.id)
    school = await fair_halls.school(db, access.school_id)
    participants = await service.participants(db, access.id)
    schools = await accounts.schools(db)
    guests = [s for s in schools if s.id in access.school_ids - {access.school_id}]
    notices = _notices()
    done = next((key for key in notices if key in request.query), None)
    context = {
        "fair": access.fair,
        "school": school,
        "guests": guests,
        "halls": halls,
        "participants": participants,
        "invitable": await service.invitable_companies(db, access.id),
        "decisions": {a: allowed for a, (_status, allowed) in service.DECISIONS.items()},
        "export_kinds": export.EXPORT_KINDS,
        "booking_window": interview_slots.window_inputs(access.fair),
        "notice": notices[done] if done else None,
        "errors": errors,
        "values": {},
        "css": CSS,
    }
    return render(request, "organiser/fair_manage.html", context, status=status)


@routes.get("/organiser/fairs/{slug}")
async def manage_fair(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    return await _manage_page(request, access, {})


@routes.post(r"/organiser/fairs/{slug}/companies/{company_id:\d+}")
async def decide_company(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    form, errors, _raw = await parse_form(request, service.ParticipationAction)
    if form is not None:
        company_id = int(request.match_info["company_id"])
        try:
            status = await service.decide(request.app[DB], access.id, company_id, form.action)
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            raise web.HTTPSeeOther(f"/organiser/fairs/{access.fair.slug}?{status}=1")
    return await _manage_page(request, access, errors, status=400)


@routes.post("/organiser/fairs/{slug}/invite")
async def invite_company(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    form, errors, _raw = await parse_form(request, service.InviteForm)
    if form is not None:
        try:
            await service.invite(request.app[DB], access.id, form)
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            raise web.HTTPSeeOther(f"/organiser/fairs/{access.fair.slug}?invited=1")
    return await _manage_page(request, access, errors, status=400)


# Interview booking window (I1): when students may book slots; both empty closes bookings.


@routes.post("/organiser/fairs/{slug}/booking-window")
async def booking_window(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    form = await request.post()
    try:
        await interview_slots.set_booking_window(
            request.app[DB], access, str(form.get("opens", "")), str(form.get("closes", ""))
        )
    except ServiceError as refused:
        return await _manage_page(request, access, {"booking_window": refused.message}, 400)
    raise web.HTTPSeeOther(f"/organiser/fairs/{access.fair.slug}?saved=1")


@routes.get("/organiser/fairs/{slug}/export/{kind}.csv")
async def export_csv(request: web.Request) -> web.Response:
    _actor, access = await _managed_fair(request)
    kind = request.match_info["kind"]
    # An unknown kind raises UnknownExport, a NotFound: the same 404 as a missing page.
    text = await export.export_fair_csv(request.app[DB], access.id, kind)
    # The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{access.fair.slug}-{kind}.csv"'},
    )


# The school's students: roster import (F3) and the student list


def _chosen_school(actor: Actor, value: object, right: Right) -> int | None:
    """An organiser's own school; for an admin, the school they picked (None: not yet)."""
    if not actor.is_admin:
        school_id = actor.school_id
    else:
        try:
            school_id = int(str(value))
        except ValueError:
            return None
    require(actor, right, school_id)
    return school_id


async def _roster_page(
    request: web.Request, actor: Actor, context: dict[str, Any], status: int = 200
) -> web.Response:
    db = request.app[DB]
    schools = await accounts.schools(db) if actor.is_admin else []
    school = await fair_halls.school(db, actor.school_id)
    base: dict[str, Any] = {  # the template's context
        "school_options": [(s.id, s.name) for s in schools],
        "school": school,
        "header": ",".join(roster.HEADER),
        "max_rows": roster.MAX_ROWS,
        "problems": [],
        "imported": None,
        "errors": {},
        "values": {},
        "css": CSS,
    }
    return render(request, "organiser/roster.html", {**base, **context}, status=status)


@routes.get("/organiser/roster")
async def roster_page(request: web.Request) -> web.Response:
    actor = _staff(request)
    return await _roster_page(request, actor, {})


@routes.post("/organiser/roster")
async def import_roster(request: web.Request) -> web.Response:
    actor = _staff(request)
    posted = await request.post()
    values = {"school_id": str(posted.get("school_id", ""))}
    school_id = _chosen_school(actor, posted.get("school_id"), Right.ROSTER_IMPORT)
    upload = posted.get("file")
    errors: dict[str, str] = {}
    if school_id is None or not await _school_exists(request, school_id):
        errors["school_id"] = _("Choose a school from the list.")
    if not isinstance(upload, web.FileField):
        errors["file"] = _("Choose a CSV file to upload.")
    if errors or not isinstance(upload, web.FileField) or school_id is None:
        return await _roster_page(request, actor, {"errors": errors, "values": values}, 400)
    try:
        result = await roster.import_roster(request.app[DB], school_id, upload.file.read())
    except roster.RosterRejected as rejected:
        context = {"problems": rejected.problems, "values": values}
        return await _roster_page(request, actor, context, 400)
    return await _roster_page(request, actor, {"imported": result, "values": values})


async def _school_exists(request: web.Request, school_id: int) -> bool:
    return await service.school_by_id(request.app[DB], school_id) is not None


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or "1"), 100_000))
    except ValueError:
        return 1


@routes.get("/organiser/students")
async def students(request: web.Request) -> web.Response:
    actor = _staff(request)
    school_id = _chosen_school(actor, request.query.get("school"), Right.SCHOOL_STUDENTS)
    verified = {"yes": True, "no": False}.get(request.query.get("verified", ""))
    page = _page_number(request.query.get("page"))
    db = request.app[DB]
    schools = await accounts.schools(db) if actor.is_admin else []
    school = None if school_id is None else await service.school_by_id(db, school_id)
    rows, total = (
        ([], 0)
        if school is None or school_id is None
        else await service.students(
            db, school_id, verified, STUDENTS_PER_PAGE, (page - 1) * STUDENTS_PER_PAGE
        )
    )
    context = {
        "school_options": [(s.id, s.name) for s in schools],
        "school": school,
        "students": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // STUDENTS_PER_PAGE)),
        "verified": request.query.get("verified", ""),
        "css": CSS,
    }
    return render(request, "organiser/students.html", context)
