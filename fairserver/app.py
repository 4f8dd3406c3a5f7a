"""create_app(settings): the one place where things are wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel.dates import format_date, format_datetime, format_skeleton, get_timezone_name
from babel.numbers import format_decimal
from markupsafe import Markup

from fairserver import i18n
from fairserver.auth import Passwords
from fairserver.http import health, labels, middleware, ops
from fairserver.http.accounts import pages as account_pages
from fairserver.http.booths import applications as job_applications
from fairserver.http.booths import company, jobs
from fairserver.http.booths import pages as booth_pages
from fairserver.http.briefings import agenda, replay
from fairserver.http.briefings import export as briefing_export
from fairserver.http.fairs import dashboard, organiser, policy, reports
from fairserver.http.fairs import pages as fair_pages
from fairserver.http.interviews import agreements as interview_agreements
from fairserver.http.interviews import outcomes as interview_outcomes
from fairserver.http.interviews import pages as interview_pages
from fairserver.http.interviews import slots as interview_slots
from fairserver.keys import CATALOGUES, DB, PASSWORDS, SETTINGS, SOCKETS
from fairserver.settings import PROJECT_ROOT, Settings
from fairserver.socket.domains import load_domains
from fairserver.socket.lifecycle import realtime, services_ctx, tell_sockets
from fairserver.socket.server import SocketLayer
from fairserver.store.db import Database
from fairserver.text import _INVISIBLE, markdown

ROUTE_MODULES: tuple[ModuleType, ...] = (
    health,
    ops,
    account_pages,
    fair_pages,
    organiser,
    reports,
    booth_pages,
    jobs,
    agenda,
    policy,
    company,
    briefing_export,
    dashboard,
    interview_pages,
    replay,
    interview_agreements,
    job_applications,
    interview_outcomes,
    interview_slots,
)
MAX_BODY = 4 * 1024 * 1024
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist"


def _finalize(value: object) -> object:
    # Every {{ }} passes through here: strip bidi overrides from whatever we print.
    if isinstance(value, Markup):
        # Removing characters from escaped HTML cannot create markup.
        return Markup(_INVISIBLE.sub("", value))  # noqa: S704
    if isinstance(value, str):
        return _INVISIBLE.sub("", value)
    return "" if value is None else value


def _format_dt(value: datetime | None, tz: str = "UTC", fmt: str = "medium") -> str:
    """ "short" and "medium" are a date and a 24-hour time, the same shape everywhere
    ("Dec 10, 2026 10:00"); other formats are babel's (a pattern such as "HH:mm")."""
    if value is None:
        return ""
    zone, locale = ZoneInfo(tz), i18n.current_locale()
    if fmt in ("short", "medium"):
        day = format_skeleton("yMMMd", value, tzinfo=zone, locale=locale)
        return f"{day} {format_skeleton('Hm', value, tzinfo=zone, locale=locale)}"
    return format_datetime(value, fmt, tzinfo=zone, locale=locale)


def _zone_name(tz: str) -> str:
    """The zone as people say it ("China Time", "中国时间"), in the page's language."""
    return get_timezone_name(ZoneInfo(tz), "long", locale=i18n.current_locale())


def _when(start: datetime, end: datetime | None, tz: str, dated: bool = True) -> Markup:
    """A time (or a span) in the fair's zone, named, in one format everywhere: the end
    shows only its time when it falls on the same local day (``dated=False``: the start too,
    under a heading that names the day). ``local-time.js`` adds the viewer's own time beside
    it when their zone differs."""
    zone, locale = ZoneInfo(tz), i18n.current_locale()

    def stamp(value: datetime, with_date: bool) -> Markup:
        text = format_skeleton("Hm", value, tzinfo=zone, locale=locale)
        if with_date:
            text = f"{format_skeleton('yMMMd', value, tzinfo=zone, locale=locale)} {text}"
        return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), text)

    parts = [stamp(start, dated)]
    if end is not None:
        same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
        parts += [Markup("–"), stamp(end, not same_day and dated)]
    return Markup(
        '<span data-when data-zone="{}" data-start="{}" data-end="{}" data-your-time="{}">{} '
        '<span class="zone">{}</span></span>'
    ).format(
        tz,
        start.isoformat(),
        end.isoformat() if end is not None else "",
        # {time} is filled in by local-time.js, in the viewer's zone.
        i18n.gettext("your time: {time}"),
        Markup("").join(parts),
        _zone_name(tz),
    )


def _format_date(value: date | None, fmt: str = "medium") -> str:
    return "" if value is None else format_date(value, fmt, locale=i18n.current_locale())


def _format_number(value: int | float) -> str:
    return format_decimal(value, locale=i18n.current_locale())


def setup_templates(app: web.Application, web_dir: Path) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(web_dir / "templates")),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals.update(
        degree_choices=labels.degree_choices,
        degree_label=labels.degree_label,
        role_label=labels.role_label,
    )
    env.filters.update(
        markdown=markdown,
        dt=_format_dt,
        when=_when,
        zone_name=_zone_name,
        date=_format_date,
        number=_format_number,
    )


async def _database(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[SETTINGS].database_url)
    await db.migrate()
    app[DB] = db
    yield
    await db.dispose()


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            ops.request_log,
            middleware.security_headers,
            middleware.errors,
            middleware.session,
            middleware.csrf,
        ],
    )
    app[SETTINGS] = settings
    app[PASSWORDS] = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    app[CATALOGUES] = i18n.Catalogues()
    setup_templates(app, settings.web_dir)
    app.cleanup_ctx.append(_database)
    layer = SocketLayer(settings, load_domains(), app[CATALOGUES])
    layer.sio.attach(app)
    app[SOCKETS] = layer
    app.cleanup_ctx.append(services_ctx)
    app.cleanup_ctx.append(realtime)
    app.on_shutdown.append(tell_sockets)
    app.on_response_prepare.append(ops.add_request_id)
    for module in ROUTE_MODULES:
        app.router.add_routes(module.routes)
    app.router.add_static("/static/", settings.web_dir / "static", name="static")
    favicon = settings.web_dir / "static" / "favicon.svg"

    async def serve_favicon(request: web.Request) -> web.FileResponse:
        # Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon.
        return web.FileResponse(favicon, headers={"Cache-Control": "public, max-age=86400"})

    app.router.add_get("/favicon.ico", serve_favicon)
    if SOCKET_IO_CLIENT.is_dir():
        app.router.add_static("/vendor/socket.io/", SOCKET_IO_CLIENT, name="vendor_socketio")
    return app
