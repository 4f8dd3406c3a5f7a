"""Roster import (F3) and the school's student list."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.rooms.accounts import roster
from fairserver.store import tables as t
from fairserver.store.db import Database
from tests.factories import World, build_world

Client = TestClient[Any, Any]

HEADER = "student_no,real_name,major,degree,graduation_year\n"
VALID = (
    HEADER
    + "A999,Not On Roster,Petrochemistry,diploma,2027\n"
    + "A100,王浩,Welding / 焊接,bachelor,2028\n"
    + '"A101","Ngawang, Tashi",Chemistry,master,2026\n'
)
# Line 3 has a bad degree, line 5 a missing field; lines 2 and 4 are fine.
INVALID = (
    HEADER
    + "A999,Not On Roster,Petrochemistry,diploma,2027\n"
    + "A100,Wang Hao,Welding,wizard,2028\n"
    + "A101,Tashi,Chemistry,master,2026\n"
    + "A102,Dolma,Chemistry,bachelor\n"
)


async def roster_of(db: Database, school_id: int) -> dict[str, dict[str, Any]]:
    r = t.roster_entries
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(r).where(r.c.school_id == school_id))).mappings()
        return {row["student_no"]: dict(row) for row in rows}


async def is_verified(db: Database, user_id: int) -> bool:
    p = t.student_profiles
    async with db.connect() as conn:
        verified_at = (
            await conn.execute(sa.select(p.c.verified_at).where(p.c.user_id == user_id))
        ).scalar()
    return verified_at is not None


# The service, on SQLite and PostgreSQL


async def test_import_verifies_matching_students(db: Database) -> None:
    world = await build_world(db)
    assert not await is_verified(db, world.users["unverified_a"])
    result = await roster.import_roster(db, world.school_a, ("\ufeff" + VALID).encode())
    assert result == roster.Imported(rows=3, newly_verified=1)
    assert await is_verified(db, world.users["unverified_a"])
    entries = await roster_of(db, world.school_a)
    assert entries["A101"]["real_name"] == "Ngawang, Tashi"
    assert entries["A100"]["degree"] == "bachelor" and entries["A100"]["graduation_year"] == 2028
    # Existing rows from before stay; school B's roster is untouched.
    assert {"A001", "A002", "A999", "A100", "A101"} <= set(entries)
    assert "A999" not in await roster_of(db, world.school_b)


async def test_reimport_upserts_by_student_number(db: Database) -> None:
    world = await build_world(db)
    await roster.import_roster(db, world.school_a, VALID.encode())
    again = VALID.replace("Welding / 焊接", "Mechatronics")
    result = await roster.import_roster(db, world.school_a, again.encode())
    assert result == roster.Imported(rows=3, newly_verified=0)
    entries = await roster_of(db, world.school_a)
    assert entries["A100"]["major"] == "Mechatronics"
    assert len(entries) == 5


async def test_invalid_file_imports_nothing(db: Database) -> None:
    world = await build_world(db)
    before = await roster_of(db, world.school_a)
    with pytest.raises(roster.RosterRejected) as rejected:
        await roster.import_roster(db, world.school_a, INVALID.encode())
    assert [p.line for p in rejected.value.problems] == [3, 5]
    assert "degree" in rejected.value.problems[0].message
    assert await roster_of(db, world.school_a) == before
    assert not await is_verified(db, world.users["unverified_a"])


# Parsing


def problems_of(text: str | bytes) -> list[tuple[int, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(roster.RosterRejected) as rejected:
        roster.parse_roster(data)
    return [(p.line, p.message) for p in rejected.value.problems]


def test_every_kind_of_bad_line_is_reported() -> None:
    text = (
        HEADER
        + "X1,Name,Major,bachelor,1900\n"  # 2: year out of range
        + "X2,,Major,bachelor,2027\n"  # 3: empty name
        + "X3,Name,Major,bachelor,soon\n"  # 4: not a year
        + ("X" * 33)
        + ",Name,Major,bachelor,2027\n"  # 5: number too long
        + "X1,Again,Major,bachelor,2027\n"  # 6: duplicate of line 2's number
        + "\n"  # 7: blank, skipped
        + "X7,Name,Major,bachelor,2027,extra\n"  # 8: too many fields
        + '"X8,Name\n'  # 9: an unclosed quote swallows the rest
    )
    found = dict(problems_of(text))
    assert set(found) >= {2, 3, 4, 5, 6, 8}
    assert "between 1990 and 2100" in found[2]
    assert "real_name is empty" in found[3]
    assert "a year such as 2027" in found[4]
    assert "longer than 32" in found[5]
    assert "already on line 2" in found[6]
    assert "Expected 5 fields, found 6" in found[8]


def test_header_must_match() -> None:
    assert problems_of("number,name\nA1,B\n")[0][0] == 1
    assert problems_of("")[0][0] == 0
    assert "no students" in problems_of(HEADER)[0][1]


def test_bom_crlf_and_case_are_accepted() -> None:
    data = ("\ufeff" + VALID.replace("\n", "\r\n").replace("bachelor", "Bachelor")).encode()
    rows = roster.parse_roster(data)
    assert [r.student_no for r in rows] == ["A999", "A100", "A101"]
    assert rows[1].degree == "bachelor"


def test_not_utf8_is_refused_clearly() -> None:
    gbk = (HEADER + "A1,王浩,焊接,diploma,2027\n").encode("gbk")
    assert "not UTF-8" in problems_of(gbk)[0][1]


def test_row_cap() -> None:
    rows = "".join(f"N{i},Name,Major,diploma,2027\n" for i in range(roster.MAX_ROWS + 1))
    problems = problems_of(HEADER + rows)
    assert len(problems) == 1 and "more than 50,000" in problems[0][1]


# Through HTTP


def upload(token: str, text: str | bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for name, value in fields.items():
        form.add_field(name, value)
    data = text.encode() if isinstance(text, str) else text
    form.add_field("file", io.BytesIO(data), filename="roster.csv", content_type="text/csv")
    return form


async def test_upload_valid_roster(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    page = await client.get("/organiser/roster")
    assert page.status == 200
    html = await page.text()
    assert 'enctype="multipart/form-data"' in html and 'accept=".csv,text/csv"' in html
    response = await client.post("/organiser/roster", data=upload(token, "\ufeff" + VALID))
    assert response.status == 200
    assert "3 rows imported, 1 students newly verified." in await response.text()
    assert await is_verified(client.app[DB], world.users["unverified_a"])


async def test_upload_invalid_roster_lists_lines(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    before = await roster_of(client.app[DB], world.school_a)
    response = await client.post("/organiser/roster", data=upload(token, INVALID))
    assert response.status == 400
    html = await response.text()
    assert "Nothing was imported." in html
    assert "<td>3</td>" in html and "<td>5</td>" in html
    assert "<td>2</td>" not in html and "<td>4</td>" not in html
    assert await roster_of(client.app[DB], world.school_a) == before


async def test_upload_without_a_file(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    response = await client.post("/organiser/roster", data={"csrf_token": token})
    assert response.status == 400
    assert "Choose a CSV file to upload." in await response.text()


async def test_upload_over_the_body_limit_is_413(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_a")
    huge = HEADER + "x" * (5 * 1024 * 1024)
    response = await client.post("/organiser/roster", data=upload(token, huge))
    assert response.status == 413


async def test_admin_imports_for_a_chosen_school(client: Client, world: World) -> None:
    token = await world.login(client, "admin")
    html = await (await client.get("/organiser/roster")).text()
    assert "School B" in html
    missing = await client.post("/organiser/roster", data=upload(token, VALID))
    assert missing.status == 400
    assert "Choose a school from the list." in await missing.text()
    response = await client.post(
        "/organiser/roster", data=upload(token, VALID, school_id=str(world.school_b))
    )
    assert response.status == 200
    assert "A100" in await roster_of(client.app[DB], world.school_b)


async def test_organiser_imports_only_into_own_school(client: Client, world: World) -> None:
    token = await world.login(client, "organiser_b")
    response = await client.post(
        "/organiser/roster", data=upload(token, VALID, school_id=str(world.school_a))
    )
    assert response.status == 200
    assert "A100" in await roster_of(client.app[DB], world.school_b)
    assert "A100" not in await roster_of(client.app[DB], world.school_a)
    assert not await is_verified(client.app[DB], world.users["unverified_a"])


@pytest.mark.parametrize("who", ["student_a", "recruiter_a", "recruiter_b"])
async def test_roster_refused_to_others(client: Client, world: World, who: str) -> None:
    token = await world.login(client, who)
    assert (await client.get("/organiser/roster")).status == 404
    assert (await client.get("/organiser/students")).status == 404
    response = await client.post("/organiser/roster", data=upload(token, VALID))
    assert response.status == 404
    assert "A100" not in await roster_of(client.app[DB], world.school_a)


async def test_roster_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    for path in ("/organiser/roster", "/organiser/students"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login")


# The student list


async def test_students_of_own_school_only(client: Client, world: World) -> None:
    await world.login(client, "organiser_a")
    html = await (await client.get("/organiser/students")).text()
    assert "Student A" in html and "Not On Roster" in html and "A999" in html
    assert "Student B" not in html and "B001" not in html
    unverified = await (await client.get("/organiser/students?verified=no")).text()
    assert "Not On Roster" in unverified and "Student A" not in unverified
    verified = await (await client.get("/organiser/students?verified=yes")).text()
    assert "Student A" in verified and "Not On Roster" not in verified
    # Asking for another school changes nothing for an organiser.
    other = await (await client.get(f"/organiser/students?school={world.school_b}")).text()
    assert "Student B" not in other and "Student A" in other


async def test_students_other_organiser(client: Client, world: World) -> None:
    await world.login(client, "organiser_b")
    html = await (await client.get("/organiser/students")).text()
    assert "Student B" in html and "Student A" not in html


async def test_students_for_admin(client: Client, world: World) -> None:
    await world.login(client, "admin")
    html = await (await client.get("/organiser/students")).text()
    assert "Choose a school." in html and "Student A" not in html
    chosen = await (await client.get(f"/organiser/students?school={world.school_b}")).text()
    assert "Student B" in chosen and "Student A" not in chosen
    junk = await client.get("/organiser/students?school=abc&page=-4")
    assert junk.status == 200
