"""The school's reports (F6): a page with charts, its CSV and XLSX downloads, and each
student's path."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import not_found, render, require, require_login
from fairserver.keys import DB
from fairserver.permissions import Right
from fairserver.rooms.errors import Refused
from fairserver.rooms.fairs import paths
from fairserver.rooms.fairs import reports as service

routes = web.RouteTableDef()
CSS = "/static/css/organiser.css"
MAX_ID = 2**31 - 1
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _report(request: web.Request) -> service.Report:
    """The report asked for; 404 for anyone but staff and for a fair outside their scope,
    400 for a breakdown that does not exist."""
    actor = require_login(request)
    require(actor, Right.FAIR_CREATE)
    try:
        return await service.build(
            request.app[DB], actor, request.query.get("by"), request.query.get("fair")
        )
    except Refused as refused:
        raise web.HTTPBadRequest(text=refused.message) from None


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@routes.get("/organiser/reports")
async def page(request: web.Request) -> web.Response:
    report = await _report(request)
    query = request.query_string
    context = {
        "report": report,
        "charts": report.charts(),
        "by_labels": service.by_labels(),
        "fair_options": [(fair.slug, fair.title) for fair in report.scope.fairs],
        "suppressed": service.suppressed_any(report.lines),
        "min_group": service.MIN_GROUP,
        "query": ("?" + query) if query else "",
        "css": CSS,
    }
    return render(request, "organiser/reports.html", context)


@routes.get("/organiser/reports.csv")
async def csv(request: web.Request) -> web.Response:
    report = await _report(request)
    # The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
    body = ("\ufeff" + service.as_csv(report)).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", service.file_name(report, "csv"))


@routes.get("/organiser/reports.xlsx")
async def xlsx(request: web.Request) -> web.Response:
    report = await _report(request)
    return _download(service.as_xlsx(report), XLSX, service.file_name(report, "xlsx"))


@routes.get(r"/organiser/students/{user_id:\d{1,10}}")
async def student_path(request: web.Request) -> web.Response:
    """One student's path, for their school's organisers and admins (others: 404)."""
    actor = require_login(request)
    student_id = int(request.match_info["user_id"])
    if student_id > MAX_ID:
        not_found()
    path = await paths.path_of(request.app[DB], actor, student_id)
    response = render(request, "organiser/student_path.html", {"path": path, "css": CSS})
    response.headers["Cache-Control"] = "no-store"
    return response
