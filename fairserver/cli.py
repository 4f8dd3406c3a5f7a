"""`fairserver serve | demo | migrate | export`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from aiohttp import web

from fairserver.app import create_app
from fairserver.keys import DB, PASSWORDS, SETTINGS
from fairserver.ops import logs
from fairserver.settings import Settings, SettingsError
from fairserver.store.db import Database

log = logging.getLogger("fairserver")
DEMO_DATABASE = "sqlite+aiosqlite:///./fairserver-demo.db"


def _serve(settings: Settings, app: web.Application, reuse_port: bool = False) -> None:
    if not reuse_port:  # a worker's supervisor already said where it listens
        print(f"fairserver on http://{settings.host}:{settings.port}/", flush=True)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=20,
        access_log=None,
        reuse_port=reuse_port or None,
    )


async def _load_demo(app: web.Application) -> None:
    from fairserver import demo

    settings = app[SETTINGS]
    db = app[DB]
    if await demo.is_loaded(db):
        log.info("demo data already loaded")
    else:
        loaded = await demo.load_demo(db, app[PASSWORDS], settings.booths_dir)
        log.info("demo data loaded: %d users", len(loaded.users))
    url = f"http://{settings.host}:{settings.port}/"
    print(
        "\n".join(
            [
                "",
                f"  fairserver demo: {url}",
                f"  every demo account's password: {demo.DEMO_PASSWORD}",
                "    student    student@demo.fair     (verified, Tibet Vocational Tech. College)",
                "    student    unverified@demo.fair  (not on the roster)",
                "    recruiter  recruiter@demo.fair   (CNOOC Tianjin Branch)",
                "    organiser  organiser@demo.fair   (the college's career office)",
                "    organiser  region@demo.fair      (regional employment service)",
                "    admin      admin@demo.fair",
                "",
            ]
        ),
        flush=True,
    )


def cmd_serve(settings: Settings, workers: int = 1, worker: bool = False) -> int:
    from fairserver import workers as scale_out

    if worker:  # one of `--workers N`: shares the port with its siblings
        app = create_app(settings)
        app.cleanup_ctx.append(scale_out.exit_with_supervisor)
        _serve(settings, app, reuse_port=True)
        return 0
    if workers != 1:
        return scale_out.supervise(settings, workers)
    _serve(settings, create_app(settings))
    return 0


def cmd_demo(settings: Settings) -> int:
    if "FAIRSERVER_DATABASE_URL" not in os.environ:
        settings = replace(settings, database_url=DEMO_DATABASE)
    app = create_app(settings)
    app.on_startup.append(_load_demo)
    _serve(settings, app)
    return 0


def cmd_migrate(settings: Settings) -> int:
    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(run())
    print("database is at the newest schema")
    return 0


def cmd_export(settings: Settings, fair: str, kind: str, out: str | None) -> int:
    from fairserver.rooms.fairs.export import EXPORT_KINDS, export_fair_csv_by_slug

    if kind not in EXPORT_KINDS:
        print(
            f"unknown export kind {kind!r}; choose from {', '.join(EXPORT_KINDS)}", file=sys.stderr
        )
        return 2

    async def run() -> str | None:
        db = Database(settings.database_url)
        try:
            await db.migrate()
            return await export_fair_csv_by_slug(db, fair, kind)
        finally:
            await db.dispose()

    text = asyncio.run(run())
    if text is None:
        print(f"no fair with the slug {fair!r}", file=sys.stderr)
        return 1
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run the server"),
        ("demo", "run the server with the demo fair from booths/ (SQLite, in-process state)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--host", help="overrides FAIRSERVER_HOST")
        command.add_argument("--port", type=int, help="overrides FAIRSERVER_PORT")
        if name == "serve":
            command.add_argument(
                "--workers",
                type=int,
                default=1,
                help="processes sharing the port; 2 or more need FAIRSERVER_REDIS_URL "
                "and PostgreSQL (default: 1)",
            )
            # Internal: how the supervisor starts each of the N workers.
            command.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("migrate", help="bring the database to the newest schema")
    export = sub.add_parser("export", help="write a fair's records as CSV")
    export.add_argument("fair", help="the fair's slug")
    export.add_argument("kind", help="companies | jobs | interest | attendance")
    export.add_argument("-o", "--out", help="file to write (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "host", None):
        settings = replace(settings, host=args.host)
    if getattr(args, "port", None) is not None:
        settings = replace(settings, port=args.port)
    logs.configure(settings.log_level)
    if args.command == "serve":
        return cmd_serve(settings, args.workers, args.worker)
    if args.command == "demo":
        return cmd_demo(settings)
    if args.command == "migrate":
        return cmd_migrate(settings)
    return cmd_export(settings, args.fair, args.kind, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
