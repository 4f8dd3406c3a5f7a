"""The school's reports (F6): a page with charts, and its CSV and XLSX downloads."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import render, require, require_login
from fairserver.keys import DB
from fairserver.permissions import Right
from fairserver.rooms.errors import Refused
from fairserver.rooms.fairs import reports as service

routes = web.RouteTableDef()
CSS = "/static/css/organiser.css"
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
