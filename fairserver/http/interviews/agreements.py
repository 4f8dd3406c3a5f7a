"""Intent agreement pages (I5): the company's form from an offer, the agreement page
(answer, countersign, change), its printable version, and the three lists.

Decisions are in rooms/interviews/agreements.py; who may see what in
rooms/interviews/agreements_access.py (anyone else gets the 404 of a missing id).
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from fairserver.http.kit import not_found, parse_form, render, require_login
from fairserver.keys import DB, SERVICES
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.interviews import agreement_views as views
from fairserver.rooms.interviews import agreements as service
from fairserver.rooms.interviews.agreements_access import (
    MAX_ID,
    AgreementAccess,
    access_agreement,
    access_offer,
    agreements_for,
)

routes = web.RouteTableDef()
AGREEMENT = r"/agreements/{agreement_id:\d{1,10}}"
OFFER = r"/interviews/{interview_id:\d{1,10}}/agreement"


class RespondForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["accept", "decline"]
    text_sha256: str = Field(pattern=views.SHA256)


class CountersignForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text_sha256: str = Field(pattern=views.SHA256)


def _id(request: web.Request, name: str) -> int:
    value = int(request.match_info[name])
    if value > MAX_ID:
        not_found()
    return value


# --- sending one from an offer ------------------------------------------------------------


async def _offer_page(
    request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> web.Response:
    actor = require_login(request)
    offer = await access_offer(request.app[DB], actor, _id(request, "interview_id"))
    if offer.current is not None and request.method == "GET":
        raise web.HTTPSeeOther(f"/agreements/{offer.current.id}")
    problem = None
    if offer.interview.outcome != "offer":
        problem, status = "no_offer", 409
    elif offer.facts is None:
        problem, status = "no_profile", 409
    context = {
        "interview": offer.interview,
        "facts": offer.facts,
        "problem": problem,
        "values": values or views.form_defaults(offer),
        "errors": errors,
    }
    return render(request, "agreement_new.html", context, status=status)


@routes.get(OFFER)
async def new_agreement_page(request: web.Request) -> web.Response:
    return await _offer_page(request, {}, {})


@routes.post(OFFER)
async def send_agreement(request: web.Request) -> web.Response:
    actor = require_login(request)
    offer = await access_offer(request.app[DB], actor, _id(request, "interview_id"))
    form, errors, raw = await parse_form(request, views.AgreementForm)
    if form is None:
        return await _offer_page(request, raw, errors, status=400)
    try:
        agreement_id = await service.send(request.app[SERVICES], actor, offer, form)
    except ServiceError as refused:
        return await _offer_page(request, raw, {"form": refused.message}, status=409)
    raise web.HTTPSeeOther(f"/agreements/{agreement_id}")


# --- one agreement ------------------------------------------------------------------------


async def _found(request: web.Request) -> AgreementAccess:
    actor = require_login(request)
    return await access_agreement(request.app[DB], actor, _id(request, "agreement_id"))


def _page(
    request: web.Request,
    found: AgreementAccess,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "a": views.view_of(found),
        "earlier": found.earlier,
        "errors": errors or {},
        "values": values or views.row_values(found.row),
    }
    return render(request, "agreement.html", context, status=status)


@routes.get(AGREEMENT)
async def agreement_page(request: web.Request) -> web.Response:
    return _page(request, await _found(request))


@routes.get(AGREEMENT + "/print")
async def print_page(request: web.Request) -> web.Response:
    found = await _found(request)
    return render(request, "agreement_print.html", {"a": views.view_of(found)})


@routes.post(AGREEMENT + "/respond")
async def respond(request: web.Request) -> web.Response:
    found = await _found(request)
    if found.party != "student":
        not_found()
    form, errors, _raw = await parse_form(request, RespondForm)
    if form is None:
        return _page(request, found, errors, status=400)
    services = request.app[SERVICES]
    try:
        await service.respond(
            services, require_login(request), found, form.decision == "accept", form.text_sha256
        )
    except ServiceError as refused:
        return _page(request, await _found(request), {"form": refused.message}, status=409)
    raise web.HTTPSeeOther(f"/agreements/{found.row.id}")


@routes.post(AGREEMENT + "/countersign")
async def countersign(request: web.Request) -> web.Response:
    found = await _found(request)
    if found.party not in {"school", "admin"}:
        not_found()
    form, errors, _raw = await parse_form(request, CountersignForm)
    if form is None:
        return _page(request, found, errors, status=400)
    try:
        await service.countersign(
            request.app[SERVICES], require_login(request), found, form.text_sha256
        )
    except ServiceError as refused:
        return _page(request, await _found(request), {"form": refused.message}, status=409)
    raise web.HTTPSeeOther(f"/agreements/{found.row.id}")


@routes.post(AGREEMENT + "/change")
async def change(request: web.Request) -> web.Response:
    found = await _found(request)
    if found.party != "company":
        not_found()
    form, errors, raw = await parse_form(request, views.AgreementForm)
    if form is None:
        return _page(request, found, errors, raw, status=400)
    try:
        new_id = await service.change(request.app[SERVICES], require_login(request), found, form)
    except ServiceError as refused:
        return _page(request, await _found(request), {"form": refused.message}, raw, status=409)
    raise web.HTTPSeeOther(f"/agreements/{new_id}")


# --- lists --------------------------------------------------------------------------------


async def _list(request: web.Request, heading: str) -> web.Response:
    rows = await agreements_for(request.app[DB], require_login(request))
    return render(request, "agreements.html", {"rows": rows, "heading": heading})


@routes.get("/agreements")
async def my_agreements(request: web.Request) -> web.Response:
    """A student's own; everyone else with a list is sent to theirs."""
    actor = require_login(request)
    if actor.role == "recruiter":
        raise web.HTTPSeeOther("/company/agreements")
    if actor.role in {"organiser", "admin"}:
        raise web.HTTPSeeOther("/organiser/agreements")
    return await _list(request, "student")


@routes.get("/company/agreements")
async def company_agreements(request: web.Request) -> web.Response:
    if require_login(request).role != "recruiter":
        not_found()
    return await _list(request, "company")


@routes.get("/organiser/agreements")
async def organiser_agreements(request: web.Request) -> web.Response:
    if require_login(request).role not in {"organiser", "admin"}:
        not_found()
    return await _list(request, "school")
