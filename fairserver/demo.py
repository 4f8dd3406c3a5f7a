"""Loads the demo fair from booths/ into an empty database (`fairserver demo`)."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.auth import Passwords
from fairserver.clock import utcnow
from fairserver.rooms.accounts.roster import parse_roster
from fairserver.store import accounts, fairs, jobs
from fairserver.store import slots as slot_store
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.organiser import upsert_roster
from fairserver.store.slots import NewSlot

log = logging.getLogger(__name__)

DEMO_PASSWORD = "fair-demo-2026"  # noqa: S105 - printed on start-up, demo data only


@dataclass
class Loaded:
    schools: dict[str, int] = field(default_factory=dict)
    companies: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    company_dirs: dict[str, Path] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


async def is_loaded(db: Database) -> bool:
    async with db.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(t.schools))).scalar()
    return bool(count)


async def load_demo(db: Database, passwords: Passwords, root: Path) -> Loaded:
    """Loads everything in one transaction: a half-loaded demo is never left behind."""
    loaded = Loaded()
    pw_hash = await passwords.hash(DEMO_PASSWORD)
    async with db.begin() as conn:
        await _schools(conn, root, loaded)
        await _rosters(conn, root, loaded)
        await _companies(conn, root, loaded, pw_hash)
        await _people(conn, root, loaded, pw_hash)
        for fair_file in sorted((root / "fairs").glob("*.toml")):
            await _fair(conn, _toml(fair_file), loaded)
    return loaded


async def _insert(conn: AsyncConnection, table: sa.Table, **values: Any) -> int:
    result = await conn.execute(table.insert().values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def _schools(conn: AsyncConnection, root: Path, loaded: Loaded) -> None:
    for school in _toml(root / "schools.toml")["school"]:
        loaded.schools[school["slug"]] = await _insert(
            conn,
            t.schools,
            slug=school["slug"],
            name=school["name"],
            enrols_students=school.get("students", True),
            created_at=utcnow(),
        )


async def _rosters(conn: AsyncConnection, root: Path, loaded: Loaded) -> None:
    for roster in sorted((root / "rosters").glob("*.csv")):
        rows = parse_roster(roster.read_bytes())
        await upsert_roster(conn, loaded.schools[roster.stem], rows)


async def _companies(conn: AsyncConnection, root: Path, loaded: Loaded, pw_hash: str) -> None:
    for company_file in sorted((root / "companies").glob("*/company.toml")):
        data = _toml(company_file)
        company_id = await _insert(
            conn,
            t.companies,
            slug=data["slug"],
            name=data["name"],
            website=data.get("website", ""),
            about=data.get("about", ""),
            created_at=utcnow(),
        )
        loaded.companies[data["slug"]] = company_id
        loaded.company_dirs[data["slug"]] = company_file.parent
        for recruiter in data.get("recruiters", []):
            loaded.users[recruiter["email"]] = await accounts.insert_user(
                conn,
                email=recruiter["email"],
                password_hash=pw_hash,
                display_name=recruiter["display_name"],
                role="recruiter",
                company_id=company_id,
            )
            loaded.logins.append(("recruiter", recruiter["email"]))
        for position, criterion in enumerate(data.get("criteria", [])):
            await _insert(
                conn,
                t.score_criteria,
                company_id=company_id,
                name=criterion["name"],
                scale=int(criterion["scale"]),
                position=position,
                created_at=utcnow(),
            )


async def _people(conn: AsyncConnection, root: Path, loaded: Loaded, pw_hash: str) -> None:
    people = _toml(root / "users.toml")
    for role in ("admin", "organiser", "student"):
        for person in people.get(role, []):
            school_id = loaded.schools.get(person.get("school", ""))
            user_id = await accounts.insert_user(
                conn,
                email=person["email"],
                password_hash=pw_hash,
                display_name=person["display_name"],
                role=role,
                school_id=school_id,
            )
            loaded.users[person["email"]] = user_id
            loaded.logins.append((role, person["email"]))
            if role == "student" and school_id is not None:
                await accounts.insert_profile(
                    conn,
                    user_id,
                    {
                        "school_id": school_id,
                        "student_no": str(person["student_no"]),
                        "real_name": person["real_name"],
                        "major": person["major"],
                        "degree": person["degree"],
                        "graduation_year": int(person["graduation_year"]),
                    },
                )


async def _fair(conn: AsyncConnection, data: dict[str, Any], loaded: Loaded) -> None:
    fair_id = await fairs.insert_fair(
        conn,
        {
            "slug": data["slug"],
            "school_id": loaded.schools[data["school"]],
            "title": data["title"],
            "description": data.get("description", ""),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "timezone": data["timezone"],
            "visibility": data["visibility"],
            "published": data.get("published", True),
        },
        {hall["kind"]: hall["title"] for hall in data.get("halls", [])},
        {loaded.schools[slug] for slug in data.get("schools", [])},
    )
    for status, key in (("approved", "companies"), ("invited", "invited"), ("applied", "applied")):
        for slug in data.get(key, []):
            await fairs.set_participation(conn, fair_id, loaded.companies[slug], status)
    for slug in data.get("companies", []):
        await _booth(conn, fair_id, slug, loaded)
    await _slots(conn, fair_id, data, loaded)
    for briefing in data.get("briefings", []):
        briefing_id = await _insert(
            conn,
            t.briefings,
            fair_id=fair_id,
            company_id=loaded.companies[briefing["company"]],
            title=briefing["title"],
            description=briefing.get("description", ""),
            starts_at=briefing["starts_at"],
            ends_at=briefing["ends_at"],
            created_at=utcnow(),
        )
        for email in briefing.get("presenters", []):
            await conn.execute(
                t.briefing_presenters.insert().values(
                    briefing_id=briefing_id, user_id=loaded.users[email]
                )
            )


async def _slots(conn: AsyncConnection, fair_id: int, data: dict[str, Any], loaded: Loaded) -> None:
    """I1: the fair's booking window and its published slot series."""
    await slot_store.set_booking_window(
        conn, fair_id, data.get("booking_opens_at"), data.get("booking_closes_at")
    )
    booths = {row.company_id: row.id for row in await _fair_booths(conn, fair_id)}
    for series in data.get("slots", []):
        company_id = loaded.companies[series["company"]]
        panel = [loaded.users[email] for email in series["interviewers"]]
        step = timedelta(minutes=series["length"] + series.get("buffer", 0))
        for i in range(series["count"]):
            starts = series["first_start"] + i * step
            await slot_store.insert_slot(
                conn,
                NewSlot(
                    fair_id=fair_id,
                    booth_id=booths[company_id],
                    company_id=company_id,
                    job_id=None,
                    recruiter_id=panel[0],
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=series["length"]),
                    buffer_minutes=series.get("buffer", 0),
                    created_at=utcnow(),
                ),
                panel,
            )


async def _fair_booths(conn: AsyncConnection, fair_id: int) -> list[Any]:
    stmt = sa.select(t.booths.c.id, t.booths.c.company_id).where(t.booths.c.fair_id == fair_id)
    return list((await conn.execute(stmt)).all())


async def _booth(conn: AsyncConnection, fair_id: int, slug: str, loaded: Loaded) -> None:
    company_dir = loaded.company_dirs[slug]
    data = _toml(company_dir / "company.toml")
    booth_data = data.get("booth", {})
    company_id = loaded.companies[slug]
    booth_id = await fairs.ensure_booth(conn, fair_id, company_id)
    description = company_dir / "booth.md"
    await conn.execute(
        t.booths.update()
        .where(t.booths.c.id == booth_id)
        .values(
            tagline=booth_data.get("tagline", ""),
            video_url=booth_data.get("video_url", ""),
            logo=booth_data.get("logo", ""),
            description_md=description.read_text("utf-8") if description.exists() else "",
        )
    )
    for position, document in enumerate(booth_data.get("documents", [])):
        await conn.execute(
            t.booth_documents.insert().values(
                booth_id=booth_id, title=document["title"], url=document["url"], position=position
            )
        )
    booth = {"id": booth_id, "fair_id": fair_id, "company_id": company_id}
    for job in data.get("jobs", []):
        deadline = job.get("deadline")
        await jobs.insert_job(
            conn,
            booth,
            {
                **job,
                "deadline": _as_date(deadline) if deadline else None,
                "description": job.get("description", "").strip(),
            },
        )


def _as_date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
