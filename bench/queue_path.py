"""Counts what one booth queue action costs: SQL statements, live-state calls, emits.

    python -m bench.queue_path                 SQLite + MemoryLive
    python -m bench.queue_path --services      PostgreSQL + RedisLive, from the URLs that
                                               scripts/with-services.sh exports

For each N in --waiting (default 0 and 20), N students join the queue first (not
counted), with one recruiter on duty. Then each of these is counted on its own:
  join    one more student joins (booth.queue_join's service call)
  next    the recruiter calls the next student (booth.queue_next)
  accept  the called student accepts (booth.call_accept)
  leave   the last waiting student leaves (booth.queue_leave)
Columns: SQL statements sent (a before_cursor_execute listener on the engine) and
transactions/connections opened; live-state method calls (a wrapper around LiveState)
and, on Redis, round trips (commands, scripts and MULTI pipelines); emits (a recording
notifier). The socket layer's own cost (the booth lookup, the rate limit) is not counted:
it is the same for every action.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import event

from fairserver.auth import Actor
from fairserver.rooms.booths import calls as booth_calls
from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.store import accounts
from fairserver.store.db import Database
from fairserver.store.live import LiveState, MemoryLive
from fairserver.store.live_redis import RedisLive
from tests.factories import build_world


class Counts:
    def __init__(self) -> None:
        self.sql = 0
        self.transactions = 0
        self.live = 0
        self.redis = 0
        self.live_calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class CountingLive:
    """Forwards every LiveState call and counts it by method name."""

    def __init__(self, inner: LiveState, counts: Counts) -> None:
        self._inner = inner
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts.live += 1
            self._counts.live_calls[name] += 1
            return await target(*args, **kwargs)

        return counted


def count_redis(live: RedisLive, counts: Counts) -> None:
    """Counts commands and scripts (execute_command) and pipelines (one round trip each)."""
    redis: Any = live._redis
    command = redis.execute_command

    async def execute_command(*args: Any, **kwargs: Any) -> Any:
        counts.redis += 1
        return await command(*args, **kwargs)

    redis.execute_command = execute_command
    pipeline = redis.pipeline

    def counted_pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        async def run(*a: Any, **k: Any) -> Any:
            counts.redis += 1
            return await execute(*a, **k)

        pipe.execute = run
        return pipe

    redis.pipeline = counted_pipeline


def count_sql(db: Database, counts: Counts) -> None:
    def statement(*_args: Any) -> None:
        counts.sql += 1

    def checkout(*_args: Any) -> None:
        counts.transactions += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
    event.listen(db.engine.sync_engine, "engine_connect", checkout)


async def add_students(db: Database, school_id: int, count: int) -> list[int]:
    async with db.begin() as conn:
        return [
            await accounts.insert_user(
                conn,
                email=f"bench{n}@test.fair",
                password_hash="!",  # noqa: S106 - nobody logs in
                display_name=f"bench {n}",
                role="student",
                school_id=school_id,
            )
            for n in range(count)
        ]


def student(user_id: int) -> Actor:
    return Actor(user_id=user_id, role="student", display_name=f"s{user_id}", company_id=None)


async def measure(
    db: Database, live: LiveState, counts: Counts, waiting: int
) -> list[tuple[str, int, int, int, int, int]]:
    world = await build_world(db)
    notifier = RecordingNotifier()
    services = build_services(
        db=db,
        live=CountingLive(live, counts),  # type: ignore[arg-type]
        notifier=notifier,
        worker_id="bench",
    )
    booth = Booth(
        id=world.booth_a_open,
        fair_id=world.open_fair,
        company_id=world.company_a,
        company_name="Company A",
    )
    recruiter = Actor(
        user_id=world.users["recruiter_a"],
        role="recruiter",
        display_name="recruiter_a",
        company_id=world.company_a,
    )
    await booth_service.enter(services, "bench:r", recruiter, booth, None)
    students = await add_students(db, world.school_b, waiting + 1)
    for user_id in students[:-1]:
        await booth_calls.join(services, student(user_id), booth)
    rows = []

    async def count(name: str, action: Callable[[], Awaitable[Any]]) -> None:
        counts.reset()
        notifier.sent.clear()
        await action()
        rows.append(
            (name, counts.sql, counts.transactions, counts.live, counts.redis, len(notifier.sent))
        )

    last = students[-1]
    await count("join", lambda: booth_calls.join(services, student(last), booth))
    called: dict[str, Any] = {}

    async def call_next() -> None:
        called.update(
            (await booth_calls.call_next(services, recruiter, booth)).model_dump()["called"]
        )

    await count("next", call_next)
    first = int(called["student_id"])
    await count("accept", lambda: booth_calls.accept(services, student(first), booth))
    await count("leave", lambda: booth_calls.leave(services, student(last), booth))
    return rows


async def run_once(waiting: int, services: bool) -> list[tuple[str, int, int, int, int, int]]:
    counts = Counts()
    async with AsyncExitStack() as stack:
        if services:
            from tests.conftest import fresh_pg_database

            url = await stack.enter_async_context(fresh_pg_database())
            redis = await RedisLive.connect(
                os.environ["FAIRSERVER_TEST_REDIS_URL"], prefix=f"bench{os.getpid()}:"
            )
            stack.push_async_callback(redis.close)
            stack.push_async_callback(redis._forget_everything)
            count_redis(redis, counts)
            live: LiveState = redis
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            live = MemoryLive()
        db = Database(url)
        stack.push_async_callback(db.dispose)
        await db.migrate()
        count_sql(db, counts)
        return await measure(db, live, counts, waiting)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, nargs="+", default=[0, 20])
    parser.add_argument("--services", action="store_true", help="PostgreSQL + Redis")
    args = parser.parse_args()
    backend = "PostgreSQL + Redis" if args.services else "SQLite + memory"
    print(f"backend: {backend}")
    print(f"{'N':>3} {'action':<7} {'sql':>4} {'conns':>5} {'live':>5} {'redis':>5} {'emits':>5}")
    for waiting in args.waiting:
        for name, sql, conns, live, redis, emits in await run_once(waiting, args.services):
            redis_text = str(redis) if args.services else "-"
            print(
                f"{waiting:>3} {name:<7} {sql:>4} {conns:>5} {live:>5} {redis_text:>5} {emits:>5}"
            )


if __name__ == "__main__":
    asyncio.run(main())
