"""The reports page and its downloads (F6): who sees which fairs and students, small groups
hidden across schools, the same numbers in CSV and XLSX, and nothing run as a formula."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import openpyxl
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, PASSWORDS
from fairserver.store import accounts, fairs
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import HALLS, PASSWORD, World

Client = TestClient[Any, Any]
EVIL = '=HYPERLINK("http://evil.example/","x")<script>alert(1)</script>'
JOINED = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


async def visit(db: Database, user_id: int, fair_id: int, minutes: int = 5) -> None:
    async with db.begin() as conn:
        await conn.execute(
            t.attendance.insert().values(
                user_id=user_id,
                fair_id=fair_id,
                kind="fair",
                subject_id=fair_id,
                connection_id=f"c-{user_id}-{fair_id}",
                joined_at=JOINED,
                last_seen_at=JOINED + timedelta(minutes=minutes),
                left_at=JOINED + timedelta(minutes=minutes),
                close_reason="leave",
            )
        )


async def add_students(db: Database, school_id: int, count: int) -> list[int]:
    ids = []
    async with db.begin() as conn:
        for n in range(count):
            user_id = await accounts.insert_user(
                conn,
                email=f"extra{school_id}-{n}@test.fair",
                password_hash="x",
                display_name=f"extra {n}",
                role="student",
                school_id=school_id,
            )
            await accounts.insert_profile(
                conn,
                user_id,
                {
                    "school_id": school_id,
                    "student_no": f"X{school_id}{n:03d}",
                    "real_name": f"Extra {n}",
                    "major": "Tourism",
                    "degree": "diploma",
                    "graduation_year": 2027,
                },
            )
            ids.append(user_id)
    return ids


def table_rows(html: str) -> dict[str, list[str]]:
    """The figures table as {line label: cells}, tags stripped."""
    table = html[html.index('class="table-wrap report-table"') :]
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        label = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if label:
            cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
            rows[unescape(label.group(1).strip())] = [
                unescape(re.sub(r"<[^>]+>", "", c).strip()) for c in cells
            ]
    return rows


def csv_rows(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def page(client: Client, query: str) -> str:
    response = await client.get(f"/organiser/reports{query}")
    assert response.status == 200, await response.text()
    return await response.text()


async def test_a_school_counts_its_own_students_at_every_fair_they_could_enter(
    client: Client, world: World
) -> None:
    db = client.app[DB]
    await visit(db, world.users["student_a"], world.campus_fair)
    await visit(db, world.users["student_a"], world.open_fair)
    await visit(db, world.users["student_b"], world.open_fair)
    await world.login(client, "organiser_a")
    rows = table_rows(await page(client, ""))
    # School A's own fairs and school B's open one; only school A's student counts.
    assert set(rows) == {"Campus fair", "Draft fair", "Open fair", "All"}
    assert rows["Open fair"][0] == "1"
    assert rows["Campus fair"][0] == "1"
    assert rows["All"][0] == "1"  # one student, at two fairs
    # Its own students are not hidden from it, however few.
    assert "<5" not in str(rows)


async def test_a_fair_out_of_scope_is_not_found(client: Client, world: World) -> None:
    await world.login(client, "organiser_b")
    # School B's students cannot enter school A's campus fair: not theirs to report on.
    for path in ("/organiser/reports", "/organiser/reports.csv", "/organiser/reports.xlsx"):
        assert (await client.get(f"{path}?fair=campus&by=company")).status == 404
        assert (await client.get(f"{path}?fair=nope")).status == 404
    rows = table_rows(await page(client, ""))
    assert set(rows) == {"Open fair", "All"}


async def test_a_breakdown_that_does_not_exist_is_a_clear_400(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    for path in ("/organiser/reports", "/organiser/reports.csv", "/organiser/reports.xlsx"):
        response = await client.get(f"{path}?by=salary")
        assert response.status == 400
        assert "fair, company or major" in await response.text()


async def test_across_schools_groups_of_fewer_than_five_show_as_under_five(
    client: Client, world: World
) -> None:
    db = client.app[DB]
    await visit(db, world.users["student_a"], world.open_fair)
    await visit(db, world.users["student_b"], world.open_fair)
    await world.login(client, "admin")
    html = await page(client, "?fair=open")
    assert 'data-testid="suppression-note"' in html
    assert table_rows(html)["Open fair"][:2] == ["<5", "<5"]
    # The chart leaves a hidden figure out rather than drawing it.
    assert 'data-chart="attendees"' in html
    assert 'data-value="2"' not in html
    body = await (await client.get("/organiser/reports.csv?fair=open")).read()
    [line, total] = csv_rows(body)
    assert (line["attendees"], total["attendees"]) == ("<5", "<5")
    # Five more students: the group is large enough to show.
    for user_id in await add_students(db, world.school_b, 5):
        await visit(db, user_id, world.open_fair)
    rows = table_rows(await page(client, "?fair=open"))
    assert rows["Open fair"][:2] == ["7", "0"]
    assert 'data-value="7"' in await page(client, "?fair=open")


async def test_a_body_that_enrols_nobody_sees_every_student_at_its_own_fairs(
    client: Client, world: World
) -> None:
    db = client.app[DB]
    pw_hash = await client.app[PASSWORDS].hash(PASSWORD)
    async with db.begin() as conn:
        region = (
            await conn.execute(
                t.schools.insert()
                .values(
                    slug="region",
                    name="Regional bureau",
                    enrols_students=False,
                    created_at=JOINED,
                )
                .returning(t.schools.c.id)
            )
        ).scalar_one()
        await accounts.insert_user(
            conn,
            email="region@test.fair",
            password_hash=pw_hash,
            display_name="region",
            role="organiser",
            school_id=region,
        )
        regional_fair = await fairs.insert_fair(
            conn,
            {
                "slug": "regional",
                "school_id": region,
                "title": "Regional fair",
                "visibility": "open",
                "published": True,
                "starts_at": JOINED,
                "ends_at": JOINED + timedelta(hours=6),
                "timezone": "Asia/Shanghai",
            },
            HALLS,
        )
    for user_id in await add_students(db, world.school_a, 3) + await add_students(
        db, world.school_b, 3
    ):
        await visit(db, user_id, regional_fair)
    world.emails["region"] = "region@test.fair"
    await world.login(client, "region")
    rows = table_rows(await page(client, ""))
    # Its own fair only (not the open fair of school B); six students of two schools.
    assert set(rows) == {"Regional fair", "All"}
    assert rows["Regional fair"][0] == "6"
    assert (await client.get("/organiser/reports?fair=open")).status == 404
    by_major = table_rows(await page(client, "?by=major"))
    assert by_major["Tourism"][0] == "6"


async def test_downloads_carry_the_same_numbers_and_no_formula(
    client: Client, world: World
) -> None:
    db = client.app[DB]
    async with db.begin() as conn:
        await conn.execute(
            t.companies.update().where(t.companies.c.id == world.company_a).values(name=EVIL)
        )
        for n, user_id in enumerate(await _students(conn, world)):
            await conn.execute(
                t.attendance.insert().values(
                    user_id=user_id,
                    fair_id=world.campus_fair,
                    kind="booth",
                    subject_id=world.booth_a_campus,
                    connection_id=f"b{n}",
                    joined_at=JOINED,
                    last_seen_at=JOINED,
                    left_at=JOINED + timedelta(minutes=1),
                    close_reason="leave",
                )
            )
    await world.login(client, "organiser_a")
    html = await page(client, "?fair=campus&by=company")
    # Escaped in the table and in the chart's labels.
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    response = await client.get("/organiser/reports.csv?fair=campus&by=company")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="report-campus-by-company.csv"'
    )
    rows = csv_rows(await response.read())
    assert [r["company"] for r in rows] == ["'" + EVIL, "All"]
    assert [r["attendees"] for r in rows] == ["2", "2"]
    assert [r["booth_visits"] for r in rows] == ["2", "2"]

    response = await client.get("/organiser/reports.xlsx?fair=campus&by=company")
    assert response.status == 200
    assert response.headers["Content-Disposition"].endswith('by-company.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    sheet = book.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][1:4] == ["Company", "Attendees", "Booth visits"]
    # As typed, stored as text: Excel shows it and never runs it.
    assert values[1][1:4] == [EVIL, 2, 2]
    assert values[2][1:4] == ["All", 2, 2]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


async def _students(conn: Any, world: World) -> list[int]:
    """student_a and one more verified student of school A."""
    extra = await accounts.insert_user(
        conn,
        email="second@test.fair",
        password_hash="x",
        display_name="second",
        role="student",
        school_id=world.school_a,
    )
    await accounts.insert_profile(
        conn,
        extra,
        {
            "school_id": world.school_a,
            "student_no": "A002",
            "real_name": "Roster Only",
            "major": "Petrochemistry",
            "degree": "diploma",
            "graduation_year": 2027,
        },
    )
    return [world.users["student_a"], extra]
