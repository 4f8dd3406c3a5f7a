"""The live fair dashboard (F5): who is online, each booth's visitors, staff and queue,
briefings with their viewers, today's visitors, interviews in progress and today's
no-shows, for the fair's organisers.

The snapshot is read from the live state the booth and briefing services keep (through
their own functions, never their key layout) and from the database. While at least
one manager on this worker watches a fair, a ticker recomputes it every TICK_SECONDS,
once per fair whatever the number of watchers, and sends it to the fair's staff room
only when it changed. With several workers a short live claim lets one of them send
per tick, and the last sent snapshot is kept in the live store, so nobody gets the
same one twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.rooms.booths import live as booth_service
from fairserver.rooms.booths.live import Booth, StaffMember
from fairserver.rooms.briefings.live import viewer_count
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.notify import Outbound
from fairserver.rows import FairRow
from fairserver.store import dashboard as store
from fairserver.store import fairs as fair_store
from fairserver.tasks import cancelling, stop_tasks

log = logging.getLogger(__name__)

# Module constants so tests can shorten them (monkeypatch): read at call time.
TICK_SECONDS = 3.0
LAST_SENT_TTL = 3600.0
BRIEFINGS_SHOWN = 20
INTERVIEWS_SHOWN = 30
EVENT = "fair.dashboard"


class OnlineNow(Outbound):
    students: int
    recruiters: int
    organisers: int
    admins: int
    total: int


class BoothLive(Outbound):
    booth_id: int
    company: str
    visitors: int
    queue: int
    in_call: int  # students called or talking with the booth right now
    staff: list[StaffMember]
    unstaffed: bool  # nobody on duty, or everyone on duty is away


class BriefingLive(Outbound):
    briefing_id: int
    title: str
    company: str
    status: str
    starts_at: datetime
    ends_at: datetime
    viewers: int


class InterviewLive(Outbound):
    """A live interview, or today's no-show. ``student`` is None for a student of another
    school than the fair's: its organisers count them but do not see their name."""

    interview_id: int
    company: str
    student: str | None
    since: datetime  # when it went live; for a no-show, when it was recorded


class InterviewsLive(Outbound):
    live: int  # how many are in progress (the list shows the longest-running ones)
    in_progress: list[InterviewLive]
    no_shows_today: int  # outcome no_show recorded today, in the fair's time zone
    no_shows: list[InterviewLive]


class Dashboard(Outbound):
    fair_id: int
    online: OnlineNow
    booths: list[BoothLive]
    briefings: list[BriefingLive]
    visitors_today: int
    interviews: InterviewsLive


def day_start(now: datetime, timezone: str) -> datetime:
    """Midnight of `now`'s day in the fair's time zone, in UTC."""
    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


async def online_now(services: Services, fair_id: int) -> OnlineNow:
    roles = Counter((await fairlive.online_users(services, fair_id)).values())
    return OnlineNow(
        students=roles["student"],
        recruiters=roles["recruiter"],
        organisers=roles["organiser"],
        admins=roles["admin"],
        total=sum(roles.values()),
    )


async def booth_live(services: Services, booth: Booth, queue: int, in_call: int) -> BoothLive:
    presence = await booth_service.presence_of(services, booth)
    return BoothLive(
        booth_id=booth.id,
        company=booth.company_name,
        visitors=presence.visitors,
        queue=queue,
        in_call=in_call,
        staff=presence.staff,
        unstaffed=all(member.status == "away" for member in presence.staff),
    )


def _attention_first(booth: BoothLive) -> tuple[bool, bool, str, int]:
    """Unstaffed booths with people waiting for them first, then other unstaffed ones."""
    waiting = booth.visitors > 0 or booth.queue > 0
    return (not (booth.unstaffed and waiting), not booth.unstaffed, booth.company, booth.booth_id)


def _interview_live(row: store.DashboardInterviewRow, school_id: int) -> InterviewLive:
    named = row.student_school_id == school_id
    return InterviewLive(
        interview_id=row.id,
        company=row.company,
        student=row.student_name if named else None,
        since=row.at,
    )


async def interviews_live(conn: AsyncConnection, fair: FairRow, today: datetime) -> InterviewsLive:
    """Interviews in progress and today's no-shows (F5)."""
    fair_id, school_id = int(fair.id), int(fair.school_id)
    live, in_progress = await store.live_interviews(conn, fair_id, INTERVIEWS_SHOWN)
    missed, no_shows = await store.no_shows_since(conn, fair_id, today, INTERVIEWS_SHOWN)
    return InterviewsLive(
        live=live,
        in_progress=[_interview_live(row, school_id) for row in in_progress],
        no_shows_today=missed,
        no_shows=[_interview_live(row, school_id) for row in no_shows],
    )


async def snapshot(services: Services, fair: FairRow) -> Dashboard:
    fair_id = int(fair.id)
    now = services.clock()
    today = day_start(now, str(fair.timezone))
    async with services.db.connect() as conn:
        rows = await fair_store.booth_list(conn, fair_id)
        queues = await store.queue_counts(conn, (r.id for r in rows))
        briefing_rows = await store.current_briefings(conn, fair_id, now, BRIEFINGS_SHOWN)
        visitors_today = await store.visitors_since(conn, fair_id, today)
        interviews = await interviews_live(conn, fair, today)
    booths = []
    for row in rows:
        booth = Booth(
            id=row.id, fair_id=fair_id, company_id=row.company_id, company_name=row.company_name
        )
        booths.append(await booth_live(services, booth, *queues.get(booth.id, (0, 0))))
    briefings = [
        BriefingLive(
            briefing_id=row.id,
            title=row.title,
            company=row.company,
            status=row.status,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            viewers=await viewer_count(services, row.id),
        )
        for row in briefing_rows
    ]
    return Dashboard(
        fair_id=fair_id,
        online=await online_now(services, fair_id),
        booths=sorted(booths, key=_attention_first),
        briefings=briefings,
        visitors_today=visitors_today,
        interviews=interviews,
    )


async def publish(services: Services, fair: FairRow) -> bool:
    """Sends the snapshot to the fair's managers when it changed; False when another
    worker has this tick or nothing changed."""
    fair_id = int(fair.id)
    key = f"{fairlive.staff_room(fair_id)}:dashboard"
    if not await services.live.claim(f"{key}-tick", services.worker_id, TICK_SECONDS * 0.9):
        return False
    current = await snapshot(services, fair)
    digest = current.model_dump_json()
    if await services.live.get(key) == digest:
        return False
    await services.live.put(key, digest, ttl=LAST_SENT_TTL)
    await services.notifier.emit(fairlive.staff_room(fair_id), EVENT, current)
    return True


# --- who watches, and the per-fair ticker ----------------------------------------------

StillWatching = Callable[[], bool]


@dataclass
class Watched:
    fair: FairRow
    # connection id -> whether that connection still watches (it may have left the fair)
    watchers: dict[str, StillWatching] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


@dataclass
class Tickers:
    """This worker's watched fairs (one per app, on its Services)."""

    fairs: dict[int, Watched] = field(default_factory=dict)

    def watch(
        self, services: Services, fair: FairRow, connection_id: str, still: StillWatching
    ) -> None:
        fair_id = int(fair.id)
        watched = self.fairs.setdefault(fair_id, Watched(fair=fair))
        watched.fair = fair
        watched.watchers[connection_id] = still
        if watched.task is None or watched.task.done():
            watched.task = services.tasks.spawn(
                self._run(services, fair_id), name=f"dashboard ticker {fair_id}"
            )

    def unwatch(self, connection_id: str) -> None:
        for fair_id, watched in list(self.fairs.items()):
            watched.watchers.pop(connection_id, None)
            if not watched.watchers:
                self._stop(fair_id)

    def watching(self, fair_id: int) -> set[str]:
        watched = self.fairs.get(fair_id)
        return set() if watched is None else set(watched.watchers)

    def _stop(self, fair_id: int) -> None:
        watched = self.fairs.pop(fair_id, None)
        task = None if watched is None else watched.task
        # A ticker that finds nobody left simply returns; others are cancelled.
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _prune(self, fair_id: int) -> Watched | None:
        watched = self.fairs.get(fair_id)
        if watched is None:
            return None
        for connection_id, still in list(watched.watchers.items()):
            if not still():
                del watched.watchers[connection_id]
        if not watched.watchers:
            self._stop(fair_id)
            return None
        return watched

    async def _run(self, services: Services, fair_id: int) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            watched = self._prune(fair_id)
            if watched is None:
                return
            try:
                await publish(services, watched.fair)
            except Exception:  # one bad tick (a database hiccup) must not end the ticker
                if cancelling():
                    raise
                log.exception("dashboard tick failed for fair %s", fair_id)

    async def close(self) -> None:
        tasks = [w.task for w in self.fairs.values() if w.task is not None]
        self.fairs.clear()
        await stop_tasks(tasks)
