"""Information halls: the policy hall (F8) and the registration hall (F3)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from aiohttp import web

from fairserver.http.fairs.pages import visible_fair
from fairserver.http.kit import actor_of, not_found, render
from fairserver.i18n import current_locale
from fairserver.keys import DB, SETTINGS
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.accounts import registration as accounts
from fairserver.rooms.fairs import halls as fair_halls
from fairserver.rooms.fairs.policy import PolicyLibrary, is_page_name
from fairserver.rows import HallRow, SchoolRow

routes = web.RouteTableDef()


@lru_cache(maxsize=8)
def _library(directory: Path) -> PolicyLibrary:
    # One library per directory for the life of the process: the pages are read once.
    return PolicyLibrary(directory)


async def _loaded_library(request: web.Request) -> PolicyLibrary:
    library = _library(request.app[SETTINGS].booths_dir / "policy")
    if not library.loaded:
        await asyncio.to_thread(library.load)
    return library


async def _hall(request: web.Request, fa: FairAccess, kind: str) -> HallRow | None:
    return await fair_halls.hall(request.app[DB], fa.id, kind)


async def _policy_hall(request: web.Request) -> tuple[FairAccess, HallRow]:
    fa = await visible_fair(request, request.match_info["slug"])
    hall = await _hall(request, fa, "policy")
    if hall is None:
        not_found()
    return fa, hall


@routes.get("/fairs/{slug}/policy")
async def policy_hall(request: web.Request) -> web.Response:
    fa, hall = await _policy_hall(request)
    library = await _loaded_library(request)
    return render(
        request,
        "policy.html",
        {"fair": fa.fair, "hall": hall, "pages": library.pages(current_locale())},
    )


@routes.get("/fairs/{slug}/policy/{page}")
async def policy_page(request: web.Request) -> web.Response:
    name = request.match_info["page"]
    if not is_page_name(name):
        not_found()
    fa, hall = await _policy_hall(request)
    page = (await _loaded_library(request)).page(name, current_locale())
    if page is None:
        not_found()
    return render(request, "policy_page.html", {"fair": fa.fair, "hall": hall, "page": page})


async def _entry_schools(request: web.Request, fa: FairAccess) -> list[SchoolRow]:
    """The schools whose students may enter; empty for an open fair (everyone may)."""
    if fa.fair.visibility == "open":
        return []
    schools = await accounts.schools(request.app[DB])
    wanted = {fa.school_id} if fa.fair.visibility == "campus" else set(fa.school_ids)
    return [school for school in schools if school.id in wanted]


@routes.get("/fairs/{slug}/registration")
async def registration_hall(request: web.Request) -> web.Response:
    fa = await visible_fair(request, request.match_info["slug"])
    actor = actor_of(request)
    profile = None
    if actor.role == "student" and actor.user_id is not None:
        profile = await accounts.profile(request.app[DB], actor.user_id)
    return render(
        request,
        "registration.html",
        {
            "fair": fa.fair,
            "hall": await _hall(request, fa, "registration"),
            "profile": profile,
            "can_join": can(actor, Right.FAIR_JOIN, fa),
            "schools": await _entry_schools(request, fa),
        },
    )
