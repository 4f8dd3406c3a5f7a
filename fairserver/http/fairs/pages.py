"""The landing page and the fair lobby."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import actor_of, render
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.fairs import halls as fair_halls
from fairserver.rooms.fairs.access import access_fair, visible_fairs

routes = web.RouteTableDef()


async def visible_fair(request: web.Request, slug: str) -> FairAccess:
    """The fair if the caller may see it; otherwise the same 404 as a missing one."""
    return await access_fair(request.app[DB], actor_of(request), slug)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    actor = actor_of(request)
    visible = await visible_fairs(request.app[DB], actor)
    return render(
        request,
        "index.html",
        {
            "fairs": [fa.fair for fa in visible],
            "can_create": can(actor, Right.FAIR_CREATE),
        },
    )


@routes.get("/fairs/{slug}")
async def lobby(request: web.Request) -> web.Response:
    access = await visible_fair(request, request.match_info["slug"])
    actor = actor_of(request)
    lobby = await fair_halls.lobby(request.app[DB], access)
    return render(
        request,
        "fair.html",
        {
            "fair": access.fair,
            "school": lobby.school,
            "halls": lobby.halls,
            "booths": lobby.booths,
            "can_join": can(actor, Right.FAIR_JOIN, access),
            "can_manage": can(actor, Right.FAIR_MANAGE, access),
            "can_apply": can(actor, Right.FAIR_APPLY, access),
            "company_status": access.company_status(actor.company_id),
        },
    )
