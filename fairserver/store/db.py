"""The database: one async engine, SQLite pragmas, migrations on start-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fairserver.ops import metrics

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; synchronous=FULL makes every
    # committed transaction survive power loss or kill -9 (docs/targets.md).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _started(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    conn.info.setdefault("fs_started", []).append(time.perf_counter())


def _finished(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    started = conn.info.get("fs_started")
    if started:
        seconds = time.perf_counter() - started.pop()
        metrics.DB_SECONDS.labels(metrics.statement_kind(statement)).observe(seconds)


def _failed(context: Any) -> None:
    started = context.connection.info.get("fs_started") if context.connection else None
    if started:
        started.pop()


def _instrument(engine: AsyncEngine) -> None:
    """Statement times for /metrics (the driver's round trip included)."""
    event.listen(engine.sync_engine, "before_cursor_execute", _started)
    event.listen(engine.sync_engine, "after_cursor_execute", _finished)
    event.listen(engine.sync_engine, "handle_error", _failed)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: AsyncEngine = create_async_engine(url, echo=echo)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(
                url,
                echo=echo,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args={"server_settings": {"synchronous_commit": "on"}},
            )
        _instrument(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def begin(self) -> Any:
        """A transaction that commits on leaving the block: use it for every write."""
        return self.engine.begin()

    def connect(self) -> Any:
        return self.engine.connect()

    async def migrate(self) -> None:
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                await conn.run_sync(upgrade_to_head)
            return
        # SQLite changes a table by making it anew; with foreign keys on, dropping the old
        # one would cascade into the tables that reference it. The pragma only takes
        # effect outside a transaction, so it is set before the migration's one begins,
        # and the keys are checked before they are turned on again.
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            try:
                await conn.run_sync(upgrade_to_head)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
                await conn.commit()
            finally:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


R = TypeVar("R")


async def fetch_one_as(conn: AsyncConnection, stmt: Any, row_type: Callable[..., R]) -> R | None:
    """The first row as ``row_type`` (a dataclass named after the selected columns)."""
    row = (await conn.execute(stmt)).mappings().first()
    return row_type(**row) if row is not None else None


def seconds_between(conn: AsyncConnection, start: Any, end: Any) -> Any:
    """end - start in seconds (a float), the same figure on SQLite and PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.func.extract("epoch", end - start)


async def fetch_all_as(conn: AsyncConnection, stmt: Any, row_type: Callable[..., R]) -> list[R]:
    return [row_type(**row) for row in (await conn.execute(stmt)).mappings().all()]


async def fetch_one(conn: AsyncConnection, stmt: Any) -> dict[str, Any] | None:
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


async def fetch_all(conn: AsyncConnection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in (await conn.execute(stmt)).mappings().all()]
