"""Request pipeline: errors, security headers, the caller's session, language, CSRF."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from fairserver.auth import SESSION_COOKIE, resolve_session
from fairserver.http.kit import ACTOR_KEY, CSRF_KEY, LOCALE_KEY, actor_of, json_error, render
from fairserver.i18n import LANG_COOKIE
from fairserver.keys import CATALOGUES, DB, SETTINGS
from fairserver.proxies import own_origins, websocket_source
from fairserver.rooms.errors import NotFound

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSRF_COOKIE = "fs_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# connect-src names our own websocket, never "ws: wss:" (any host): 'self' covers it in
# CSP level 3 browsers, the explicit source in older ones.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self' {websocket}; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.content_type == "application/json"


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, NotFound):  # a view's 404, or a service's missing-or-forbidden
        if _wants_json(request):
            return json_error("not_found", "not found", status=404)
        return render(request, "error.html", {"status": 404}, status=404)
    except web.HTTPForbidden as exc:
        if _wants_json(request):
            return json_error("forbidden", exc.text or "forbidden", status=403)
        return render(request, "error.html", {"status": 403, "reason": exc.text}, status=403)
    except web.HTTPRequestEntityTooLarge:
        if _wants_json(request):
            return json_error("request.too_large", "the request body is too large", status=413)
        return render(request, "error.html", {"status": 413}, status=413)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json(request):
            return json_error("internal", "internal error", status=500)
        return render(request, "error.html", {"status": 500}, status=500)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _add_headers(request, response)
        raise
    _add_headers(request, response)
    return response


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return
    headers = response.headers
    websocket = websocket_source(request.app[SETTINGS], request.scheme, request.host)
    headers.setdefault("Content-Security-Policy", CSP.format(websocket=websocket))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)"
    )
    if request.app[SETTINGS].secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.get(ACTOR_KEY) is not None and not actor_of(request).is_anonymous:
        headers.setdefault("Cache-Control", "private, no-store")


@web.middleware
async def session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolves the caller, their language, and the CSRF token the page must echo."""
    settings = request.app[SETTINGS]
    token = request.cookies.get(SESSION_COOKIE)
    actor = await resolve_session(request.app[DB], token) if token else None
    new_csrf = None
    if actor is not None:
        request[ACTOR_KEY] = actor
        request[CSRF_KEY] = actor.csrf_token
    else:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if len(csrf) < 32:
            csrf = new_csrf = secrets.token_urlsafe(32)
        request[CSRF_KEY] = csrf
    catalogues = request.app[CATALOGUES]
    locale = catalogues.choose(
        actor.locale if actor else None,
        request.cookies.get(LANG_COOKIE),
        accept_language=request.headers.get("Accept-Language", settings.default_locale),
    )
    catalogues.activate(locale)
    request[LOCALE_KEY] = locale
    response = await handler(request)
    if new_csrf is not None and not response.prepared:
        response.set_cookie(
            CSRF_COOKIE,
            new_csrf,
            httponly=True,
            samesite="Lax",
            secure=settings.secure_cookies,
            path="/",
        )
    # An unknown session cookie is cleared, unless this very response starts a new session
    # (a log-in from a browser still holding an ended one): that Set-Cookie must win.
    if token and actor is None and not response.prepared and SESSION_COOKIE not in response.cookies:
        response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _same_origin(request: web.Request, origin: str) -> bool:
    settings = request.app[SETTINGS]
    return origin in own_origins(
        settings, request.scheme, request.host, request.remote, request.headers
    )


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in UNSAFE:
        return await handler(request)
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null" and not _same_origin(request, origin):
        raise web.HTTPForbidden(text="cross-origin request refused")
    if origin == "null":
        raise web.HTTPForbidden(text="cross-origin request refused")
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        form = await request.post()
        value = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    expected = request.get(CSRF_KEY, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise web.HTTPForbidden(text="missing or invalid CSRF token")
    return await handler(request)
