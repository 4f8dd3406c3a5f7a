"""The organiser's live fair dashboard page (F5) with its announcement form (F7).

The page is a shell: web/static/js/dashboard.js fills it over socket.io
(fair.join, fair.dashboard, fair.announce), so nothing live is rendered here.
"""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import not_found, render, require, require_login
from fairserver.keys import DB
from fairserver.permissions import Right
from fairserver.store import fairs as fair_store

routes = web.RouteTableDef()

ANNOUNCEMENT_MAX = 2000  # as fair.announce accepts


@routes.get("/organiser/fairs/{slug}/live")
async def live_dashboard(request: web.Request) -> web.Response:
    actor = require_login(request)
    async with request.app[DB].connect() as conn:
        access = await fair_store.fair_access(conn, request.match_info["slug"])
    if access is None:
        not_found()
    require(actor, Right.FAIR_MANAGE, access)
    return render(
        request,
        "organiser/live.html",
        {"fair": access.fair, "announcement_max": ANNOUNCEMENT_MAX},
    )
