"""The Q&A export of a briefing (P3), for its moderators, during or after it."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.fairs.pages import visible_fair
from fairserver.http.kit import actor_of, not_found
from fairserver.keys import DB
from fairserver.rooms.briefings import live as service
from fairserver.rooms.briefings import qa
from fairserver.store import briefings as store

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1


@routes.get(r"/fairs/{slug}/briefings/{id:\d{1,10}}/questions.csv")
async def questions_csv(request: web.Request) -> web.Response:
    fa = await visible_fair(request, request.match_info["slug"])
    briefing_id = int(request.match_info["id"])
    if briefing_id > MAX_ID:
        not_found()
    async with request.app[DB].connect() as conn:
        briefing = await store.fair_briefing(conn, fa.id, briefing_id)
    # Askers are named in the export: only the briefing's moderators may have it.
    if briefing is None or not service.is_moderator(actor_of(request), fa, briefing):
        not_found()
    text = await qa.questions_csv(request.app[DB], briefing_id, str(fa.fair["timezone"]))
    # The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="briefing-{briefing_id}-questions.csv"'
        },
    )
