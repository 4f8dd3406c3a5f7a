"""The Q&A export of a briefing (P3), for its moderators, during or after it."""

from __future__ import annotations

from aiohttp import web

from fairserver.http.kit import actor_of, not_found
from fairserver.keys import DB
from fairserver.rooms.briefings import qa
from fairserver.rooms.briefings.access import access_briefing

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1


@routes.get(r"/fairs/{slug}/briefings/{id:\d{1,10}}/questions.csv")
async def questions_csv(request: web.Request) -> web.Response:
    briefing_id = int(request.match_info["id"])
    if briefing_id > MAX_ID:
        not_found()
    # Askers are named in the export: only the briefing's moderators may have it.
    fa, _briefing = await access_briefing(
        request.app[DB], actor_of(request), request.match_info["slug"], briefing_id, moderate=True
    )
    text = await qa.questions_csv(request.app[DB], briefing_id, str(fa.fair.timezone))
    # The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="briefing-{briefing_id}-questions.csv"'
        },
    )
