"""Shared fixtures: real SQLite files and a real PostgreSQL (started by `make test`)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from aiortc import RTCBundlePolicy, RTCConfiguration
from sqlalchemy.ext.asyncio import create_async_engine

from fairserver.app import create_app
from fairserver.keys import DB
from fairserver.settings import Settings
from fairserver.store.db import Database
from fairserver.webrtc.peers import PeerRegistry
from tests.factories import World, build_world

PG_ENV = "FAIRSERVER_TEST_PG_URL"


def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(
            f"{PG_ENV} is not set: run the suite through `make test`, which starts PostgreSQL"
        )
    return url


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the suite's server, dropped afterwards."""
    admin_url = pg_admin_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield re.sub(r"/[^/]+$", f"/{name}", admin_url)
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database: each test using it runs once on SQLite and once on PostgreSQL."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        else:
            url = await stack.enter_async_context(fresh_pg_database())
        database = Database(url)
        stack.push_async_callback(database.dispose)
        await database.migrate()
        yield database


def test_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "secret_key": "test-secret-key-0123456789",
        "recordings_dir": tmp_path / "recordings",
        "uploads_dir": tmp_path / "uploads",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return test_settings(tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[object, object]]:
    app = create_app(settings)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def world(client: TestClient[object, object]) -> World:
    """Schools, companies, fairs and one user of each role, in the client's database."""
    return await build_world(client.app[DB], client.app)


@pytest.fixture
def csrf_of() -> Callable[[str], str]:
    def extract(html: str) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "page has no CSRF token"
        return match.group(1)

    return extract


@pytest.fixture
async def browsers() -> AsyncIterator[PeerRegistry]:
    """In-process aiortc peers standing in for participants' browsers: host candidates,
    and every m-line bundled on one transport as browsers do (aiortc must be told)."""
    registry = PeerRegistry(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )
    yield registry
    await registry.close_all()


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits
