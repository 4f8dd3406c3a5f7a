"""The policy hall (F8) and the registration hall (F3), over HTTP.

The policy pages come from a temporary directory written by these tests, never
from the demo content in booths/policy/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.keys import DB
from fairserver.rooms.fairs.policy import PolicyLibrary
from fairserver.settings import Settings
from fairserver.store import fairs
from tests.conftest import test_settings as settings_for
from tests.factories import CAMPUS_VIEW, HALLS, ROLES, World

PAGES = {
    "subsidies.md": "# Travel subsidies\n\nGraduates working **outside the region** get a grant.\n",
    "subsidies.zh.md": "# 区外就业补贴\n\n到区外就业的毕业生可以领取补贴。\n",
    "signing.md": "Intro before the title.\n\n# Online signing\n\nAccept offers online.\n",
    "unsafe.md": "# Unsafe\n\n<script>alert(1)</script> [x](javascript:alert(2))\n",
    "Bad_Name.md": "# Not a page\n",
    "notes.txt": "# Not Markdown\n",
}


def _write_pages(booths: Path) -> None:
    policy = booths / "policy"
    policy.mkdir(parents=True)
    for name, text in PAGES.items():
        (policy / name).write_text(text, encoding="utf-8")
    (booths / "secret.md").write_text("# Secret\n\nnot a policy page\n", encoding="utf-8")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Overrides conftest's: the client serves policy pages from a test directory."""
    booths = tmp_path / "booths"
    _write_pages(booths)
    return settings_for(tmp_path, booths_dir=booths)


async def _as(client: TestClient[Any, Any], world: World, who: str) -> None:
    if who != "anonymous":
        await world.login(client, who)


VIEW_CAMPUS = CAMPUS_VIEW


@pytest.mark.parametrize("who", ROLES)
async def test_information_halls_permissions(
    client: TestClient[Any, Any], world: World, who: str
) -> None:
    await _as(client, world, who)
    for path in (
        "/fairs/campus/policy",
        "/fairs/campus/policy/subsidies",
        "/fairs/campus/registration",
    ):
        assert (await client.get(path)).status == VIEW_CAMPUS[who], (who, path)


async def test_policy_hall_lists_pages(client: TestClient[Any, Any], world: World) -> None:
    await _as(client, world, "student_a")
    response = await client.get("/fairs/campus/policy")
    assert response.status == 200
    html = await response.text()
    assert "Policy hall" in html
    assert 'href="/fairs/campus/policy/subsidies"' in html and "Travel subsidies" in html
    assert 'href="/fairs/campus/policy/signing"' in html and "Online signing" in html
    assert "Not a page" not in html and "Not Markdown" not in html and "Secret" not in html


async def test_policy_page_in_english(client: TestClient[Any, Any], world: World) -> None:
    response = await client.get("/fairs/open/policy/subsidies")
    assert response.status == 200
    html = await response.text()
    assert '<h1 id="page-title">Travel subsidies</h1>' in html
    assert "<strong>outside the region</strong>" in html
    assert "区外就业补贴" not in html
    # The title line is the first "# " heading, even after other text.
    signing = await (await client.get("/fairs/open/policy/signing")).text()
    assert '<h1 id="page-title">Online signing</h1>' in signing
    assert "Intro before the title." in signing


async def test_policy_page_in_chinese_by_accept_language(
    client: TestClient[Any, Any], world: World
) -> None:
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    html = await (await client.get("/fairs/open/policy/subsidies", headers=zh)).text()
    assert '<h1 id="page-title">区外就业补贴</h1>' in html
    assert "Travel subsidies" not in html
    listing = await (await client.get("/fairs/open/policy", headers=zh)).text()
    assert "区外就业补贴" in listing
    # No Chinese file: the English page is shown.
    fallback = await (await client.get("/fairs/open/policy/signing", headers=zh)).text()
    assert '<h1 id="page-title">Online signing</h1>' in fallback


async def test_policy_page_in_chinese_by_language_choice(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    await _as(client, world, "student_a")
    page = await client.get("/fairs/campus/policy/subsidies")
    assert "Travel subsidies" in await page.text()
    response = await client.post(
        "/lang",
        data={
            "locale": "zh_Hans",
            "next": "/fairs/campus/policy/subsidies",
            "csrf_token": csrf_of(await page.text()),
        },
        allow_redirects=False,
    )
    assert response.status == 303
    html = await (await client.get("/fairs/campus/policy/subsidies")).text()
    assert '<h1 id="page-title">区外就业补贴</h1>' in html


@pytest.mark.parametrize(
    "page",
    [
        "missing",
        "Bad_Name",
        "notes",
        "subsidies.zh",
        "subsidies.md",
        "..%2fsecret",
        "..%2f..%2fsecret",
        "%2e%2e%2fsecret",
        "..",
        "secret",
        "a" * 65,
        "subsidies%0a",
    ],
)
async def test_unknown_or_unsafe_policy_page_is_not_found(
    client: TestClient[Any, Any], world: World, page: str
) -> None:
    response = await client.get(f"/fairs/open/policy/{page}")
    assert response.status == 404
    assert "not a policy page" not in await response.text()


async def test_policy_markdown_has_raw_html_disabled(
    client: TestClient[Any, Any], world: World
) -> None:
    html = await (await client.get("/fairs/open/policy/unsafe")).text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html


async def test_fair_without_policy_hall_has_no_policy_pages(
    client: TestClient[Any, Any], world: World
) -> None:
    await _as(client, world, "organiser_a")
    # The draft fair has a booth hall only; its organiser may see the fair itself.
    assert (await client.get("/fairs/draft")).status == 200
    assert (await client.get("/fairs/draft/policy")).status == 404
    assert (await client.get("/fairs/draft/policy/subsidies")).status == 404


def test_policy_library_reads_once_and_caches(tmp_path: Path) -> None:
    _write_pages(tmp_path)
    library = PolicyLibrary(tmp_path / "policy")
    assert not library.loaded
    assert [p.name for p in library.pages("en")] == ["signing", "subsidies", "unsafe"]
    (tmp_path / "policy" / "subsidies.md").write_text("# Changed\n", encoding="utf-8")
    page = library.page("subsidies", "en")
    assert page is not None and page.title == "Travel subsidies"
    zh = library.page("subsidies", "zh_Hans")
    assert zh is not None and zh.language == "zh" and zh.title == "区外就业补贴"
    assert library.page("../secret", "en") is None
    assert PolicyLibrary(tmp_path / "absent").pages("en") == []


# Registration hall ------------------------------------------------------------


async def test_registration_hall_for_anonymous(client: TestClient[Any, Any], world: World) -> None:
    response = await client.get("/fairs/open/registration")
    assert response.status == 200
    html = await response.text()
    assert "Registration hall" in html
    assert 'href="/register"' in html
    assert 'href="/login?next=/fairs/open/registration"' in html
    assert "open to every registered student" in html


async def test_registration_hall_for_verified_student(
    client: TestClient[Any, Any], world: World
) -> None:
    await _as(client, world, "student_a")
    html = await (await client.get("/fairs/campus/registration")).text()
    assert "Verified" in html and "You can take part in this fair." in html
    assert 'href="/profile"' in html
    assert "organising school" in html
    assert re.search(r"<li>School A</li>", html) and "School B" not in html


async def test_registration_hall_for_unverified_student(
    client: TestClient[Any, Any], world: World
) -> None:
    # The multi-school fair admits verified students only.
    async with client.app[DB].begin() as conn:
        await fairs.insert_fair(
            conn,
            {
                "slug": "multi",
                "school_id": world.school_a,
                "title": "Two schools",
                "visibility": "multi",
                "published": True,
                "starts_at": datetime(2027, 1, 10, 2, 0, tzinfo=UTC),
                "ends_at": datetime(2027, 1, 10, 8, 0, tzinfo=UTC),
                "timezone": "Asia/Shanghai",
            },
            HALLS,
            {world.school_a, world.school_b},
        )
    await _as(client, world, "student_b")
    html = await (await client.get("/fairs/multi/registration")).text()
    assert "<li>School A</li>" in html and "<li>School B</li>" in html
    assert "You can take part in this fair." in html
    await client.post("/logout", data={"csrf_token": await _token(client)})
    await _as(client, world, "unverified_a")
    # Unverified students cannot see a campus or multi-school fair at all...
    assert (await client.get("/fairs/multi/registration")).status == 404
    # ...but an open fair tells them where they stand.
    html = await (await client.get("/fairs/open/registration")).text()
    assert "Not verified" in html


async def test_registration_hall_for_staff(client: TestClient[Any, Any], world: World) -> None:
    await _as(client, world, "recruiter_a")
    html = await (await client.get("/fairs/campus/registration")).text()
    assert "Recruiters do not register here" in html
    assert 'href="/register"' not in html


async def _token(client: TestClient[Any, Any]) -> str:
    html = await (await client.get("/profile")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)
