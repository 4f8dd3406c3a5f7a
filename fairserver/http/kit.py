"""What every view needs: the caller, rendering, forms and the JSON envelope."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar, get_origin
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, ValidationError

from fairserver.auth import ANONYMOUS, Actor
from fairserver.i18n import current_locale, gettext
from fairserver.keys import CATALOGUES
from fairserver.permissions import Right, can

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
    """A path on this site, and nothing a browser could read as another one.

    Browsers drop tab, CR and LF anywhere in a URL ("/\t/evil.example" is "//evil.example")
    and treat a backslash as a slash; a control character cannot go in a header at all.
    So: a single leading slash, no backslash, no control, format or space character
    (a space in a path or query arrives percent-encoded), and no scheme or host.
    """
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


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


def _error_text(kind: str, ctx: dict[str, Any], fallback: str) -> str:
    """Pydantic's error types, as messages a translator can reach."""
    _ = gettext
    with_number = {
        "string_too_long": (_("Too long: at most %(n)s characters."), "max_length"),
        "string_too_short": (_("Too short: at least %(n)s characters."), "min_length"),
        "too_long": (_("Too many: at most %(n)s."), "max_length"),
        "too_short": (_("Too few: at least %(n)s."), "min_length"),
        "greater_than_equal": (_("Must be at least %(n)s."), "ge"),
        "less_than_equal": (_("Must be at most %(n)s."), "le"),
        "greater_than": (_("Must be more than %(n)s."), "gt"),
        "less_than": (_("Must be less than %(n)s."), "lt"),
    }
    plain = {
        "missing": _("Required."),
        "extra_forbidden": _("Unexpected field."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "float_parsing": _("Enter a number."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "datetime_parsing": _("Enter a date and time."),
        "datetime_from_date_parsing": _("Enter a date and time."),
        "literal_error": _("Choose one of the options."),
        "enum": _("Choose one of the options."),
        "bool_parsing": _("Choose yes or no."),
        "string_type": _("Enter text."),
        "list_type": _("Choose from the list."),
    }
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return plain["missing"]
    if kind in with_number:
        template, key = with_number[kind]
        return template % {"n": ctx.get(key)}
    return plain.get(kind) or gettext(fallback.removeprefix("Value error, "))


def validation_messages(exc: ValidationError, nested: bool = False) -> dict[str, str]:
    """Field name (or "a.0.b" paths, when nested) -> a readable, translated message."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        # Plain forms mark the field, not the item: "schools.0" is shown on "schools".
        parts = error["loc"] if nested else error["loc"][:1]
        field = ".".join(str(part) for part in parts) or "form"
        text = _error_text(error["type"], dict(error.get("ctx") or {}), str(error["msg"]))
        messages.setdefault(field, text)
    return messages


def _list_fields(model: type[BaseModel]) -> set[str]:
    """Fields declared as list/set/tuple: checkboxes and multi-selects post them repeatedly."""
    return {
        name
        for name, info in model.model_fields.items()
        if get_origin(info.annotation) in {list, set, tuple, frozenset}
    }


async def parse_form(
    request: web.Request, model: type[M]
) -> tuple[M | None, dict[str, str], dict[str, Any]]:
    """(valid model or None, errors by field, the raw values to refill the form)."""
    form = await request.post()
    many = _list_fields(model)
    raw: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token" and k not in many
    }
    for name in many:
        raw[name] = [v for v in form.getall(name, []) if isinstance(v, str)]
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
            "request.invalid",
            "the payload is invalid",
            fields=validation_messages(exc, nested=True),
        )


def redirect(target: str) -> web.Response:
    """A 303 we can still set cookies on (raising HTTPSeeOther is fine otherwise)."""
    return web.Response(status=303, headers={"Location": target})
