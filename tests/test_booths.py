"""Booth hall, booth pages, logos and booth editing (B1) through the real HTTP stack."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SETTINGS
from fairserver.settings import PROJECT_ROOT, Settings
from fairserver.store import tables as t
from tests.conftest import test_settings as make_settings
from tests.factories import ROLES_WITH_UNVERIFIED, World

SAFE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
    b'<rect width="8" height="8" fill="#c00"/></svg>'
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XSS = "<script>alert(1)</script> <svg onload=alert(1)>"
ROLES = ROLES_WITH_UNVERIFIED


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A web_dir of its own, so uploaded logos land under tmp_path/site/var/uploads."""
    web = tmp_path / "site" / "web"
    web.mkdir(parents=True)
    (web / "templates").symlink_to(PROJECT_ROOT / "web" / "templates")
    (web / "static").symlink_to(PROJECT_ROOT / "web" / "static")
    booths_dir = tmp_path / "content"
    (booths_dir / "companies" / "company-a").mkdir(parents=True)
    (booths_dir / "companies" / "company-a" / "logo.svg").write_bytes(SAFE_SVG)
    (booths_dir / "secret.svg").write_bytes(SAFE_SVG)
    return make_settings(tmp_path, web_dir=web, booths_dir=booths_dir)


async def _login(client: TestClient[Any, Any], world: World, who: str) -> str:
    if who == "anonymous":
        page = await client.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert match
        return match.group(1)
    return await world.login(client, who)


def _edit_url(booth_id: int, fair: str = "open") -> str:
    return f"/fairs/{fair}/booths/{booth_id}/edit"


async def _save_booth(
    client: TestClient[Any, Any],
    token: str,
    booth_id: int,
    fair: str = "open",
    logo: tuple[str, bytes] | None = None,
    **fields: str,
) -> Any:
    data = FormData()
    data.add_field("csrf_token", token)
    for name, value in {"tagline": "", "description_md": "", "video_url": "", **fields}.items():
        data.add_field(name, value)
    if logo is not None:
        data.add_field("logo", logo[1], filename=logo[0], content_type="application/octet-stream")
    return await client.post(_edit_url(booth_id, fair), data=data, allow_redirects=False)


async def _booth_row(client: TestClient[Any, Any], booth_id: int) -> dict[str, Any]:
    async with client.app[DB].connect() as conn:
        row = (await conn.execute(sa.select(t.booths).where(t.booths.c.id == booth_id))).mappings()
        return dict(row.one())


async def test_booth_hall_and_page_for_a_permitted_student(
    client: TestClient[Any, Any], world: World
) -> None:
    await world.login(client, "student_a")
    hall = await client.get("/fairs/campus/booths")
    assert hall.status == 200
    html = await hall.text()
    assert "Company A" in html and f"/fairs/campus/booths/{world.booth_a_campus}" in html
    page = await client.get(f"/fairs/campus/booths/{world.booth_a_campus}")
    assert page.status == 200
    html = await page.text()
    assert "Company A" in html and "Offshore operator / 海上操作工" in html
    assert "/edit" not in html


# Expected status per role: campus hall/booth page, open booth page, B's open booth editor.
ACCESS = {
    "anonymous": (404, 200, 303),
    "student_a": (200, 200, 404),
    "student_b": (404, 200, 404),
    "unverified_a": (404, 200, 404),
    "recruiter_a": (200, 200, 404),
    "recruiter_b": (404, 200, 200),
    "organiser_a": (200, 200, 404),
    "organiser_b": (404, 200, 404),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("role", ROLES)
async def test_booth_routes_per_role(client: TestClient[Any, Any], world: World, role: str) -> None:
    campus, open_page, edit = ACCESS[role]
    token = await _login(client, world, role)
    for url, expected in (
        ("/fairs/campus/booths", campus),
        (f"/fairs/campus/booths/{world.booth_a_campus}", campus),
        (f"/fairs/campus/booths/{world.booth_a_campus}/logo", 404),  # no logo set
        ("/fairs/open/booths", open_page),
        (f"/fairs/open/booths/{world.booth_b_open}", open_page),
        # A booth id of another fair is missing, for everybody.
        (f"/fairs/campus/booths/{world.booth_b_open}", 404),
        (f"/fairs/draft/booths/{world.booth_b_open}", 404),
        ("/fairs/nope/booths", 404),
        (_edit_url(world.booth_b_open), edit),
    ):
        response = await client.get(url, allow_redirects=False)
        assert response.status == expected, (role, url)
    response = await _save_booth(client, token, world.booth_b_open, tagline="Changed")
    assert response.status == (303 if edit == 200 else edit), role
    changed = (await _booth_row(client, world.booth_b_open))["tagline"] == "Changed"
    assert changed == (edit == 200)


async def test_other_company_recruiter_cannot_edit(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await world.login(client, "recruiter_b")
    before = await _booth_row(client, world.booth_a_open)
    assert (await client.get(_edit_url(world.booth_a_open))).status == 404
    response = await _save_booth(
        client, token, world.booth_a_open, tagline="Hijacked", description_md="owned"
    )
    assert response.status == 404
    job_urls = (
        f"/fairs/open/booths/{world.booth_a_open}/jobs/new",
        f"/fairs/open/booths/{world.booth_a_open}/jobs/1/edit",
    )
    for url in job_urls:
        assert (await client.get(url)).status == 404
    assert (await client.post(job_urls[0], data={"csrf_token": token})).status == 404
    assert await _booth_row(client, world.booth_a_open) == before
    # recruiter_a's booth in the campus fair: same answer as a missing booth.
    assert (await client.get(_edit_url(world.booth_a_campus, "campus"))).status == 404


async def test_user_text_renders_inert(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "recruiter_a")
    response = await _save_booth(
        client,
        token,
        world.booth_a_open,
        tagline=XSS,
        description_md=f"# Hello\n\n{XSS}\n\n[click](javascript:alert(1))",
        doc_title_0=XSS,
        doc_url_0="https://example.com/brochure.pdf",
    )
    assert response.status == 303, await response.text()
    add = await client.post(
        f"/fairs/open/booths/{world.booth_a_open}/jobs/new",
        data={
            "csrf_token": token,
            "title": XSS,
            "location": "Tianjin",
            "salary_min": "1000",
            "salary_max": "2000",
            "education": "diploma",
            "headcount": "1",
            "description": XSS,
        },
        allow_redirects=False,
    )
    assert add.status == 303, await add.text()
    booth = await client.get(f"/fairs/open/booths/{world.booth_a_open}")
    pages = [await booth.text()]
    for url in ("/fairs/open/booths", "/fairs/open/jobs?q=alert"):
        response = await client.get(url)
        assert response.status == 200
        pages.append(await response.text())
    async with client.app[DB].connect() as conn:
        job_id = (
            await conn.execute(sa.select(t.jobs.c.id).where(t.jobs.c.title.like("%alert%")))
        ).scalar_one()
    pages.append(await (await client.get(f"/fairs/open/jobs/{job_id}")).text())
    for html in pages:
        assert "<script>alert" not in html
        assert "<svg onload" not in html
        assert 'href="javascript:' not in html
    # The editor shows the source again, escaped.
    editor = await (await client.get(_edit_url(world.booth_a_open))).text()
    assert "<script>alert" not in editor and "<svg onload" not in editor
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "<h1>Hello</h1>" in pages[0]  # Markdown still renders


async def test_unsafe_urls_are_rejected(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "recruiter_a")
    before = await _booth_row(client, world.booth_a_open)
    for bad in ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,x", "ftp://x.org"):
        response = await _save_booth(
            client, token, world.booth_a_open, tagline="New", video_url=bad
        )
        assert response.status == 400, bad
        html = await response.text()
        assert "Enter a link that starts with http:// or https://." in html
        assert 'id="video_url-error"' in html
    response = await _save_booth(
        client,
        token,
        world.booth_a_open,
        doc_title_0="Brochure",
        doc_url_0="javascript:alert(1)",
        doc_url_1="https://example.com/x.pdf",
    )
    assert response.status == 400
    html = await response.text()
    assert 'id="doc_url_0-error"' in html and 'id="doc_title_1-error"' in html
    too_long = await _save_booth(client, token, world.booth_a_open, tagline="x" * 201)
    assert too_long.status == 400
    assert "Too long: at most 200 characters." in await too_long.text()
    extra = await _save_booth(client, token, world.booth_a_open, role="admin")
    assert extra.status == 400
    assert await _booth_row(client, world.booth_a_open) == before


async def test_booth_save_with_documents_and_video(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await world.login(client, "recruiter_a")
    response = await _save_booth(
        client,
        token,
        world.booth_a_open,
        tagline="Offshore careers",
        video_url="https://example.com/tour.mp4",
        doc_title_0="Brochure",
        doc_url_0="https://example.com/brochure.pdf",
        doc_title_3="Rotation",
        doc_url_3="http://example.com/rotation.pdf",
    )
    assert response.status == 303
    assert response.headers["Location"].endswith("/edit?saved=1")
    html = await (await client.get(f"/fairs/open/booths/{world.booth_a_open}")).text()
    assert 'href="https://example.com/tour.mp4"' in html
    assert 'href="https://example.com/brochure.pdf"' in html
    assert html.index("Brochure") < html.index("Rotation")
    # Content loaded from elsewhere (demo files, older rows) is still checked on output.
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.booth_documents.insert().values(
                booth_id=world.booth_a_open, title="Sneaky", url="javascript:alert(1)", position=9
            )
        )
        await conn.execute(
            t.booths.update()
            .where(t.booths.c.id == world.booth_a_open)
            .values(video_url="javascript:alert(2)")
        )
    html = await (await client.get(f"/fairs/open/booths/{world.booth_a_open}")).text()
    assert "javascript:" not in html and "Sneaky" not in html
    edit = await (await client.get(_edit_url(world.booth_a_open))).text()
    assert 'value="Rotation"' in edit


async def test_logo_upload_and_serving(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "recruiter_a")
    response = await _save_booth(client, token, world.booth_a_open, logo=("logo.svg", SAFE_SVG))
    assert response.status == 303, await response.text()
    row = await _booth_row(client, world.booth_a_open)
    assert row["logo"].startswith("uploads/") and row["logo"].endswith(".svg")
    logo = await client.get(f"/fairs/open/booths/{world.booth_a_open}/logo")
    assert logo.status == 200
    assert logo.headers["Content-Type"] == "image/svg+xml"
    assert logo.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert await logo.read() == SAFE_SVG
    response = await _save_booth(client, token, world.booth_a_open, logo=("logo.png", PNG))
    assert response.status == 303
    png = await client.get(f"/fairs/open/booths/{world.booth_a_open}/logo")
    assert png.headers["Content-Type"] == "image/png"
    folder: Path = client.app[SETTINGS].uploads_dir
    files = await asyncio.to_thread(lambda: [p.suffix for p in folder.rglob("*") if p.is_file()])
    assert files == [".png"]  # the old SVG is gone
    response = await _save_booth(client, token, world.booth_a_open, remove_logo="1")
    assert response.status == 303
    assert (await _booth_row(client, world.booth_a_open))["logo"] == ""
    assert (await client.get(f"/fairs/open/booths/{world.booth_a_open}/logo")).status == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "contains scripts",
        ),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "scripts"),
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<a x:href=" java\tscript:alert(1)"><rect/></a></svg>',
            "scripts",
        ),
        (
            "x.svg",
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "scripts",
        ),
        ("x.svg", b"<svg><unclosed></svg>", "not a valid SVG"),
        ("x.html", b"<html><body>hi</body></html>", "PNG, JPEG, WebP or SVG"),
        ("x.png", PNG + b"\x00" * (512 * 1024), "at most 512 KiB"),
    ],
)
async def test_unsafe_logo_is_rejected(
    client: TestClient[Any, Any], world: World, name: str, content: bytes, message: str
) -> None:
    token = await world.login(client, "recruiter_a")
    response = await _save_booth(
        client, token, world.booth_a_open, tagline="kept?", logo=(name, content)
    )
    assert response.status == 400
    html = await response.text()
    assert message in html and 'id="logo-error"' in html
    row = await _booth_row(client, world.booth_a_open)
    assert row["logo"] == "" and row["tagline"] == ""


async def test_logo_paths_never_leave_their_directories(
    client: TestClient[Any, Any], world: World
) -> None:
    await world.login(client, "student_b")
    url = f"/fairs/open/booths/{world.booth_a_open}/logo"
    for logo, expected in (
        ("logo.svg", 200),  # demo content: booths_dir/companies/company-a/logo.svg
        ("../secret.svg", 404),
        ("../../content/secret.svg", 404),
        ("/etc/passwd.svg", 404),
        ("uploads/../../../content/secret.svg", 404),
        ("..\\secret.svg", 404),
        ("logo.txt", 404),
    ):
        async with client.app[DB].begin() as conn:
            await conn.execute(
                t.booths.update().where(t.booths.c.id == world.booth_a_open).values(logo=logo)
            )
        response = await client.get(url)
        assert response.status == expected, logo
    # The campus fair's booth logo stays hidden from a student of another school.
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.booths.update().where(t.booths.c.id == world.booth_a_campus).values(logo="logo.svg")
        )
    assert (await client.get(f"/fairs/campus/booths/{world.booth_a_campus}/logo")).status == 404


async def test_job_editing(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "recruiter_a")
    base = f"/fairs/open/booths/{world.booth_a_open}/jobs"
    assert (await client.get(base + "/new")).status == 200
    job = {
        "csrf_token": token,
        "title": "Welder / 焊工",
        "location": "Huizhou / 惠州",
        "salary_min": "7000",
        "salary_max": "9000",
        "education": "secondary",
        "headcount": "3",
        "deadline": "2027-03-01",
        "description": "Underwater welding.",
    }
    bad = {**job, "salary_min": "9500", "education": "phd", "headcount": "0", "deadline": "soon"}
    response = await client.post(base + "/new", data=bad)
    assert response.status == 400
    html = await response.text()
    assert "The highest salary must not be below the lowest." in html
    for name in ("education", "headcount", "deadline", "salary_max"):
        assert f'id="{name}-error"' in html
    assert (await client.post(base + "/new", data=job, allow_redirects=False)).status == 303
    found = await (await client.get("/api/fairs/open/jobs?q=焊工")).json()
    assert [j["title"] for j in found["data"]["jobs"]] == ["Welder / 焊工"]
    job_id = found["data"]["jobs"][0]["id"]
    edit = await client.get(f"{base}/{job_id}/edit")
    assert 'value="2027-03-01"' in await edit.text()
    changed = {**job, "title": "Diver / 潜水员", "deadline": ""}
    response = await client.post(f"{base}/{job_id}/edit", data=changed, allow_redirects=False)
    assert response.status == 303
    # search_text follows the edit: the new title is found, the old one is not.
    assert (await (await client.get("/api/fairs/open/jobs?q=焊工")).json())["data"]["total"] == 0
    found = await (await client.get("/api/fairs/open/jobs?q=潜水员")).json()
    assert found["data"]["jobs"][0]["deadline"] is None
    # A job of another booth is missing here, even for its own company.
    other = f"/fairs/campus/booths/{world.booth_a_campus}/jobs/{job_id}/edit"
    assert (await client.get(other)).status == 404
    response = await client.post(
        f"{base}/{job_id}/delete", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert (await (await client.get("/api/fairs/open/jobs?q=潜水员")).json())["data"]["total"] == 0
    assert (await client.get(f"{base}/{job_id}/edit")).status == 404
