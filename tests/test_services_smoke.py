"""Smoke tests: the real PostgreSQL and redis started by scripts/with-services.sh answer.

These never skip: without the services the suite is not testing what it claims to.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run through make test (scripts/with-services.sh "
            "starts PostgreSQL and redis and exports it)",
            pytrace=False,
        )
    return value


async def test_postgres_answers_and_has_pg_trgm() -> None:
    engine = create_async_engine(_required_env("FAIRSERVER_TEST_PG_URL"))
    try:
        async with engine.begin() as conn:
            version = (await conn.execute(text("select version()"))).scalar_one()
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            similarity = (
                await conn.execute(text("select similarity('career fair', 'career fairs')"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert version.startswith("PostgreSQL")
    assert 0.5 < similarity < 1.0


async def test_redis_answers() -> None:
    client = aioredis.from_url(_required_env("FAIRSERVER_TEST_REDIS_URL"))
    key = f"fairserver:smoke:{uuid.uuid4().hex}"
    try:
        assert await client.ping()
        await client.set(key, "ok", ex=60)
        assert await client.get(key) == b"ok"
        await client.delete(key)
    finally:
        await client.aclose()
