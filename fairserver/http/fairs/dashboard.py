"""The organiser's live fair dashboard page (F5) with its announcement form (F7).

The page is a shell: web/static/js/dashboard.js fills it over socket.io
(fair.join, fair.dashboard, fair.announce), so nothing live is rendered here.
"""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import render, require_login
from fairserver.keys import DB
from fairserver.permissions import Right
from fairserver.rooms.fairs.access import access_fair

routes = web.RouteTableDef()

ANNOUNCEMENT_MAX = 2000  # as fair.announce accepts


@routes.get("/organiser/fairs/{slug}/live")
async def live_dashboard(request: web.Request) -> web.Response:
    actor = require_login(request)
    access = await access_fair(
        request.app[DB], actor, request.match_info["slug"], Right.FAIR_MANAGE
    )
    return render(
        request,
        "organiser/live.html",
        {"fair": access.fair, "announcement_max": ANNOUNCEMENT_MAX},
    )
