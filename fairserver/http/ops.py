"""Operations over HTTP: a request id and a log line per request, and GET /metrics."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from fairserver.keys import SETTINGS, SOCKETS
from fairserver.ops import metrics
from fairserver.ops.logs import REQUEST_ID, new_request_id
from fairserver.proxies import client_address

access_log = logging.getLogger("fairserver.access")
routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_KEY = web.RequestKey("request_id", str)
HEADER = "X-Request-Id"
CLIENT_CLOSED = 499  # the client went away before the answer (nginx's figure)


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every log line the request causes carries its id, and so does the reply."""
    request_id = new_request_id(request.headers.get(HEADER))
    request[REQUEST_ID_KEY] = request_id
    token = REQUEST_ID.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        seconds = time.perf_counter() - started
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        metrics.observe_request(request.method, status, None if websocket else seconds)
        access_log.info(
            "%s %s %d",
            request.method,
            request.path,  # never the query string: it can hold an invitation token
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round(seconds * 1000, 1),
                "websocket": websocket,
            },
        )
        REQUEST_ID.reset(token)


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the id on every reply, errors and websocket handshakes too."""
    request_id = request.get(REQUEST_ID_KEY)
    if request_id is not None:
        response.headers.setdefault(HEADER, request_id)


def _may_read_metrics(request: web.Request) -> bool:
    settings = request.app[SETTINGS]
    if settings.metrics_token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if sent and hmac.compare_digest(sent.encode(), settings.metrics_token.encode()):
            return True
    address = client_address(settings, request.remote, request.headers)
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@routes.get("/metrics")
async def metrics_page(request: web.Request) -> web.Response:
    if not _may_read_metrics(request):
        raise web.HTTPNotFound()  # as if there were none: nothing to probe
    await request.app[SOCKETS].sample_gauges()
    body = await asyncio.to_thread(metrics.exposition)  # reads every worker's files
    return web.Response(
        body=body, headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"}
    )
