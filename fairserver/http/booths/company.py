"""Company views (F2): a recruiter's company, its fairs, invitations and applications."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from fairserver.auth import Actor
from fairserver.http.kit import not_found, parse_form, render, require_login
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths import profile as booths
from fairserver.rooms.errors import Refused
from fairserver.rooms.fairs.access import access_fair, access_invitation
from fairserver.rows import FairRow

routes = web.RouteTableDef()

TAKING_PART = {"applied", "approved", "rejected", "withdrawn"}


def _recruiter(request: web.Request) -> tuple[Actor, int]:
    actor = require_login(request)
    company_id = actor.company_id
    if company_id is None or not can(actor, Right.COMPANY_MANAGE, company_id):
        not_found()
    return actor, company_id


def _may_apply(actor: Actor, access: FairAccess) -> bool:
    # Campus and multi-school fairs are invisible to a company until it is
    # invited, so for them this means "invited"; open fairs take applications.
    return can(actor, Right.FAIR_APPLY, access) and can(actor, Right.FAIR_VIEW, access)


@dataclass(frozen=True, slots=True)
class FairEntry:
    """One fair on the company page."""

    fair: FairRow
    status: str | None
    booth_id: int | None
    can_apply: bool


@routes.get("/company")
async def company_page(request: web.Request) -> web.Response:
    actor, company_id = _recruiter(request)
    mine = await booths.company_fairs(request.app[DB], company_id)
    fairs: list[FairEntry] = []
    invitations: list[FairEntry] = []
    open_fairs: list[FairEntry] = []
    for access in mine.fairs:
        status = access.company_status(company_id)
        entry = FairEntry(
            fair=access.fair,
            status=status,
            booth_id=mine.booth_ids.get(access.id),
            can_apply=_may_apply(actor, access),
        )
        if status == "invited":
            invitations.append(entry)
        elif status in TAKING_PART:
            fairs.append(entry)
        elif entry.can_apply:
            open_fairs.append(entry)
    return render(
        request,
        "recruiter/company.html",
        {
            "company": mine.company,
            "fairs": fairs,
            "invitations": invitations,
            "open_fairs": open_fairs,
            "notice": request.query.get("done", ""),
        },
    )


async def _applicable_fair(request: web.Request) -> tuple[FairAccess, int]:
    actor, company_id = _recruiter(request)
    access = await access_fair(
        request.app[DB], actor, request.match_info["slug"], (Right.FAIR_APPLY, Right.FAIR_VIEW)
    )
    return access, company_id


def _apply_page(
    request: web.Request,
    access: FairAccess,
    company_id: int,
    values: dict[str, str],
    errors: dict[str, str],
) -> web.Response:
    context = {
        "fair": access.fair,
        "invited": access.company_status(company_id) == "invited",
        "values": values,
        "errors": errors,
    }
    return render(request, "recruiter/apply.html", context, status=400 if errors else 200)


@routes.get("/company/fairs/{slug}/apply")
async def apply_page(request: web.Request) -> web.Response:
    access, company_id = await _applicable_fair(request)
    return _apply_page(request, access, company_id, {}, {})


@routes.post("/company/fairs/{slug}/apply")
async def apply(request: web.Request) -> web.Response:
    access, company_id = await _applicable_fair(request)
    form, errors, raw = await parse_form(request, booths.ApplyForm)
    if form is not None:
        try:
            await booths.apply_to_fair(request.app[DB], access.id, company_id, form.message)
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            raise web.HTTPSeeOther("/company?done=applied")
    return _apply_page(request, access, company_id, raw, errors)


@routes.post("/company/fairs/{slug}/respond")
async def respond(request: web.Request) -> web.Response:
    actor, company_id = _recruiter(request)
    access = await access_invitation(request.app[DB], actor, request.match_info["slug"])
    action = (await request.post()).get("action")
    if action not in {"accept", "decline"}:
        raise web.HTTPBadRequest(text="action must be accept or decline")
    try:
        await booths.respond_to_invitation(
            request.app[DB], access.id, company_id, accept=action == "accept"
        )
    except Refused:
        not_found()  # answered meanwhile, in another tab
    raise web.HTTPSeeOther(f"/company?done={'accepted' if action == 'accept' else 'declined'}")
