"""Job search (page and JSON API), job pages, interest, and a booth's job postings (B2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from fairserver.auth import Actor
from fairserver.http.booths.pages import BOOTH, editable_booth
from fairserver.http.fairs.pages import visible_fair
from fairserver.http.kit import (
    actor_of,
    json_error,
    json_ok,
    not_found,
    parse_form,
    render,
    require_login,
    safe_next,
    validation_messages,
)
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths import applications, jobs
from fairserver.rooms.booths.access import access_booth_job, access_job
from fairserver.rooms.errors import Refused
from fairserver.rows import BoothRow, JobDetail, JobRow

routes = web.RouteTableDef()

JOB = "/fairs/{slug}/jobs/{job_id:[0-9]{1,9}}"
JOB_EDIT = BOOTH + "/jobs/{job_id:[0-9]{1,9}}"


def _query(request: web.Request) -> tuple[jobs.JobQuery | None, dict[str, str], dict[str, str]]:
    raw = {k: request.query.getone(k) for k in request.query}
    try:
        return jobs.JobQuery.model_validate(raw), {}, raw
    except ValidationError as exc:
        return None, validation_messages(exc), raw


def _page_links(slug: str, query: jobs.JobQuery, result: jobs.JobPage) -> list[dict[str, Any]]:
    """Links to the pages around the current one, keeping the filters."""
    nearby = range(max(1, result.page - 3), min(result.pages, result.page + 3) + 1)
    links = []
    for number in sorted({1, *nearby, result.pages}):
        params = urlencode(query.link_params(number))
        links.append(
            {
                "number": number,
                "url": f"/fairs/{slug}/jobs" + (f"?{params}" if params else ""),
                "current": number == result.page,
            }
        )
    return links


@routes.get("/fairs/{slug}/jobs")
async def search_page(request: web.Request) -> web.Response:
    access = await visible_fair(request, request.match_info["slug"])
    query, errors, raw = _query(request)
    companies = await jobs.fair_companies(request.app[DB], access.id)
    context: dict[str, Any] = {
        "fair": access.fair,
        "company_options": [(c.slug, c.name) for c in companies],
        "values": raw,
        "errors": errors,
        "result": None,
        "page_links": [],
    }
    if query is None:
        return render(request, "jobs.html", context, status=400)
    result = await jobs.search(request.app[DB], access.id, query, actor_of(request).user_id)
    slug = access.fair.slug
    context.update(result=result, page_links=_page_links(slug, query, result))
    return render(request, "jobs.html", context)


@routes.get("/api/fairs/{slug}/jobs")
async def search_api(request: web.Request) -> web.Response:
    access = await visible_fair(request, request.match_info["slug"])
    query, errors, _raw = _query(request)
    if query is None:
        return json_error("request.invalid", "the query is invalid", fields=errors)
    result = await jobs.search(request.app[DB], access.id, query, actor_of(request).user_id)
    return json_ok(jobs.search_reply(result, access.fair.slug).model_dump(mode="json"))


async def visible_job(request: web.Request) -> tuple[FairAccess, JobDetail]:
    return await access_job(
        request.app[DB],
        actor_of(request),
        request.match_info["slug"],
        int(request.match_info["job_id"]),
    )


def may_apply(actor: Actor, access: FairAccess, job: JobDetail) -> bool:
    """Interest and applications (B2): a student who may join the fair, at an approved
    company's booth."""
    approved = access.company_status(job.company_id) == "approved"
    return approved and can(actor, Right.JOB_INTEREST, access) and actor.user_id is not None


async def render_job_page(
    request: web.Request,
    access: FairAccess,
    job: JobDetail,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    actor = actor_of(request)
    can_apply = may_apply(actor, access, job)
    application = (
        await applications.my_application(request.app[DB], job.id, actor.user_id or 0)
        if can_apply
        else None
    )
    return render(
        request,
        "job.html",
        {
            "fair": access.fair,
            "job": job,
            "can_interest": can_apply,
            "can_apply": can_apply,
            "application": application,
            "slots_url": applications.slots_url(access.fair.slug, job.booth_id, job.id),
            "errors": errors or {},
            "values": values or {},
            "done": request.query.get("done", ""),
        },
        status=400 if errors else 200,
    )


@routes.get(JOB)
async def job_page(request: web.Request) -> web.Response:
    access, job = await visible_job(request)
    return await render_job_page(request, access, job)


@routes.post(JOB + "/interest")
async def interest(request: web.Request) -> web.Response:
    access, job = await visible_job(request)
    actor = actor_of(request)
    approved = access.company_status(job.company_id) == "approved"
    if not approved or not can(actor, Right.JOB_INTEREST, access) or actor.user_id is None:
        not_found()
    posted = await request.post()
    wanted = {"1": True, "0": False}.get(str(posted.get("interested", "")))
    await jobs.set_interest(request.app[DB], job.id, actor.user_id, wanted)
    default = f"/fairs/{access.fair.slug}/jobs/{job.id}"
    raise web.HTTPSeeOther(safe_next(str(posted.get("next", "")), default))


# Editing a booth's jobs: the booth's recruiters and admins (Right.BOOTH_EDIT).

JOB_FIELDS = ("title", "location", "salary_min", "salary_max", "education", "headcount")


def _job_values(job: JobRow) -> dict[str, str]:
    """The edit form's values."""
    values = {name: str(getattr(job, name)) for name in JOB_FIELDS}
    values["deadline"] = job.deadline.isoformat() if job.deadline else ""
    values["description"] = job.description
    return values


def _job_form_page(
    request: web.Request,
    access: FairAccess,
    booth: BoothRow,
    job_id: int | None,
    values: dict[str, str],
    errors: dict[str, str],
) -> web.Response:
    context = {
        "fair": access.fair,
        "booth": booth,
        "job_id": job_id,
        "values": values,
        "errors": errors,
    }
    return render(request, "jobs_form.html", context, status=400 if errors else 200)


def _back_to_booth(access: FairAccess, booth: BoothRow) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/fairs/{access.fair.slug}/booths/{booth.id}/edit?saved=1")


@routes.get(BOOTH + "/jobs/new")
async def new_job_page(request: web.Request) -> web.Response:
    access, booth = await editable_booth(request)
    return _job_form_page(request, access, booth, None, {"education": "diploma"}, {})


@routes.post(BOOTH + "/jobs/new")
async def add_job(request: web.Request) -> web.Response:
    access, booth = await editable_booth(request)
    form, errors, raw = await parse_form(request, jobs.JobForm)
    if form is None:
        return _job_form_page(request, access, booth, None, raw, errors)
    await jobs.add_job(request.app[DB], booth, form)
    raise _back_to_booth(access, booth)


async def _editable_job(request: web.Request) -> tuple[FairAccess, BoothRow, JobRow]:
    found, job = await access_booth_job(
        request.app[DB],
        require_login(request),
        request.match_info["slug"],
        int(request.match_info["booth_id"]),
        int(request.match_info["job_id"]),
    )
    return found.fair, found.row, job


@routes.get(JOB_EDIT + "/edit")
async def edit_job_page(request: web.Request) -> web.Response:
    access, booth, job = await _editable_job(request)
    return _job_form_page(request, access, booth, job.id, _job_values(job), {})


@routes.post(JOB_EDIT + "/edit")
async def edit_job(request: web.Request) -> web.Response:
    access, booth, job = await _editable_job(request)
    form, errors, raw = await parse_form(request, jobs.JobForm)
    if form is not None:
        try:
            await jobs.edit_job(request.app[DB], booth, job.id, form)
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            raise _back_to_booth(access, booth)
    return _job_form_page(request, access, booth, job.id, raw, errors)


@routes.post(JOB_EDIT + "/delete")
async def delete_job(request: web.Request) -> web.Response:
    access, booth, job = await _editable_job(request)
    await jobs.delete_job(request.app[DB], booth, job.id)
    raise _back_to_booth(access, booth)
