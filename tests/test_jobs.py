"""Job search (SQLite FTS5 and PostgreSQL pg_trgm), job pages and interest (B2)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from fairserver.app import create_app
from fairserver.keys import DB
from fairserver.store import jobs as job_store
from fairserver.store import tables as t
from tests.conftest import fresh_pg_database
from tests.conftest import test_settings as make_settings
from tests.factories import ROLES_WITH_UNVERIFIED, World, build_world

Search = tuple[TestClient[Any, Any], World]


@pytest.fixture(params=["sqlite", "postgresql"])
async def search(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Search]:
    """A client and world on SQLite (FTS5 path) and on PostgreSQL (pg_trgm path)."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            settings = make_settings(tmp_path)
        else:
            pg_url = await stack.enter_async_context(fresh_pg_database())
            settings = make_settings(tmp_path, database_url=pg_url)
        app = create_app(settings)
        client = await stack.enter_async_context(TestClient(TestServer(app)))
        world = await build_world(app[DB], app)
        yield client, world


async def _titles(client: TestClient[Any, Any], fair: str = "open", **params: str) -> list[str]:
    response = await client.get(f"/api/fairs/{fair}/jobs", params=params)
    assert response.status == 200, await response.text()
    return [job["title"] for job in (await response.json())["data"]["jobs"]]


async def test_search_terms(search: Search) -> None:
    client, _world = search
    assert await _titles(client, q="engineer") == ["Pipeline engineer / 管道工程师"]
    assert await _titles(client, q="ENGINEER") == ["Pipeline engineer / 管道工程师"]
    # Two Chinese characters: below the trigram size, matched on the jobs table.
    assert await _titles(client, q="拉萨") == ["Hotel front desk / 酒店前台"]
    assert await _titles(client, q="天津") == ["Pipeline engineer / 管道工程师"]
    assert await _titles(client, q="前") == ["Hotel front desk / 酒店前台"]
    # Three or more: the FTS5 trigram index on SQLite.
    assert await _titles(client, q="管道工程") == ["Pipeline engineer / 管道工程师"]
    assert await _titles(client, q="hotel") == ["Hotel front desk / 酒店前台"]
    # The company name is searchable; terms are ANDed.
    assert len(await _titles(client, q="company")) == 2
    assert await _titles(client, q="company 拉萨") == ["Hotel front desk / 酒店前台"]
    assert await _titles(client, q="hotel 天津") == []
    # LIKE wildcards are literal characters, never "match everything".
    assert await _titles(client, q="%") == []
    assert await _titles(client, q="_ %%% \\") == []
    # The campus fair's jobs never leak into the open fair's search.
    assert await _titles(client, q="化验员") == []


async def test_search_filters_and_sort(search: Search) -> None:
    client, world = search
    # "At most this education": a diploma holder sees secondary and diploma jobs.
    assert await _titles(client, education="diploma") == ["Hotel front desk / 酒店前台"]
    assert len(await _titles(client, education="bachelor")) == 2
    assert await _titles(client, education="secondary") == []
    assert await _titles(client, sort="salary") == [
        "Pipeline engineer / 管道工程师",
        "Hotel front desk / 酒店前台",
    ]
    assert await _titles(client, company="company-b") == ["Hotel front desk / 酒店前台"]
    assert await _titles(client, company=str(world.company_a)) == ["Pipeline engineer / 管道工程师"]
    assert await _titles(client, location="lhasa") == ["Hotel front desk / 酒店前台"]
    assert await _titles(client, location="拉萨") == ["Hotel front desk / 酒店前台"]


async def test_search_pagination(search: Search) -> None:
    client, world = search
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with client.app[DB].begin() as conn:
        for n in range(25):
            await job_store.insert_job(
                conn,
                {
                    "id": world.booth_b_open,
                    "fair_id": world.open_fair,
                    "company_id": world.company_b,
                },
                {
                    "title": f"Room attendant {n:02d} / 客房服务员",
                    "location": "Lhasa / 拉萨",
                    "salary_min": 3000,
                    "salary_max": 3000 + n,
                    "education": "secondary",
                    "headcount": 2,
                    "deadline": None,
                    "description": "",
                    "created_at": start + timedelta(hours=n),
                },
            )
    first = await (await client.get("/api/fairs/open/jobs", params={"q": "客房"})).json()
    assert first["data"]["total"] == 25 and first["data"]["page"] == 1
    assert len(first["data"]["jobs"]) == 20
    assert first["data"]["jobs"][0]["title"].startswith("Room attendant 24")  # newest first
    second = await (await client.get("/api/fairs/open/jobs?q=客房&page=2")).json()
    assert [j["title"][:17] for j in second["data"]["jobs"]] == [
        f"Room attendant {n:02d}" for n in range(4, -1, -1)
    ]
    page = await client.get("/fairs/open/jobs", params={"q": "客房", "sort": "salary"})
    html = await page.text()
    assert "25 jobs found" in html
    assert 'href="/fairs/open/jobs?q=%E5%AE%A2%E6%88%BF&amp;sort=salary&amp;page=2"' in html
    assert 'aria-current="page">1<' in html
    by_salary = await _titles(client, q="客房", sort="salary", page="2")
    assert by_salary[-1].startswith("Room attendant 00")
    beyond = await (await client.get("/api/fairs/open/jobs?page=99")).json()
    assert beyond["data"]["jobs"] == [] and beyond["data"]["total"] == 27


async def test_api_shape(search: Search) -> None:
    client, world = search
    response = await client.get("/api/fairs/open/jobs", params={"q": "hotel"})
    body = await response.json()
    assert body["ok"] is True
    assert set(body["data"]) >= {"jobs", "total", "page"}
    (job,) = body["data"]["jobs"]
    assert job == {
        "id": job["id"],
        "title": "Hotel front desk / 酒店前台",
        "location": "Lhasa / 拉萨",
        "salary_min": 4000,
        "salary_max": 5500,
        "education": "diploma",
        "headcount": 5,
        "deadline": "2027-02-01",
        "created_at": job["created_at"],
        "company": {"id": world.company_b, "slug": "company-b", "name": "Company B"},
        "booth_id": world.booth_b_open,
        "interested": False,
        "url": f"/fairs/open/jobs/{job['id']}",
    }


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"q": "x" * 101}, "q", "Too long: at most 100 characters."),
        ({"education": "phd"}, "education", "Choose one of the options."),
        ({"sort": "random"}, "sort", "Choose one of the options."),
        ({"page": "0"}, "page", "Must be at least 1."),
        ({"page": "two"}, "page", "Enter a whole number."),
        ({"page": "99999999999"}, "page", "Must be at most 10000."),
        ({"company": "../x"}, "company", "Choose a company from the list."),
        ({"html": "<b>"}, "html", "Unexpected field."),
    ],
)
async def test_invalid_search_is_a_400_with_a_message(
    client: TestClient[Any, Any], world: World, params: dict[str, str], field: str, message: str
) -> None:
    page = await client.get("/fairs/open/jobs", params=params)
    assert page.status == 400
    assert message in await page.text()
    api = await client.get("/api/fairs/open/jobs", params=params)
    assert api.status == 400
    body = await api.json()
    assert body["ok"] is False and body["error"]["code"] == "request.invalid"
    assert message in body["error"]["fields"][field]


ROLES = ROLES_WITH_UNVERIFIED
# Expected statuses: campus search/job page, open search/job page, campus interest.
ACCESS = {
    "anonymous": (404, 200, 404),
    "student_a": (200, 200, 303),
    "student_b": (404, 200, 404),
    "unverified_a": (404, 200, 404),
    "recruiter_a": (200, 200, 404),
    "recruiter_b": (404, 200, 404),
    "organiser_a": (200, 200, 404),
    "organiser_b": (404, 200, 404),
    "admin": (200, 200, 404),
}


async def _token(client: TestClient[Any, Any], world: World, who: str) -> str:
    if who != "anonymous":
        return await world.login(client, who)
    match = re.search(r'name="csrf_token" value="([^"]+)"', await (await client.get("/")).text())
    assert match
    return match.group(1)


async def _job_ids(client: TestClient[Any, Any], world: World) -> dict[str, int]:
    async with client.app[DB].connect() as conn:
        rows = await conn.execute(sa.select(t.jobs.c.title, t.jobs.c.id))
        return {title.split(" / ")[0]: job_id for title, job_id in rows}


@pytest.mark.parametrize("role", ROLES)
async def test_job_routes_per_role(client: TestClient[Any, Any], world: World, role: str) -> None:
    campus, open_fair, interest = ACCESS[role]
    token = await _token(client, world, role)
    jobs = await _job_ids(client, world)
    offshore, hotel = jobs["Offshore operator"], jobs["Hotel front desk"]
    for url, expected in (
        ("/fairs/campus/jobs", campus),
        ("/api/fairs/campus/jobs", campus),
        (f"/fairs/campus/jobs/{offshore}", campus),
        ("/fairs/open/jobs", open_fair),
        ("/api/fairs/open/jobs", open_fair),
        (f"/fairs/open/jobs/{hotel}", open_fair),
        # A job of another fair, and fairs nobody may search.
        (f"/fairs/open/jobs/{offshore}", 404),
        (f"/fairs/campus/jobs/{hotel}", 404),
        ("/fairs/draft/jobs", 200 if role in {"organiser_a", "admin"} else 404),
        ("/api/fairs/nope/jobs", 404),
        ("/fairs/open/jobs/999999999", 404),
    ):
        response = await client.get(url, allow_redirects=False)
        assert response.status == expected, (role, url)
    response = await client.post(
        f"/fairs/campus/jobs/{offshore}/interest",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == interest, role
    async with client.app[DB].connect() as conn:
        stored = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.job_interests))
        ).scalar()
    assert stored == (1 if interest == 303 else 0)


async def test_interest_toggle(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "student_a")
    offshore = (await _job_ids(client, world))["Offshore operator"]
    url = f"/fairs/campus/jobs/{offshore}"
    page = await (await client.get(url)).text()
    assert "I'm interested" in page and "Interested ✓" not in page
    response = await client.post(
        url + "/interest", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == url
    page = await (await client.get(url)).text()
    assert "Interested ✓" in page and "Withdraw interest" in page
    listing = await (await client.get("/fairs/campus/jobs")).text()
    assert "Interested ✓" in listing
    api = await (await client.get("/api/fairs/campus/jobs?q=offshore")).json()
    assert api["data"]["jobs"][0]["interested"] is True
    # Sending the wanted state twice is one change; a plain POST toggles.
    for _ in range(2):
        await client.post(url + "/interest", data={"csrf_token": token, "interested": "1"})
    assert "Interested ✓" in await (await client.get(url)).text()
    await client.post(url + "/interest", data={"csrf_token": token, "next": "/fairs/campus/jobs"})
    assert "Interested ✓" not in await (await client.get(url)).text()
    # next= never leaves the site.
    response = await client.post(
        url + "/interest",
        data={"csrf_token": token, "next": "//evil.example/x"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == url


async def test_interest_on_open_fair_for_any_student(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await world.login(client, "student_b")
    hotel = (await _job_ids(client, world))["Hotel front desk"]
    response = await client.post(
        f"/fairs/open/jobs/{hotel}/interest", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert "Interested ✓" in await (await client.get(f"/fairs/open/jobs/{hotel}")).text()


async def test_unapproved_booth_jobs_are_hidden(client: TestClient[Any, Any], world: World) -> None:
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.fair_companies.update()
            .where(
                t.fair_companies.c.fair_id == world.open_fair,
                t.fair_companies.c.company_id == world.company_b,
            )
            .values(status="withdrawn")
        )
    hotel = (await _job_ids(client, world))["Hotel front desk"]
    assert await _titles(client, q="hotel") == []
    assert (await client.get(f"/fairs/open/jobs/{hotel}")).status == 404
    token = await world.login(client, "student_b")
    response = await client.post(
        f"/fairs/open/jobs/{hotel}/interest", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 404
