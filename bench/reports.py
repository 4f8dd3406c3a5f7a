"""Times the school's reports page and its downloads on a fair of realistic size.

    make bench-reports        (scripts/with-services.sh python -m bench.reports)

One fair of one school with 5,000 verified students, 500 companies with a booth each,
20 briefings, 50,000 attendance intervals (5,000 fair visits, 35,000 booth visits, 10,000
briefing intervals), 10,000 queue entries, 2,000 questions, 2,000 interviews with outcomes
and 300 agreements, on SQLite and on PostgreSQL. A real `fairserver serve` process answers;
the organiser is logged in over HTTP and each URL is fetched --requests times in a row,
after two warm-up fetches. The baseline, fetched the same way in the same run, is the
organiser's fair page (one fair's summary), so a ratio says how many such pages one
report costs. The target (docs/targets.md, F6) is p95 <= 200 ms for the page and the CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from bench.common import percentile, write_section
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.conftest import PG_ENV, fresh_pg_database
from tests.factories import PASSWORD, World, build_world
from tests.servers import start_server

STUDENTS, COMPANIES, BRIEFINGS = 5_000, 500, 20
FAIR_VISITS, BOOTH_VISITS, BRIEFING_VISITS = 5_000, 35_000, 10_000
QUEUE, QUESTIONS, INTERVIEWS, AGREEMENTS = 10_000, 2_000, 2_000, 300
MAJORS = [f"Major {i:02d}" for i in range(24)]
OUTCOMES = ("advance", "offer", "reject", "hold", "no_show")
BATCH = 2_000


async def _insert(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await conn.execute(table.insert(), rows[start : start + BATCH])


async def _ids(conn: Any, table: sa.Table, where: Any) -> list[int]:
    return [
        int(i)
        for i in (
            await conn.execute(sa.select(table.c.id).where(where).order_by(table.c.id))
        ).scalars()
    ]


def _students(w: World, now: datetime) -> Iterable[dict[str, Any]]:
    for i in range(STUDENTS):
        yield {
            "email": f"bench-{i}@bench.fair",
            "password_hash": "!",
            "display_name": f"Bench student {i}",
            "role": "student",
            "school_id": w.school_a,
            "created_at": now,
        }


async def populate(db: Database, seed: int = 7) -> World:
    """The fair described above, as school A's campus fair of tests.factories."""
    rng = random.Random(seed)
    w = await build_world(db)
    now = datetime.now(UTC).replace(microsecond=0)
    day = now - timedelta(days=1)
    async with db.begin() as conn:
        await _insert(conn, t.users, list(_students(w, now)))
        students = await _ids(conn, t.users, t.users.c.email.like("bench-%"))
        await _insert(conn, t.student_profiles, [
            {"user_id": uid, "school_id": w.school_a, "student_no": f"B{uid:06d}",
             "real_name": f"Student {uid}", "major": MAJORS[i % len(MAJORS)],
             "degree": "diploma", "graduation_year": 2027, "verified_at": now}
            for i, uid in enumerate(students)
        ])  # fmt: skip
        await _insert(conn, t.companies, [
            {"slug": f"bench-co-{i}", "name": f"Bench company {i}", "created_at": now}
            for i in range(COMPANIES)
        ])  # fmt: skip
        companies = await _ids(conn, t.companies, t.companies.c.slug.like("bench-co-%"))
        await _insert(conn, t.fair_companies, [
            {"fair_id": w.campus_fair, "company_id": c, "status": "approved", "created_at": now}
            for c in companies
        ])  # fmt: skip
        await _insert(conn, t.booths, [
            {"fair_id": w.campus_fair, "company_id": c, "updated_at": now} for c in companies
        ])  # fmt: skip
        booths = await _ids(conn, t.booths, t.booths.c.company_id.in_(companies))
        recruiters = await _recruiters(conn, companies, now)
        await _insert(conn, t.briefings, [
            {"fair_id": w.campus_fair, "company_id": companies[i], "title": f"Briefing {i}",
             "starts_at": day + timedelta(minutes=30 * i),
             "ends_at": day + timedelta(minutes=30 * i + 90), "status": "ended",
             "created_at": now}
            for i in range(BRIEFINGS)
        ])  # fmt: skip
        briefings = await _ids(conn, t.briefings, t.briefings.c.company_id.in_(companies))
        await _attendance(conn, rng, w, students, booths, briefings, day)
        await _queue(conn, rng, students, booths, day)
        await _questions(conn, rng, students, briefings, day)
        await _interviews(conn, rng, w, students, companies, recruiters, day)
    return w


async def _recruiters(conn: Any, companies: list[int], now: datetime) -> dict[int, int]:
    await _insert(conn, t.users, [
        {"email": f"bench-r{c}@bench.fair", "password_hash": "!", "display_name": f"R {c}",
         "role": "recruiter", "company_id": c, "created_at": now}
        for c in companies
    ])  # fmt: skip
    rows = await conn.execute(
        sa.select(t.users.c.company_id, t.users.c.id).where(t.users.c.email.like("bench-r%"))
    )
    return {int(c): int(u) for c, u in rows}


async def _attendance(
    conn: Any, rng: random.Random, w: World, students: list[int], booths: list[int],
    briefings: list[int], day: datetime,
) -> None:  # fmt: skip
    rows: list[dict[str, Any]] = []

    def interval(uid: int, kind: str, subject: int, start: datetime, minutes: int) -> None:
        end = start + timedelta(minutes=minutes)
        rows.append({"user_id": uid, "fair_id": w.campus_fair, "kind": kind,
                     "subject_id": subject, "connection_id": f"bench-{len(rows)}",
                     "joined_at": start, "last_seen_at": end, "left_at": end,
                     "close_reason": "leave"})  # fmt: skip

    for uid in students[:FAIR_VISITS]:
        interval(uid, "fair", w.campus_fair, day + timedelta(minutes=rng.randrange(480)), 120)
    for _ in range(BOOTH_VISITS):
        start = day + timedelta(minutes=rng.randrange(480))
        interval(rng.choice(students), "booth", rng.choice(booths), start, rng.randrange(1, 20))
    for _ in range(BRIEFING_VISITS):
        b = rng.randrange(len(briefings))
        start = day + timedelta(minutes=30 * b + rng.randrange(60))
        interval(rng.choice(students), "briefing", briefings[b], start, rng.randrange(1, 60))
    await _insert(conn, t.attendance, rows)


async def _queue(
    conn: Any, rng: random.Random, students: list[int], booths: list[int], day: datetime
) -> None:
    rows = []
    for _ in range(QUEUE):
        joined = day + timedelta(minutes=rng.randrange(480))
        called = joined + timedelta(seconds=rng.randrange(20, 1200))
        rows.append({"booth_id": rng.choice(booths), "student_id": rng.choice(students),
                     "joined_at": joined, "called_at": called,
                     "ended_at": called + timedelta(minutes=5), "outcome": "served"})  # fmt: skip
    await _insert(conn, t.queue_entries, rows)


async def _questions(
    conn: Any, rng: random.Random, students: list[int], briefings: list[int], day: datetime
) -> None:
    rows = []
    for i in range(QUESTIONS):
        answered = i % 3 == 0
        rows.append({"briefing_id": rng.choice(briefings), "author_id": rng.choice(students),
                     "client_id": f"bench-{i}", "body": f"Question {i}?",
                     "state": "answered" if answered else "approved", "created_at": day,
                     "updated_at": day, "answered_at": day if answered else None})  # fmt: skip
    await _insert(conn, t.questions, rows)


async def _interviews(
    conn: Any, rng: random.Random, w: World, students: list[int], companies: list[int],
    recruiters: dict[int, int], day: datetime,
) -> None:  # fmt: skip
    rows = []
    for i in range(INTERVIEWS):
        company = companies[i % COMPANIES]
        outcome = OUTCOMES[i % len(OUTCOMES)]
        start = day + timedelta(minutes=rng.randrange(480))
        rows.append({"fair_id": w.campus_fair, "company_id": company,
                     "student_id": students[(i * 7) % STUDENTS], "owner_id": recruiters[company],
                     "origin": "queue", "state": "ended", "started_at": start,
                     "ended_at": start + timedelta(minutes=20), "outcome": outcome,
                     "outcome_at": start, "outcome_by": recruiters[company],
                     "released_at": start, "created_at": start})  # fmt: skip
    await _insert(conn, t.interviews, rows)
    offers = (
        await conn.execute(
            sa.select(t.interviews.c.id, t.interviews.c.company_id, t.interviews.c.student_id)
            .where(t.interviews.c.outcome == "offer", t.interviews.c.fair_id == w.campus_fair)
            .order_by(t.interviews.c.id)
            .limit(AGREEMENTS)
        )
    ).all()
    await _insert(conn, t.agreements, [
        {"fair_id": w.campus_fair, "interview_id": iid, "company_id": cid, "student_id": sid,
         "school_id": w.school_a, "position": "Operator", "location": "Tianjin",
         "salary": 6000, "start_date": date(2027, 7, 1), "term_years": 3, "text": "Agreement",
         "text_sha256": "0" * 64, "state": "accepted", "sent_at": day,
         "sent_by": recruiters[cid], "responded_at": day,
         "countersigned_at": day if n % 2 else None,
         "countersigned_by": w.users["organiser_a"] if n % 2 else None}
        for n, (iid, cid, sid) in enumerate(offers)
    ])  # fmt: skip


async def _login(http: aiohttp.ClientSession, base: str, email: str) -> None:
    page = await (await http.get(f"{base}/login")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    form = {"email": email, "password": PASSWORD, "csrf_token": match.group(1)}
    response = await http.post(
        f"{base}/login", data=form, allow_redirects=False, headers={"Origin": base}
    )
    assert response.status == 303, await response.text()


async def _time(http: aiohttp.ClientSession, url: str, count: int) -> tuple[list[float], int]:
    sizes = 0
    for _ in range(2):  # warm-up: templates compiled, statements cached
        await (await http.get(url)).read()
    took = []
    for _ in range(count):
        start = time.perf_counter()
        async with http.get(url) as response:
            body = await response.read()
            assert response.status == 200, f"{url}: {response.status} {body[:300]!r}"
        took.append((time.perf_counter() - start) * 1000)
        sizes = len(body)
    return took, sizes


URLS = {
    "baseline: the organiser's fair page": "/organiser/fairs/campus",
    "reference: today's raw attendance CSV": "/organiser/fairs/campus/export/attendance.csv",
    "reports page, by company": "/organiser/reports?fair=campus&by=company",
    "reports page, by major": "/organiser/reports?fair=campus&by=major",
    "reports page, by fair": "/organiser/reports?by=fair",
    "reports CSV, by company": "/organiser/reports.csv?fair=campus&by=company",
    "reports XLSX, by company": "/organiser/reports.xlsx?fair=campus&by=company",
}
TARGETED = ("reports page", "reports CSV")


async def measure(url: str, workdir: Path, count: int) -> list[tuple[str, list[float], int]]:
    db = Database(url)
    await db.migrate()
    started = time.perf_counter()
    w = await populate(db)
    print(f"  populated in {time.perf_counter() - started:.1f} s", flush=True)
    await db.dispose()
    server = start_server(workdir, {"FAIRSERVER_DATABASE_URL": url})
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _login(http, server.url, w.emails["organiser_a"])
            results = []
            for name, path in URLS.items():
                took, size = await _time(http, server.url + path, count)
                print(f"  {name}: p50 {percentile(took, 0.5):.1f} ms", flush=True)
                results.append((name, took, size))
            return results
    finally:
        server.stop()


def table(engine: str, results: list[tuple[str, list[float], int]]) -> str:
    base = percentile(results[0][1], 0.5)
    lines = [
        f"**{engine}**\n",
        "| request | p50 | p95 | p50 vs baseline | size | target p95 ≤ 200 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, took, size in results:
        p50, p95 = percentile(took, 0.5), percentile(took, 0.95)
        verdict = ("met" if p95 <= 200 else "**missed**") if name.startswith(TARGETED) else ""
        lines.append(
            f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {p50 / base:.1f}× | {size / 1024:.0f} KiB"
            f" | {verdict} |"
        )
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    sections = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        workdir = Path(tmp)
        print("SQLite", flush=True)
        sqlite_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        sections.append(table("SQLite", await measure(sqlite_url, workdir, args.requests)))
        if not args.sqlite_only:
            if not os.environ.get(PG_ENV):
                raise SystemExit(f"{PG_ENV} is not set: run through scripts/with-services.sh")
            print("PostgreSQL", flush=True)
            async with fresh_pg_database() as pg_url:
                result = await measure(pg_url, workdir, args.requests)
            sections.append(table("PostgreSQL", result))
    body = (
        f"{STUDENTS:,} students, {COMPANIES} booths, {BRIEFINGS} briefings, "
        f"{FAIR_VISITS + BOOTH_VISITS + BRIEFING_VISITS:,} attendance intervals, "
        f"{QUEUE:,} queue entries, {QUESTIONS:,} questions, {INTERVIEWS:,} interviews, "
        f"{AGREEMENTS} agreements; {args.requests} sequential requests per row after two "
        "warm-ups, one `fairserver serve` process, the client on the same machine.\n\n"
        + "\n".join(sections)
    )
    write_section("reports", "## School reports (`make bench-reports`)\n\n" + body)


if __name__ == "__main__":
    asyncio.run(main())
