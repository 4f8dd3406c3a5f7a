"""Socket refusals come in the user's language (issue 11: they were English for a zh-CN
user), chosen at connect as a page's is: the account's choice, the language cookie, then
Accept-Language."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import World
from tests.sockets import connected

NOT_IN_CHAT_ZH = "该学生没有在与您聊天。"
NOT_IN_CHAT_EN = "This student is not in a chat with you."


async def _refusal(client: TestClient[Any, Any], world: World, headers: dict[str, str]) -> Any:
    booth = world.booth_a_campus
    async with (
        connected(client, world, "student_a") as student,
        connected(client, world, "recruiter_a", headers=headers) as recruiter,
    ):
        for sock in (student, recruiter):
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
            assert (await sock.call("booth.join", {"booth_id": booth}))["ok"]
        assert (await student.call("booth.queue_join", {"booth_id": booth}))["ok"]
        payload = {"booth_id": booth, "student_id": world.users["student_a"]}
        reply = await recruiter.call("booth.chat_end", payload)
    assert reply["error"]["code"] == "booth.not_in_chat"
    return reply["error"]["message"]


async def test_a_chinese_browser_gets_refusals_in_chinese(
    client: TestClient[Any, Any], world: World
) -> None:
    headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
    assert await _refusal(client, world, headers) == NOT_IN_CHAT_ZH


async def test_the_language_cookie_wins_over_the_browser(
    client: TestClient[Any, Any], world: World
) -> None:
    headers = {"Accept-Language": "zh-CN", "Cookie": "fs_lang=en"}
    assert await _refusal(client, world, headers) == NOT_IN_CHAT_EN


async def test_the_pipelines_own_refusals_are_translated_too(
    client: TestClient[Any, Any], world: World
) -> None:
    """not_found, request.invalid and an unknown event said "not found" etc. in English
    to everyone; the code stays the same for clients."""
    async with (
        connected(client, world, "student_a", headers={"Accept-Language": "zh-CN"}) as zh,
        connected(client, world, "student_b") as en,
    ):
        missing = {"booth_id": 99999}
        assert (await zh.call("booth.join", missing))["error"] == {
            "code": "not_found",
            "message": "未找到",
        }
        assert (await en.call("booth.join", missing))["error"]["message"] == "not found"
        invalid = await zh.call("booth.join", {"booth_id": "x"})
        assert invalid["error"]["code"] == "request.invalid"
        assert invalid["error"]["message"] == "请求内容无效"
        unknown = await zh.call("no.such_event", {})
        assert unknown["error"] == {"code": "request.unknown_event", "message": "未知事件"}
