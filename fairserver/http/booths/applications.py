"""Job applications (B2): a student applies from the job page or withdraws; the job's
company reads the applications and invites an applicant to book a slot.

Applying is for whoever may express interest in the job (a student who may join the
fair, at an approved company's booth): for anyone else the form's address does not exist.
The applications page is the job's company's only (access_company_job).
"""

from __future__ import annotations

from aiohttp import web

from fairserver.http.booths.jobs import JOB, may_apply, render_job_page, visible_job
from fairserver.http.kit import actor_of, not_found, parse_form, render, require_login
from fairserver.keys import SERVICES
from fairserver.permissions import FairAccess
from fairserver.rooms.booths import applications
from fairserver.rooms.booths.access import access_company_job
from fairserver.rooms.booths.applications import CompanyJobRow, JobRef
from fairserver.rooms.errors import Refused
from fairserver.rows import JobDetail

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1
APPLICATIONS = "/company/jobs/{job_id:[0-9]{1,9}}/applications"


async def _applicable_job(request: web.Request) -> tuple[FairAccess, JobDetail]:
    access, job = await visible_job(request)
    if not may_apply(actor_of(request), access, job):
        not_found()
    return access, job


def _job_page(access: FairAccess, job: JobDetail, notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/fairs/{access.fair.slug}/jobs/{job.id}?done={notice}#application")


@routes.post(JOB + "/apply")
async def apply(request: web.Request) -> web.Response:
    access, job = await _applicable_job(request)
    form, errors, raw = await parse_form(request, applications.ApplyForm)
    if form is None:
        return await render_job_page(request, access, job, errors, raw)
    target = JobRef(id=job.id, fair_id=access.id, company_id=job.company_id)
    try:
        await applications.apply(request.app[SERVICES], actor_of(request), target, form.message)
    except Refused as refused:
        return await render_job_page(request, access, job, {refused.field: refused.message}, raw)
    raise _job_page(access, job, "applied")


@routes.post(JOB + "/withdraw")
async def withdraw(request: web.Request) -> web.Response:
    access, job = await _applicable_job(request)
    await applications.withdraw(request.app[SERVICES], actor_of(request), job.id)
    raise _job_page(access, job, "withdrawn")


async def _company_job(request: web.Request) -> CompanyJobRow:
    actor = require_login(request)
    return await access_company_job(request.app[SERVICES], actor, int(request.match_info["job_id"]))


@routes.get(APPLICATIONS)
async def applications_page(request: web.Request) -> web.Response:
    job = await _company_job(request)
    found = await applications.applications(request.app[SERVICES], job)
    return render(
        request,
        "applications.html",
        {
            "job": job,
            "applications": found.applications,
            "invited": request.query.get("invited", ""),
        },
    )


@routes.post(APPLICATIONS + "/{application_id:[0-9]{1,9}}/invite")
async def invite(request: web.Request) -> web.Response:
    job = await _company_job(request)
    application_id = int(request.match_info["application_id"])
    await applications.invite(request.app[SERVICES], require_login(request), job, application_id)
    raise web.HTTPSeeOther(f"/company/jobs/{job.id}/applications?invited={application_id}")
