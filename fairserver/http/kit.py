"""What every view needs: app keys, the caller, rendering, forms and the JSON envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, ValidationError

from fairserver.auth import ANONYMOUS, Actor, Passwords
from fairserver.i18n import Catalogues, current_locale, gettext
from fairserver.permissions import Right, can
from fairserver.settings import Settings
from fairserver.store.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
PASSWORDS = web.AppKey("passwords", Passwords)
CATALOGUES = web.AppKey("catalogues", Catalogues)

ACTOR_KEY = web.RequestKey("actor", Actor)
CSRF_KEY = web.RequestKey("csrf", str)
LOCALE_KEY = web.RequestKey("locale", str)
M = TypeVar("M", bound=BaseModel)


def actor_of(request: web.Request) -> Actor:
    value = request.get(ACTOR_KEY)
    return value if isinstance(value, Actor) else ANONYMOUS


class NotFound(web.HTTPNotFound):
    """Raised for a missing object and for a forbidden one alike, so ids can't be probed."""


def not_found() -> NoReturn:
    raise NotFound()


def require(actor: Actor, right: Right, obj: Any = None) -> None:
    if not can(actor, right, obj):
        not_found()


def require_login(request: web.Request) -> Actor:
    actor = actor_of(request)
    if actor.is_anonymous:
        wants_json = request.path.startswith("/api/")
        if wants_json:
            raise web.HTTPUnauthorized(
                text='{"ok": false, "error": {"code": "auth.required", "message": "log in first"}}',
                content_type="application/json",
            )
        raise web.HTTPSeeOther(
            f"/login?next={request.path_qs}" if _safe_next(request.path_qs) else "/login"
        )
    return actor


def _safe_next(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def safe_next(target: str | None, default: str = "/") -> str:
    """A post-login redirect that stays on this site."""
    return target if target and _safe_next(target) else default


def render(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> web.Response:
    actor = actor_of(request)
    base = {
        "actor": actor,
        "csrf_token": request.get(CSRF_KEY, ""),
        "locale": current_locale(),
        "languages": request.app[CATALOGUES].names(),
        "request_path": request.path_qs,
    }
    base.update(context or {})
    return aiohttp_jinja2.render_template(template, request, base, status=status)


def validation_messages(exc: ValidationError) -> dict[str, str]:
    """Field name -> a readable, translated message."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "form"
        ctx = error.get("ctx") or {}
        kind = error["type"]
        if kind == "string_too_long":
            text = gettext("Too long: at most %(n)s characters.") % {"n": ctx.get("max_length")}
        elif kind == "string_too_short":
            text = (
                gettext("Required.")
                if ctx.get("min_length") == 1
                else (
                    gettext("Too short: at least %(n)s characters.") % {"n": ctx.get("min_length")}
                )
            )
        elif kind == "missing":
            text = gettext("Required.")
        elif kind in {"extra_forbidden"}:
            text = gettext("Unexpected field.")
        else:
            text = gettext(str(error["msg"]).removeprefix("Value error, "))
        messages.setdefault(field, text)
    return messages


async def parse_form(
    request: web.Request, model: type[M]
) -> tuple[M | None, dict[str, str], dict[str, str]]:
    """(valid model or None, errors by field, the raw values to refill the form)."""
    form = await request.post()
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        return model.model_validate(raw), {}, raw
    except ValidationError as exc:
        return None, validation_messages(exc), raw


def json_ok(data: Any = None, status: int = 200) -> web.Response:
    return web.json_response({"ok": True, "data": data}, status=status)


def json_error(code: str, message: str, status: int = 400, **extra: Any) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return web.json_response({"ok": False, "error": error}, status=status)


async def parse_json(request: web.Request, model: type[M]) -> M | web.Response:
    """The model, or the error response to return as is."""
    try:
        payload = await request.json()
    except ValueError:
        return json_error("request.invalid_json", "the body is not valid JSON")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        return json_error(
            "request.invalid", "the payload is invalid", fields=validation_messages(exc)
        )


def redirect(target: str) -> web.Response:
    """A 303 we can still set cookies on (raising HTTPSeeOther is fine otherwise)."""
    return web.Response(status=303, headers={"Location": target})
