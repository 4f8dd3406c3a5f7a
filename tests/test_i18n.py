"""The Simplified Chinese catalogue: complete, placeholder-safe, and used by real pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.factories import World

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "fairserver" / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
# The same keywords as `make messages` (pybabel extract --no-default-keywords -k ...).
KEYWORDS: dict[str, Any] = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}

MsgId = str | tuple[str, ...]


def _skip_dir(path: str) -> bool:
    name = Path(path).name
    return not (name.startswith((".", "_")) or name == "node_modules")


@cache
def extracted() -> dict[MsgId, str]:
    """Every message in the source tree -> where it is first used, as babel.cfg extracts it."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    found: dict[MsgId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_skip_dir
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


@cache
def chinese() -> Catalog:
    with ZH_PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hans")


def _translations(catalog: Catalog) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (message.string,) if isinstance(message.string, str) else message.string
        yield ids, tuple(strings)


def test_extraction_finds_the_ui() -> None:
    messages = extracted()
    # Guards the guard: a broken method map would make the completeness test pass vacuously.
    assert len(messages) > 300
    assert "Log in" in messages  # a template
    assert "Enter the start date and time." in messages  # an N_ marker
    assert "Too long: at most %(n)s characters." in messages  # gettext() in Python
    assert ("%(num)d job", "%(num)d jobs") in messages  # ngettext in a template


def test_every_source_message_has_a_chinese_translation() -> None:
    catalog = chinese()
    missing = []
    for msgid, where in sorted(extracted().items(), key=lambda item: item[1]):
        key = msgid if isinstance(msgid, str) else msgid[0]
        entry = catalog.get(key)
        strings = () if entry is None else entry.string
        strings = (strings,) if isinstance(strings, str) else tuple(strings)
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        "Untranslated in zh_Hans (run `make messages`, then translate):\n" + "\n".join(missing)
    )


def test_catalogue_has_one_plural_form_and_nothing_fuzzy() -> None:
    catalog = chinese()
    assert catalog.num_plurals == 1
    assert catalog.plural_expr == "0"
    assert not catalog.fuzzy
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not fuzzy
    for ids, strings in _translations(catalog):
        assert len(strings) == 1, ids
        assert strings[0].strip(), ids


def test_translations_keep_their_placeholders() -> None:
    wrong = []
    for ids, strings in _translations(chinese()):
        expected = {found for msgid in ids for found in PLACEHOLDER.findall(msgid)}
        for text in strings:
            # Jinja's newstyle gettext always %-formats, so a bare % would break the page.
            stray = "%" in PLACEHOLDER.sub("", text).replace("%%", "")
            if set(PLACEHOLDER.findall(text)) != expected or stray:
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


async def test_english_without_accept_language(client: TestClient[Any, Any]) -> None:
    html = await (await client.get("/login")).text()
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "Password" in html
    assert "No account yet?" in html
    assert "登录" not in html


async def test_login_page_follows_accept_language(client: TestClient[Any, Any]) -> None:
    html = await (await client.get("/login", headers=ZH)).text()
    assert '<html lang="zh-Hans">' in html
    for text in ("登录", "邮箱", "密码", "还没有账号？", "学生注册", "跳到正文"):
        assert text in html, text
    assert "Password" not in html


async def test_validation_messages_are_translated(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    page = await client.get("/login", headers=ZH)
    token = csrf_of(await page.text())
    bad = {"email": "not-an-address", "password": "x", "csrf_token": token}
    response = await client.post("/login", data=bad, headers=ZH)
    assert response.status == 400
    assert "请输入有效的邮箱地址。" in await response.text()
    wrong = {"email": world.emails["student_a"], "password": "wrong-one", "csrf_token": token}
    response = await client.post("/login", data=wrong, headers=ZH)
    assert response.status == 400
    assert "邮箱或密码错误。" in await response.text()


async def test_fair_pages_render_in_chinese(client: TestClient[Any, Any], world: World) -> None:
    await world.login(client, "student_a")
    lobby = await (await client.get("/fairs/campus", headers=ZH)).text()
    for text in ("搜索岗位", "展位", "2 个岗位", "退出登录", "招聘会"):
        assert text in lobby, text

    search = await client.get("/fairs/campus/jobs", params={"q": "天津"}, headers=ZH)
    assert search.status == 200
    results = await search.text()
    for text in ("共找到 1 个岗位", "关键词", "排序方式", "我的学历", "大专", "元/月", "招聘人数"):
        assert text in results, text
    assert "海上操作工" in results

    agenda = await (await client.get("/fairs/campus/agenda", headers=ZH)).text()
    for text in ("宣讲会日程", "以下时间均为 Asia/Shanghai 时区时间。", "下载完整日程（.ics）"):
        assert text in agenda, text
    assert "暂无已安排的宣讲会。" in agenda


async def test_chosen_language_is_saved_for_the_user(
    client: TestClient[Any, Any], world: World
) -> None:
    token = await world.login(client, "student_a")
    chosen = await client.post(
        "/lang",
        data={"locale": "zh_Hans", "next": "/profile", "csrf_token": token},
        allow_redirects=False,
    )
    assert chosen.status == 303
    assert chosen.headers["Location"] == "/profile"
    assert "个人资料" in await (await client.get("/profile")).text()

    await client.post("/logout", data={"csrf_token": token})
    # A new browser: no language cookie, so only the saved account setting can choose Chinese.
    client.session.cookie_jar.clear()
    assert "Log in" in await (await client.get("/login")).text()
    await world.login(client, "student_a")
    lobby = await (await client.get("/fairs/campus", headers={"Accept-Language": "en"})).text()
    assert '<html lang="zh-Hans">' in lobby
    assert "搜索岗位" in lobby
    assert "Search jobs" not in lobby


async def test_unknown_language_is_refused(client: TestClient[Any, Any], csrf_of: Any) -> None:
    token = csrf_of(await (await client.get("/login")).text())
    response = await client.post("/lang", data={"locale": "xx", "csrf_token": token})
    assert response.status == 400
