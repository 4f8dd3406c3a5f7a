"""Register, log in, log out, profile and language."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from aiohttp import web

from fairserver.auth import SESSION_COOKIE, create_session, end_session
from fairserver.http.kit import actor_of, parse_form, redirect, render, require_login, safe_next
from fairserver.i18n import LANG_COOKIE
from fairserver.i18n import gettext as _
from fairserver.keys import CATALOGUES, DB, PASSWORDS, SERVICES, SETTINGS
from fairserver.proxies import client_address
from fairserver.rooms.accounts import registration as accounts
from fairserver.rooms.accounts import throttle
from fairserver.rooms.errors import Refused

routes = web.RouteTableDef()


def _start_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
        max_age=settings.session_ttl_hours * 3600,
        path="/",
    )


async def _log_in(request: web.Request, user_id: int, target: str) -> web.Response:
    settings = request.app[SETTINGS]
    token = await create_session(
        request.app[DB], user_id, timedelta(hours=settings.session_ttl_hours)
    )
    response = redirect(target)
    _start_session(request, response, token)
    return response


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    return render(
        request, "login.html", {"values": {"next": request.query.get("next", "")}, "errors": {}}
    )


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form, errors, raw = await parse_form(request, accounts.LoginForm)
    status, throttled_after = 400, 0
    if form is not None:
        address = client_address(request.app[SETTINGS], request.remote, request.headers)
        live, secret = request.app[SERVICES].live, request.app[SETTINGS].secret_key
        try:
            await throttle.check_login_allowed(live, secret, form.email, address)
        except throttle.LoginThrottled as throttled:
            errors, status = {"form": throttled.message}, 429
            throttled_after = throttled.retry_after
        else:
            user_id = await accounts.authenticate(
                request.app[DB], request.app[PASSWORDS], form.email, form.password
            )
            if user_id is not None:
                return await _log_in(request, user_id, safe_next(form.next))
            await throttle.spend_failed_login(live, secret, form.email, address)
            errors = {"form": _("Wrong e-mail or password.")}
    raw.pop("password", None)
    response = render(request, "login.html", {"values": raw, "errors": errors}, status=status)
    if status == 429:
        response.headers["Retry-After"] = str(throttled_after)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await end_session(request.app[DB], token)
    response = redirect("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def _register_context(
    request: web.Request, values: dict[str, str], errors: dict[str, str]
) -> dict[str, object]:
    schools = await accounts.enrolling_schools(request.app[DB])
    return {"values": values, "errors": errors, "schools": schools}


@routes.get("/register")
async def register_page(request: web.Request) -> web.Response:
    return render(request, "register.html", await _register_context(request, {}, {}))


@routes.post("/register")
async def register(request: web.Request) -> web.Response:
    form, errors, raw = await parse_form(request, accounts.RegisterForm)
    if form is not None:
        try:
            user_id = await accounts.register_student(request.app[DB], request.app[PASSWORDS], form)
        except Refused as refused:
            errors = {refused.field: refused.message}
        else:
            return await _log_in(request, user_id, "/profile?welcome=1")
    raw.pop("password", None)
    return render(
        request, "register.html", await _register_context(request, raw, errors), status=400
    )


@routes.get("/profile")
async def profile_page(request: web.Request) -> web.Response:
    actor = require_login(request)
    profile = await accounts.profile(request.app[DB], actor.user_id or 0)
    values = {} if profile is None else asdict(profile)  # the form's values
    values["display_name"] = actor.display_name
    return render(
        request,
        "profile.html",
        {"values": values, "profile": profile, "errors": {}, "welcome": "welcome" in request.query},
    )


@routes.post("/profile")
async def save_profile(request: web.Request) -> web.Response:
    actor = require_login(request)
    if actor.role != "student":
        raise web.HTTPSeeOther("/profile")
    form, errors, raw = await parse_form(request, accounts.ProfileForm)
    if form is not None:
        await accounts.update_profile(request.app[DB], actor.user_id or 0, form)
        raise web.HTTPSeeOther("/profile?saved=1")
    profile = await accounts.profile(request.app[DB], actor.user_id or 0)
    return render(
        request,
        "profile.html",
        {"values": raw, "profile": profile, "errors": errors, "welcome": False},
        status=400,
    )


@routes.post("/lang")
async def choose_language(request: web.Request) -> web.Response:
    form = await request.post()
    locale = str(form.get("locale", ""))
    target = safe_next(str(form.get("next", "")))
    if locale not in request.app[CATALOGUES].locales:
        raise web.HTTPBadRequest(text="unknown language")
    actor = actor_of(request)
    if not actor.is_anonymous:
        await accounts.set_locale(request.app[DB], actor.user_id or 0, locale)
    response = redirect(target)
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=365 * 86400,
        samesite="Lax",
        secure=request.app[SETTINGS].secure_cookies,
        path="/",
    )
    return response
