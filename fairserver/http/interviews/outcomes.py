"""The company side of an interview (I4): the scorecard page with ratings, private notes,
the outcome, its release and the history; and the company's scorecard criteria.

Plain forms, each answered with a redirect back to the page (or the page again with the
refusal beside its field). The page is the panel's only (access_panel): anyone else gets
the 404 of a missing interview. The socket events interview.* in
fairserver/socket/interviews/outcomes.py call the same services.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from fairserver.http.kit import not_found, parse_form, render, require_login
from fairserver.i18n import gettext as _
from fairserver.keys import SERVICES
from fairserver.rooms.errors import Refused
from fairserver.rooms.interviews import outcomes, scorecards
from fairserver.rooms.interviews.access import access_panel, hiring_company
from fairserver.rooms.interviews.scorecards import InterviewRow

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1
SCORECARD = r"/interviews/{interview_id:\d{1,10}}/scorecard"
_RATING = re.compile(r"rating_([0-9]{1,9})")


async def _interview(request: web.Request) -> InterviewRow:
    actor = require_login(request)
    interview_id = int(request.match_info["interview_id"])
    if interview_id > MAX_ID:
        not_found()
    return await access_panel(request.app[SERVICES], actor, interview_id)


async def _page(
    request: web.Request,
    interview: InterviewRow,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    view = await scorecards.scorecard_view(request.app[SERVICES], require_login(request), interview)
    criteria = {c.id: c for c in view.criteria}
    context = {
        "interview": interview,
        "view": view,
        "criteria_by_id": criteria,
        "active": [c for c in view.criteria if not c.archived],
        "my_ratings": {r.criterion_id: r.rating for r in view.mine.ratings},
        "my_archived": [
            (criteria[r.criterion_id], r.rating)
            for r in view.mine.ratings
            if criteria[r.criterion_id].archived
        ],
        "errors": errors or {},
        "values": values or {},
        "saved": request.query.get("saved", ""),
    }
    return render(request, "scorecard.html", context, status=400 if errors else 200)


def _back(interview: InterviewRow, what: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/interviews/{interview.id}/scorecard?saved={what}#{what}")


@routes.get(SCORECARD)
async def scorecard_page(request: web.Request) -> web.Response:
    return await _page(request, await _interview(request))


@routes.post(SCORECARD + "/scores")
async def save_scores(request: web.Request) -> web.Response:
    interview = await _interview(request)
    posted = await request.post()
    ratings: dict[int, int] = {}
    for key, value in posted.items():
        match = _RATING.fullmatch(key)
        if match and isinstance(value, str) and value.strip():
            if not value.strip().isdigit() or len(value.strip()) > 2:
                error = _("Choose a rating from the list.")
                return await _page(request, interview, {"ratings": error})
            ratings[int(match.group(1))] = int(value.strip())
    try:
        await scorecards.save_scores(
            request.app[SERVICES], require_login(request), interview, ratings
        )
    except Refused as refused:
        return await _page(request, interview, {refused.field: refused.message})
    raise _back(interview, "ratings")


@routes.post(SCORECARD + "/notes")
async def add_note(request: web.Request) -> web.Response:
    interview = await _interview(request)
    form, errors, raw = await parse_form(request, scorecards.NoteForm)
    if form is None:
        return await _page(request, interview, errors, raw)
    await scorecards.add_note(request.app[SERVICES], require_login(request), interview, form.body)
    raise _back(interview, "notes")


@routes.post(SCORECARD + "/outcome")
async def set_outcome(request: web.Request) -> web.Response:
    interview = await _interview(request)
    form, errors, raw = await parse_form(request, outcomes.OutcomeForm)
    if form is None:
        return await _page(request, interview, errors, raw)
    await outcomes.set_outcome(
        request.app[SERVICES], require_login(request), interview, form.outcome, form.message
    )
    raise _back(interview, "outcome")


@routes.post(SCORECARD + "/release")
async def release(request: web.Request) -> web.Response:
    interview = await _interview(request)
    form, errors, raw = await parse_form(request, outcomes.ReleaseForm)
    if form is None:
        return await _page(request, interview, {"release": next(iter(errors.values()))}, raw)
    try:
        await outcomes.release(
            request.app[SERVICES], require_login(request), interview, form.outcome
        )
    except Refused as refused:
        return await _page(request, interview, {"release": refused.message})
    raise _back(interview, "outcome")


# --- the company's criteria --------------------------------------------------------------


class CriterionAction(BaseModel):
    """Moving or archiving one criterion."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Literal["up", "down", "archive"]
    criterion_id: int = Field(ge=1, le=MAX_ID)


class AddCriterion(scorecards.CriterionForm):
    action: Literal["add"] = "add"


def _company(request: web.Request) -> int:
    return hiring_company(require_login(request))


async def _criteria_page(
    request: web.Request,
    company_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    criteria = await scorecards.company_criteria(request.app[SERVICES], company_id)
    context = {
        "active": [c for c in criteria if not c.archived],
        "archived": [c for c in criteria if c.archived],
        "errors": errors or {},
        "values": values or {"scale": "5"},
        "saved": request.query.get("saved", ""),
    }
    return render(request, "criteria.html", context, status=400 if errors else 200)


@routes.get("/company/criteria")
async def criteria_page(request: web.Request) -> web.Response:
    return await _criteria_page(request, _company(request))


@routes.post("/company/criteria")
async def change_criteria(request: web.Request) -> web.Response:
    """action=add (name, scale), or up / down / archive (criterion_id)."""
    company_id = _company(request)
    services = request.app[SERVICES]
    if (await request.post()).get("action") in {"up", "down", "archive"}:
        ref, errors, _raw = await parse_form(request, CriterionAction)
        if ref is None:
            return await _criteria_page(request, company_id, errors)
        if ref.action == "archive":
            await scorecards.archive_criterion(services, company_id, ref.criterion_id)
        else:
            await scorecards.move_criterion(services, company_id, ref.criterion_id, ref.action)
        raise web.HTTPSeeOther("/company/criteria?saved=1")
    form, errors, raw = await parse_form(request, AddCriterion)
    if form is None:
        return await _criteria_page(request, company_id, errors, raw)
    try:
        await scorecards.add_criterion(services, company_id, form)
    except Refused as refused:
        return await _criteria_page(request, company_id, {refused.field: refused.message}, raw)
    raise web.HTTPSeeOther("/company/criteria?saved=1")
