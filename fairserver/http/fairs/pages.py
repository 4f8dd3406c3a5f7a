"""The landing page and the fair lobby."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import actor_of, not_found, render
from fairserver.keys import DB
from fairserver.permissions import FairAccess, Right, can
from fairserver.store import fairs as fair_store

routes = web.RouteTableDef()


async def visible_fair(request: web.Request, slug: str) -> FairAccess:
    """The fair if the caller may see it; otherwise the same 404 as a missing one."""
    async with request.app[DB].connect() as conn:
        access = await fair_store.fair_access(conn, slug)
    if access is None or not can(actor_of(request), Right.FAIR_VIEW, access):
        not_found()
    return access


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    actor = actor_of(request)
    async with request.app[DB].connect() as conn:
        every = await fair_store.all_fair_access(conn)
    visible = [fa for fa in every if can(actor, Right.FAIR_VIEW, fa)]
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
    async with request.app[DB].connect() as conn:
        halls = await fair_store.halls(conn, access.id)
        booths = await fair_store.booth_list(conn, access.id)
        school = await fair_store.school(conn, access.school_id)
    return render(
        request,
        "fair.html",
        {
            "fair": access.fair,
            "school": school,
            "halls": halls,
            "booths": booths,
            "can_join": can(actor, Right.FAIR_JOIN, access),
            "can_manage": can(actor, Right.FAIR_MANAGE, access),
            "can_apply": can(actor, Right.FAIR_APPLY, access),
            "company_status": access.company_status(actor.company_id),
        },
    )
