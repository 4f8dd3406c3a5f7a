"""Replays (P7): a briefing's recordings with the Q&A timeline, and the recorded files."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from fairserver.http.kit import actor_of, not_found, render
from fairserver.keys import DB, SETTINGS
from fairserver.rooms.briefings import replay as service
from fairserver.rooms.briefings.access import access_briefing
from fairserver.rows import RecordingRow

routes = web.RouteTableDef()
MAX_ID = 2**31 - 1


def _id(request: web.Request, key: str) -> int:
    value = int(request.match_info[key])
    if value > MAX_ID:
        not_found()
    return value


def _chosen(request: web.Request, recordings: list[RecordingRow]) -> RecordingRow | None:
    """?recording=<id> among the briefing's recordings, or the latest one."""
    wanted = request.query.get("recording", "")
    for row in recordings:
        if str(row.id) == wanted:
            return row
    return recordings[-1] if recordings else None


@routes.get(r"/fairs/{slug}/briefings/{id:\d{1,10}}/replay")
async def replay_page(request: web.Request) -> web.Response:
    briefing_id = _id(request, "id")
    fa, briefing = await access_briefing(
        request.app[DB], actor_of(request), request.match_info["slug"], briefing_id
    )
    recordings = await service.briefing_replays(request.app[DB], briefing_id)
    chosen = _chosen(request, recordings)
    entries = await service.briefing_timeline(request.app[DB], chosen) if chosen else []
    return render(
        request,
        "replay.html",
        {
            "fair": fa.fair,
            "briefing": briefing,
            # Template context: each recording with its duration beside its columns.
            "recordings": [{**asdict(r), "duration": service.duration(r)} for r in recordings],
            "chosen": chosen,
            "timeline": [e.model_dump() for e in entries],
        },
    )


@routes.get(r"/recordings/{recording_id:\d{1,10}}/file")
async def recording_file(request: web.Request) -> web.StreamResponse:
    """The WebM, with Range requests (seeking) and conditional GETs, for those who may
    watch it; a missing, unfinished or forbidden recording is the same 404."""
    _row, path = await service.playable_file(
        request.app[DB],
        request.app[SETTINGS].recordings_dir,
        actor_of(request),
        _id(request, "recording_id"),
    )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "video/webm",
            "Content-Disposition": "inline",
            # Behind a session: no shared cache may keep it.
            "Cache-Control": "private, max-age=3600",
        },
    )
