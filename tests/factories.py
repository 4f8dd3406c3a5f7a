"""A small, fixed world for tests: two schools, two companies, three fairs, every role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from fairserver.auth import Passwords
from fairserver.clock import utcnow
from fairserver.keys import PASSWORDS
from fairserver.store import accounts, fairs, jobs
from fairserver.store import tables as t
from fairserver.store.db import Database

PASSWORD = "password-123"
# Every kind of caller the permission tests try.
ROLES = (
    "anonymous",
    "student_a",
    "student_b",
    "recruiter_a",
    "recruiter_b",
    "organiser_a",
    "organiser_b",
    "admin",
)
ROLES_WITH_UNVERIFIED = (*ROLES[:3], "unverified_a", *ROLES[3:])
# Who may see the campus-only fair of school A (verified students, its company, its staff).
CAMPUS_VIEWERS = frozenset({"student_a", "recruiter_a", "organiser_a", "admin"})
CAMPUS_VIEW = {role: 200 if role in CAMPUS_VIEWERS else 404 for role in ROLES}
HALLS = {
    "booth": "Booth hall",
    "briefing": "Briefing hall",
    "policy": "Policy hall",
    "registration": "Registration hall",
}


@dataclass
class World:
    school_a: int = 0
    school_b: int = 0
    company_a: int = 0
    company_b: int = 0
    campus_fair: int = 0  # school A, campus-only, company A approved
    open_fair: int = 0  # school B, open, both companies approved
    draft_fair: int = 0  # school A, unpublished
    booth_a_campus: int = 0
    booth_a_open: int = 0
    booth_b_open: int = 0
    users: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    async def login(self, client: TestClient[Any, Any], who: str) -> str:
        """Logs `who` in on this client; returns the session's CSRF token."""
        page = await client.get("/login")
        token = _csrf(await page.text())
        response = await client.post(
            "/login",
            data={"email": self.emails[who], "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        return _csrf(await (await client.get("/profile")).text())


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def build_world(db: Database, app: web.Application | None = None) -> World:
    passwords = app[PASSWORDS] if app is not None else Passwords(1, 64)
    pw_hash = await passwords.hash(PASSWORD)
    w = World()
    now = utcnow()
    async with db.begin() as conn:

        async def insert(table: Any, **values: Any) -> int:
            result = await conn.execute(table.insert().values(**values).returning(table.c.id))
            return int(result.scalar_one())

        w.school_a = await insert(t.schools, slug="school-a", name="School A", created_at=now)
        w.school_b = await insert(t.schools, slug="school-b", name="School B", created_at=now)
        w.company_a = await insert(t.companies, slug="company-a", name="Company A", created_at=now)
        w.company_b = await insert(t.companies, slug="company-b", name="Company B", created_at=now)
        for student_no, name in (("A001", "Student A"), ("A002", "Roster Only")):
            await conn.execute(
                t.roster_entries.insert().values(
                    school_id=w.school_a,
                    student_no=student_no,
                    real_name=name,
                    major="Petrochemistry",
                    degree="diploma",
                    graduation_year=2027,
                    imported_at=now,
                )
            )

        async def user(key: str, role: str, **extra: Any) -> None:
            email = f"{key}@test.fair"
            w.emails[key] = email
            w.users[key] = await accounts.insert_user(
                conn, email=email, password_hash=pw_hash, display_name=key, role=role, **extra
            )

        await user("student_a", "student", school_id=w.school_a)
        await user("unverified_a", "student", school_id=w.school_a)
        await user("student_b", "student", school_id=w.school_b)
        await user("recruiter_a", "recruiter", company_id=w.company_a)
        await user("recruiter_b", "recruiter", company_id=w.company_b)
        await user("organiser_a", "organiser", school_id=w.school_a)
        await user("organiser_b", "organiser", school_id=w.school_b)
        await user("admin", "admin")
        for key, school, number, real in (
            ("student_a", w.school_a, "A001", "Student A"),
            ("unverified_a", w.school_a, "A999", "Not On Roster"),
            ("student_b", w.school_b, "B001", "Student B"),
        ):
            await accounts.insert_profile(
                conn,
                w.users[key],
                {
                    "school_id": school,
                    "student_no": number,
                    "real_name": real,
                    "major": "Petrochemistry",
                    "degree": "diploma",
                    "graduation_year": 2027,
                },
            )
        # School B's roster says student_b is real.
        await conn.execute(
            t.student_profiles.update()
            .where(t.student_profiles.c.user_id == w.users["student_b"])
            .values(verified_at=now)
        )

        start = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
        window = {
            "starts_at": start,
            "ends_at": start + timedelta(hours=6),
            "timezone": "Asia/Shanghai",
        }
        w.campus_fair = await fairs.insert_fair(
            conn,
            {
                "slug": "campus",
                "school_id": w.school_a,
                "title": "Campus fair",
                "visibility": "campus",
                "published": True,
                **window,
            },
            HALLS,
        )
        w.open_fair = await fairs.insert_fair(
            conn,
            {
                "slug": "open",
                "school_id": w.school_b,
                "title": "Open fair",
                "visibility": "open",
                "published": True,
                **window,
            },
            HALLS,
        )
        w.draft_fair = await fairs.insert_fair(
            conn,
            {
                "slug": "draft",
                "school_id": w.school_a,
                "title": "Draft fair",
                "visibility": "campus",
                "published": False,
                **window,
            },
            {"booth": "Booths"},
        )
        await fairs.set_participation(conn, w.campus_fair, w.company_a, "approved")
        await fairs.set_participation(conn, w.open_fair, w.company_a, "approved")
        await fairs.set_participation(conn, w.open_fair, w.company_b, "approved")
        w.booth_a_campus = await fairs.ensure_booth(conn, w.campus_fair, w.company_a)
        w.booth_a_open = await fairs.ensure_booth(conn, w.open_fair, w.company_a)
        w.booth_b_open = await fairs.ensure_booth(conn, w.open_fair, w.company_b)
        for booth_id, fair_id, company_id, title, location, low, high, edu in (
            (
                w.booth_a_campus,
                w.campus_fair,
                w.company_a,
                "Offshore operator / 海上操作工",
                "Tianjin / 天津",
                6000,
                9000,
                "diploma",
            ),
            (
                w.booth_a_campus,
                w.campus_fair,
                w.company_a,
                "Lab technician / 化验员",
                "Zhanjiang / 湛江",
                5000,
                7000,
                "diploma",
            ),
            (
                w.booth_a_open,
                w.open_fair,
                w.company_a,
                "Pipeline engineer / 管道工程师",
                "Tianjin / 天津",
                8000,
                12000,
                "bachelor",
            ),
            (
                w.booth_b_open,
                w.open_fair,
                w.company_b,
                "Hotel front desk / 酒店前台",
                "Lhasa / 拉萨",
                4000,
                5500,
                "diploma",
            ),
        ):
            await jobs.insert_job(
                conn,
                {"id": booth_id, "fair_id": fair_id, "company_id": company_id},
                {
                    "title": title,
                    "location": location,
                    "salary_min": low,
                    "salary_max": high,
                    "education": edu,
                    "headcount": 5,
                    "deadline": date(2027, 2, 1),
                    "description": "A real job.",
                },
            )
    return w
