"""`make bench-chat`: a briefing's chat and Q&A fan-out, against a plain websocket baseline.

For each audience size N it runs, in this one process run:
1. the baseline: a plain aiohttp websocket broadcast of the same chat traffic;
2. fairserver: `fairserver serve` (embedded: SQLite, in-process state) with N logged-in
   students in one briefing, chat from many senders, upvotes and new questions, all
   through the real socket events (rate limits, validation, commits before acks).
Figures go to docs/benchmarks.md. Nothing here is a pass/fail test.

    python -m bench.chat --viewers 1000 2000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import cpu_seconds, median, percentile, rss_bytes, write_section
from bench.eio_client import EioClient
from bench.fanout import HEADER, FanoutResult, Tally, drain, run_baseline, send_paced
from fairserver.auth import token_hash
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.servers import ServerProcess, free_port, start_server

QUESTIONS = 40


@dataclass
class Traffic:
    chat_per_second: float = 20
    votes_per_second: float = 50
    questions_per_second: float = 1
    seconds: float = 20


@dataclass
class World:
    fair_slug: str
    briefing_id: int
    question_ids: list[int]
    cookies: list[str]  # one per student


async def seed(db: Database, students: int) -> World:
    """An open fair, one live briefing with approved questions, N students with sessions."""
    now = datetime.now(UTC)
    async with db.begin() as conn:

        async def insert(table: t.sa.Table, **values: object) -> int:
            result = await conn.execute(table.insert().values(**values).returning(table.c.id))
            return int(result.scalar_one())

        school = await insert(t.schools, slug="bench", name="Bench College", created_at=now)
        company = await insert(t.companies, slug="bench-co", name="Bench Energy", created_at=now)
        fair = await insert(
            t.fairs,
            slug="bench-fair",
            school_id=school,
            title="Bench fair",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
            timezone="Asia/Shanghai",
            visibility="open",
            published=True,
            created_at=now,
        )
        await conn.execute(
            t.fair_companies.insert().values(
                fair_id=fair, company_id=company, status="approved", created_at=now
            )
        )
        briefing = await insert(
            t.briefings,
            fair_id=fair,
            company_id=company,
            title="Air briefing",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=3),
            created_at=now,
        )
        users = [
            {
                "email": f"s{n}@bench.test",
                "password_hash": "x",
                "display_name": f"Student {n}",
                "role": "student",
                "school_id": school,
                "created_at": now,
            }
            for n in range(students)
        ]
        await conn.execute(t.users.insert(), users)
        ids = list((await conn.execute(t.sa.select(t.users.c.id).order_by(t.users.c.id))).scalars())
        tokens = [secrets.token_urlsafe(24) for _ in ids]
        await conn.execute(
            t.sessions.insert(),
            [
                {
                    "token_hash": token_hash(tok),
                    "user_id": uid,
                    "csrf_token": "x",
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for uid, tok in zip(ids, tokens, strict=True)
            ],
        )
        questions = [
            await insert(
                t.questions,
                briefing_id=briefing,
                author_id=ids[n],
                client_id=f"seed{n}",
                body=f"Question {n}?",
                state="approved",
                created_at=now,
                updated_at=now,
            )
            for n in range(QUESTIONS)
        ]
    return World("bench-fair", briefing, questions, [f"fs_session={tok}" for tok in tokens])


async def run_fairserver(
    viewers: int, traffic: Traffic, workdir: Path
) -> tuple[FanoutResult, dict[str, float]]:
    database_url = f"sqlite+aiosqlite:///{workdir / f'bench-{viewers}.db'}"
    db = Database(database_url)
    await db.migrate()
    world = await seed(db, viewers)
    await db.dispose()
    server = start_server(
        workdir, {"FAIRSERVER_DATABASE_URL": database_url, "FAIRSERVER_LOG_LEVEL": "WARNING"}
    )
    try:
        return await _drive(server, world, viewers, traffic)
    finally:
        server.stop()


async def _connect_all(
    http: aiohttp.ClientSession, server: ServerProcess, world: World, tally: Tally
) -> list[EioClient]:
    def on_event(event: str, data: dict[str, object], arrived: float) -> None:
        if event == "briefing.message":
            body = str(data["message"]["body"])  # type: ignore[index]
            if body.startswith("b"):
                tally.on_message(int(body[1 : body.index(" ")]), arrived)

    clients: list[EioClient] = []

    async def one(cookie: str) -> EioClient:
        client = EioClient(http, on_event)
        await client.connect(server.url, cookie)
        for event, data in (
            ("fair.join", {"fair": world.fair_slug}),
            ("briefing.join", {"briefing_id": world.briefing_id}),
        ):
            reply = await client.call(event, data)
            if not reply.get("ok"):
                raise RuntimeError(f"{event} refused: {reply}")
        return client

    for start in range(0, len(world.cookies), 100):
        clients += await asyncio.gather(*(one(c) for c in world.cookies[start : start + 100]))
    return clients


async def _drive(
    server: ServerProcess, world: World, viewers: int, traffic: Traffic
) -> tuple[FanoutResult, dict[str, float]]:
    tally = Tally()
    loop = asyncio.get_running_loop()
    ack_ms: dict[str, list[float]] = {"chat": [], "vote": [], "ask": []}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        rss_before = rss_bytes(server.process.pid)
        clients = await _connect_all(http, server, world, tally)
        rss_per_client = (rss_bytes(server.process.pid) - rss_before) / viewers
        chats = int(traffic.chat_per_second * traffic.seconds)
        votes = min(int(traffic.votes_per_second * traffic.seconds), viewers * QUESTIONS)
        asks = int(traffic.questions_per_second * traffic.seconds)
        senders = clients[: max(1, int(traffic.chat_per_second * 2))]  # each sends at most 0.5/s

        pending: list[asyncio.Task[None]] = []

        def spawn(call: Coroutine[Any, Any, None]) -> None:
            pending.append(loop.create_task(call))

        async def timed(kind: str, client: EioClient, event: str, data: dict[str, object]) -> None:
            started = loop.time()
            await client.call(event, data)
            ack_ms[kind].append((loop.time() - started) * 1000)

        async def chat(n: int) -> None:
            tally.sent[n] = loop.time()
            body = f"b{n} What is the pay offshore? 工资待遇怎么样？"
            spawn(
                timed(
                    "chat",
                    senders[n % len(senders)],
                    "briefing.chat",
                    {"briefing_id": world.briefing_id, "body": body, "client_id": f"m{n}"},
                )
            )

        async def vote(n: int) -> None:
            voter, question = divmod(n, QUESTIONS)
            spawn(
                timed(
                    "vote",
                    clients[voter % viewers],
                    "briefing.vote",
                    {"briefing_id": world.briefing_id, "question_id": world.question_ids[question]},
                )
            )

        async def ask(n: int) -> None:
            spawn(
                timed(
                    "ask",
                    clients[-1 - n % viewers],
                    "briefing.ask",
                    {
                        "briefing_id": world.briefing_id,
                        "body": f"Is the work offshore? {n}",
                        "anonymous": False,
                        "client_id": f"q{n}",
                    },
                )
            )

        cpu_before = cpu_seconds(server.process.pid)
        started = loop.time()
        await asyncio.gather(
            send_paced(chats, traffic.chat_per_second, chat),
            send_paced(votes, traffic.votes_per_second, vote),
            send_paced(asks, traffic.questions_per_second, ask),
        )
        await drain(tally, chats * viewers, timeout=30)
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = loop.time() - started
        cpu = cpu_seconds(server.process.pid) - cpu_before
        await asyncio.gather(*(c.close() for c in clients))
    result = FanoutResult(
        f"fairserver briefing chat (N={viewers:,})",
        viewers,
        chats,
        chats * viewers,
        tally.received,
        elapsed,
        cpu,
        rss_per_client,
        tally.latencies,
    )
    acks = {f"{kind} ack p99 ms": percentile(values, 0.99) for kind, values in ack_ms.items()}
    acks |= {f"{kind} ack p50 ms": median(values) for kind, values in ack_ms.items()}
    acks["votes sent"] = votes
    acks["questions sent"] = asks
    return result, acks


def report(
    rows: list[tuple[FanoutResult, FanoutResult, dict[str, float]]], traffic: Traffic
) -> str:
    lines = [
        "## Chat and Q&A fan-out (`make bench-chat`)",
        "",
        f"Traffic per run: {traffic.chat_per_second:g} chat messages/s, {traffic.votes_per_second:g} votes/s and "
        f"{traffic.questions_per_second:g} question/s for {traffic.seconds:g} s, into one briefing whose N viewers are "
        "all logged-in students. Delivery latency is send-to-receive of each chat message at every viewer; the "
        "baseline is a plain aiohttp websocket broadcast of the same chat traffic to the same number of clients, "
        "measured in the same run. Server CPU is the server process's user+system time during the traffic.",
        "",
        HEADER,
    ]
    for baseline, ours, _ in rows:
        lines += [baseline.row(), ours.row()]
    lines += [
        "",
        "| N | efficiency vs baseline (deliveries per CPU-second) | chat ack p50/p99 ms | vote ack p50/p99 ms | question ack p50/p99 ms |",
        "|---|---|---|---|---|",
    ]
    for baseline, ours, acks in rows:
        ratio = (
            ours.per_cpu_second / baseline.per_cpu_second
            if baseline.per_cpu_second
            else float("nan")
        )
        lines.append(
            f"| {ours.clients:,} | {ratio:.0%} | {acks['chat ack p50 ms']:.1f} / {acks['chat ack p99 ms']:.1f} | "
            f"{acks['vote ack p50 ms']:.1f} / {acks['vote ack p99 ms']:.1f} | {acks['ask ack p50 ms']:.1f} / {acks['ask ack p99 ms']:.1f} |"
        )
    lines += [
        "",
        "Targets (docs/targets.md): p99 delivery ≤ 500 ms and 0 lost at 5,000 viewers; fan-out efficiency ≥ 50% of the "
        "baseline; ≤ 50 KB per idle connected client (the KB column is server RSS growth per joined viewer).",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    traffic = Traffic(seconds=args.seconds)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for viewers in args.viewers:
            chats = int(traffic.chat_per_second * traffic.seconds)
            baseline = await run_baseline(viewers, chats, traffic.chat_per_second, free_port())
            ours, acks = await run_fairserver(viewers, traffic, Path(tmp))
            rows.append((baseline, ours, acks))
            print(baseline.row(), ours.row(), acks, sep="\n", flush=True)
    text = report(rows, traffic)
    write_section("bench-chat", text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
