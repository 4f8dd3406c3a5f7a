"""Log-in throttling (issue 11, finding 3): wrong passwords in a row stop being tried, even
the right one, with a clear error; the limit lives in the live state, so it holds across
workers (the Redis backend is tried too); the argon2 hash is never reached while throttled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.rooms.accounts import throttle
from fairserver.rooms.accounts.throttle import (
    LoginThrottled,
    check_login_allowed,
    spend_failed_login,
)
from fairserver.store.live import LiveState
from tests.factories import PASSWORD, World
from tests.test_live_contract import live  # noqa: F401  (the memory and Redis backends)

Client = TestClient[Any, Any]
SECRET = "a-shared-secret-key-0123"


async def _post(client: Client, csrf_of: Any, email: str, password: str) -> tuple[int, str]:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(await page.text())},
        allow_redirects=False,
    )
    return response.status, await response.text()


async def test_wrong_passwords_in_a_row_throttle_even_the_right_one(
    client: Client, world: World, csrf_of: Any
) -> None:
    email = world.emails["student_a"]
    statuses = [(await _post(client, csrf_of, email, "wrong-guess"))[0] for _ in range(30)]
    # The burst's tries are answered; the one that finds the bucket empty blocks the rest.
    tried = throttle.PAIR[0] + 1
    assert statuses[:tried] == [400] * tried
    assert statuses[tried:] == [429] * (30 - tried)
    status, html = await _post(client, csrf_of, email, PASSWORD)
    assert status == 429
    assert "Too many log-in attempts" in html
    assert "Wrong e-mail or password" not in html
    # Nobody was logged in: the profile still sends to the log-in page.
    profile = await client.get("/profile", allow_redirects=False)
    assert profile.status in (302, 303)


async def test_another_account_from_the_same_address_still_logs_in(
    client: Client, world: World, csrf_of: Any
) -> None:
    for _ in range(throttle.PAIR[0] + 1):
        await _post(client, csrf_of, world.emails["student_a"], "wrong-guess")
    status, _html = await _post(client, csrf_of, world.emails["student_b"], PASSWORD)
    assert status == 303


async def test_the_throttle_lets_up_as_time_passes(
    client: Client, world: World, csrf_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "PAIR", (2, 20.0))  # two tries, then one each 50 ms
    email = world.emails["student_a"]
    for _ in range(3):
        await _post(client, csrf_of, email, "wrong-guess")
    assert (await _post(client, csrf_of, email, PASSWORD))[0] == 429
    await asyncio.sleep(0.2)
    assert (await _post(client, csrf_of, email, PASSWORD))[0] == 303


async def test_the_buckets_are_spent_in_the_live_state(live: LiveState) -> None:  # noqa: F811
    """Memory and Redis alike: what one worker spends, the next attempt sees."""
    for _ in range(throttle.PAIR[0]):
        await check_login_allowed(live, SECRET, "Someone@Example.test", "203.0.113.9")
        await spend_failed_login(live, SECRET, "Someone@Example.test", "203.0.113.9")
    await check_login_allowed(live, SECRET, "someone@example.test", "203.0.113.9")
    await spend_failed_login(live, SECRET, "someone@example.test", "203.0.113.9")  # finds it empty
    with pytest.raises(LoginThrottled) as refused:
        await check_login_allowed(live, SECRET, " someone@example.test", "203.0.113.9")
    assert refused.value.code == "account.login_throttled"
    # Another address for the same account has its own pair bucket.
    await check_login_allowed(live, SECRET, "someone@example.test", "198.51.100.7")


async def test_successful_log_ins_spend_nothing(client: Client, world: World, csrf_of: Any) -> None:
    for _ in range(throttle.PAIR[0] * 3):
        assert (await _post(client, csrf_of, world.emails["student_a"], PASSWORD))[0] == 303


async def test_the_counters_are_keyed_with_the_secret_key(live: LiveState) -> None:  # noqa: F811
    """Workers sharing FAIRSERVER_SECRET_KEY share the counters; the live store holds an
    HMAC, not the address typed, so another key (another deployment) counts apart."""
    for _ in range(throttle.PAIR[0] + 1):
        await spend_failed_login(live, SECRET, "someone@example.test", "203.0.113.9")
    with pytest.raises(LoginThrottled):
        await check_login_allowed(live, SECRET, "someone@example.test", "203.0.113.9")
    await check_login_allowed(live, "another-secret-key-456", "someone@example.test", "203.0.113.9")
