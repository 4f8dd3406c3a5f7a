"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from fairserver.keys import DB

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    db = request.app[DB]
    database_ok = await db.ping()
    body = {
        "ok": database_ok,
        "database": {"ok": database_ok, "dialect": db.dialect},
    }
    return web.json_response(body, status=200 if database_ok else 503)
