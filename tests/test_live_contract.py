"""One contract, two backends: every LiveState case runs on MemoryLive and on RedisLive."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.exceptions import AuthenticationError

from fairserver.store.live import LiveState, MemoryLive
from fairserver.store.live_redis import RedisLive

REDIS_ENV = "FAIRSERVER_TEST_REDIS_URL"
SHORT = 0.2  # seconds: a ttl that runs out during the test


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(
            f"{REDIS_ENV} is not set: run the suite through `make test`, which starts redis"
        )
    return url


@pytest.fixture(params=["memory", "redis"])
async def live(request: pytest.FixtureRequest) -> AsyncIterator[LiveState]:
    if request.param == "memory":
        memory = MemoryLive()
        yield memory
        await memory.close()
        return
    # A prefix of its own per test: tests never see, or delete, anyone else's keys.
    prefix = f"fs:test:{uuid.uuid4().hex}:"
    backend = await RedisLive.connect(redis_url(), prefix=prefix)
    try:
        yield backend
    finally:
        await backend.close()
        cleaner = await RedisLive.connect(redis_url(), prefix=prefix)
        await cleaner._forget_everything()
        await cleaner.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    """Polls until check() holds; fails after timeout (ttls are short, waits bounded)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition did not become true in time"
        await asyncio.sleep(0.02)


# --- token bucket --------------------------------------------------------------------


async def test_allow_spends_the_burst_then_refuses(live: LiveState) -> None:
    assert [await live.allow("k", 0.001, 3) for _ in range(4)] == [True, True, True, False]
    assert await live.allow("other", 0.001, 3), "buckets are per key"


async def test_allow_refills_at_the_rate(live: LiveState) -> None:
    assert await live.allow("k", 20, 1)
    assert not await live.allow("k", 20, 1)

    async def refilled() -> bool:
        return await live.allow("k", 20, 1)

    started = time.monotonic()
    await eventually(refilled)
    assert time.monotonic() - started >= 0.03, "one token takes 1/rate = 50 ms"


async def test_allow_never_exceeds_the_burst(live: LiveState) -> None:
    assert [await live.allow("k", 10, 2) for _ in range(2)] == [True, True]
    await asyncio.sleep(0.5)  # 5 tokens' worth of time, capped at the burst of 2
    assert [await live.allow("k", 10, 2) for _ in range(3)] == [True, True, False]


async def test_concurrent_allow_grants_exactly_the_burst(live: LiveState) -> None:
    results = await asyncio.gather(*(live.allow("k", 0.001, 10) for _ in range(100)))
    assert sum(results) == 10


# --- claim / get / put / release -----------------------------------------------------


async def test_claim_is_exclusive_until_it_expires(live: LiveState) -> None:
    assert await live.claim("k", "first", SHORT)
    assert not await live.claim("k", "second", 10)
    assert await live.get("k") == "first"

    async def expired() -> bool:
        return await live.get("k") is None

    await eventually(expired)
    assert await live.claim("k", "second", 10)
    assert await live.get("k") == "second"


async def test_concurrent_claims_have_one_winner(live: LiveState) -> None:
    results = await asyncio.gather(*(live.claim("k", f"w{i}", 10) for i in range(50)))
    assert sum(results) == 1
    winner = f"w{results.index(True)}"
    assert await live.get("k") == winner


async def test_get_of_a_missing_key_is_none(live: LiveState) -> None:
    assert await live.get("nothing") is None


async def test_put_without_ttl_keeps_and_overwrites(live: LiveState) -> None:
    await live.put("k", "a", SHORT)
    await live.put("k", "b")  # replaces the value and its ttl
    await asyncio.sleep(SHORT + 0.1)
    assert await live.get("k") == "b"
    assert not await live.claim("k", "c", 10)


async def test_put_with_ttl_expires(live: LiveState) -> None:
    await live.put("k", "a", SHORT)
    assert await live.get("k") == "a"

    async def expired() -> bool:
        return await live.get("k") is None

    await eventually(expired)
    assert await live.claim("k", "b", 10)


async def test_put_with_a_spent_ttl_leaves_nothing(live: LiveState) -> None:
    await live.put("k", "a")
    await live.put("k", "b", 0)
    assert await live.get("k") is None


async def test_release_only_deletes_its_own_value(live: LiveState) -> None:
    assert not await live.release("k", "a"), "nothing to release"
    assert await live.claim("k", "a", 10)
    assert not await live.release("k", "b")
    assert await live.get("k") == "a"
    assert await live.release("k", "a")
    assert await live.get("k") is None
    assert not await live.release("k", "a"), "released twice"


async def test_late_release_keeps_a_newer_claim(live: LiveState) -> None:
    assert await live.claim("k", "old", SHORT)

    async def expired() -> bool:
        return await live.get("k") is None

    await eventually(expired)
    assert await live.claim("k", "new", 10)
    assert not await live.release("k", "old")
    assert await live.get("k") == "new"


# --- presence ------------------------------------------------------------------------


async def test_presence_touch_reports_arrivals_only(live: LiveState) -> None:
    assert await live.presence_touch("room", "c1", "7:student", 10)
    assert not await live.presence_touch("room", "c1", "7:student-again", 10)
    assert await live.presence_touch("room", "c2", "8:recruiter", 10)
    assert await live.presence("room") == {"c1": "7:student-again", "c2": "8:recruiter"}
    assert await live.presence("other") == {}


async def test_presence_expires_and_touch_after_expiry_is_an_arrival(live: LiveState) -> None:
    assert await live.presence_touch("room", "gone", "1:a", SHORT)
    assert await live.presence_touch("room", "stays", "2:b", 10)

    async def pruned() -> bool:
        return await live.presence("room") == {"stays": "2:b"}

    await eventually(pruned)
    assert await live.presence_touch("room", "stays", "2:b", 10) is False
    assert await live.presence_touch("room", "gone", "1:a", 10) is True


async def test_touch_of_an_expired_member_is_an_arrival_before_any_read(live: LiveState) -> None:
    assert await live.presence_touch("room", "c1", "1:a", SHORT)
    await asyncio.sleep(SHORT + 0.1)
    assert await live.presence_touch("room", "c1", "1:a", 10)


async def test_presence_drop(live: LiveState) -> None:
    assert not await live.presence_drop("room", "nobody")
    assert await live.presence_touch("room", "c1", "1:a", 10)
    assert await live.presence_drop("room", "c1")
    assert not await live.presence_drop("room", "c1")
    assert await live.presence("room") == {}
    assert await live.presence_touch("room", "c2", "2:b", SHORT)
    await asyncio.sleep(SHORT + 0.1)
    assert not await live.presence_drop("room", "c2"), "an expired member was not present"


async def test_presence_rooms_are_separate(live: LiveState) -> None:
    await live.presence_touch("fair:1", "c1", "1:a", 10)
    await live.presence_touch("fair:2", "c1", "1:a", 10)
    assert await live.presence_drop("fair:1", "c1")
    assert await live.presence("fair:2") == {"c1": "1:a"}


# --- queues --------------------------------------------------------------------------


async def test_queue_orders_by_score_then_member(live: LiveState) -> None:
    assert await live.queue_push("q", "late", 3.0) == 1
    assert await live.queue_push("q", "b", 1.5) == 1
    assert await live.queue_push("q", "a", 1.5) == 1, "equal scores: member order"
    assert await live.queue_members("q") == [("a", 1.5), ("b", 1.5), ("late", 3.0)]
    assert [await live.queue_rank("q", m) for m in ("a", "b", "late")] == [1, 2, 3]


async def test_tie_order_is_by_utf8_bytes(live: LiveState) -> None:
    names = ["z", "Z", "é", "e", "10", "9", "学生", "ab", "a"]
    for name in names:
        await live.queue_push("q", name, 1.0)
    expected = sorted(names, key=lambda n: n.encode())
    assert [m for m, _ in await live.queue_members("q")] == expected


async def test_queue_push_is_idempotent_and_keeps_the_first_score(live: LiveState) -> None:
    assert await live.queue_push("q", "a", 10.0) == 1
    assert await live.queue_push("q", "b", 20.0) == 2
    assert await live.queue_push("q", "b", 1.0) == 2, "a second push keeps the first score"
    assert await live.queue_members("q") == [("a", 10.0), ("b", 20.0)]


async def test_rank_after_removals(live: LiveState) -> None:
    for i, name in enumerate(["a", "b", "c", "d"]):
        await live.queue_push("q", name, 1_700_000_000.123 + i)
    assert await live.queue_remove("q", "a")
    assert not await live.queue_remove("q", "a")
    assert not await live.queue_remove("q", "never")
    assert await live.queue_remove("q", "c")
    assert await live.queue_rank("q", "b") == 1
    assert await live.queue_rank("q", "d") == 2
    assert await live.queue_rank("q", "a") is None
    assert await live.queue_members("q") == [("b", 1_700_000_001.123), ("d", 1_700_000_003.123)]


async def test_queue_members_limit_and_empty_queue(live: LiveState) -> None:
    assert await live.queue_members("q") == []
    assert await live.queue_rank("q", "a") is None
    for i in range(5):
        await live.queue_push("q", f"m{i}", float(i))
    assert [m for m, _ in await live.queue_members("q", limit=2)] == ["m0", "m1"]
    assert await live.queue_members("q", limit=0) == []
    assert len(await live.queue_members("other")) == 0


async def test_concurrent_pushes_give_distinct_ranks(live: LiveState) -> None:
    ranks = await asyncio.gather(*(live.queue_push("q", f"s{i:02}", 5.0) for i in range(30)))
    assert all(1 <= rank <= 30 for rank in ranks)
    assert [await live.queue_rank("q", f"s{i:02}") for i in range(30)] == list(range(1, 31))


# --- one read of many keys -----------------------------------------------------------


async def test_read_returns_values_queues_and_presences_at_once(live: LiveState) -> None:
    await live.put("a", "1")
    await live.put("c", "3")
    await live.claim("gone", "x", SHORT)
    await live.queue_push("q", "late", 3.0)
    await live.queue_push("q", "early", 1_700_000_000.123)
    await live.presence_touch("room", "c1", "v1", 10)
    await live.presence_touch("room", "c2", "v2", SHORT)
    await asyncio.sleep(SHORT + 0.1)
    seen = await live.read(
        values=["a", "missing", "c", "gone", "never"],
        queues=["q", "empty"],
        presences=["room", "nobody"],
    )
    assert seen.values == {"a": "1", "missing": None, "c": "3", "gone": None, "never": None}
    assert seen.queues == {"q": [("late", 3.0), ("early", 1_700_000_000.123)], "empty": []}
    assert seen.presences == {"room": {"c1": "v1"}, "nobody": {}}
    nothing = await live.read()
    assert (nothing.values, nothing.queues, nothing.presences) == ({}, {}, {})


async def test_close_is_idempotent(live: LiveState) -> None:
    await live.close()
    await live.close()


async def test_redis_connect_refuses_a_wrong_password() -> None:
    url = redis_url()
    assert "://:" in url, "the test redis requires a password"
    wrong = url.replace("://:", "://:wrong-", 1)
    with pytest.raises(AuthenticationError):
        await RedisLive.connect(wrong)


async def test_redis_keys_expire_with_their_state() -> None:
    """Redis only: abandoned buckets and presence rooms do not pile up forever."""
    prefix = f"fs:test:{uuid.uuid4().hex}:"
    live = await RedisLive.connect(redis_url(), prefix=prefix)
    try:
        await live.allow("k", 2, 4)
        await live.presence_touch("room", "c1", "1:a", 10)
        await live.put("forever", "x")
        ttls = {name: await live._redis.pttl(name) async for name in _names(live, prefix)}
        assert 0 < ttls[f"{prefix}rate:k"] <= 1500, "a bucket lives until it would be full"
        assert 9000 < ttls[f"{prefix}pz:{{room}}"] <= 11000
        assert 9000 < ttls[f"{prefix}pv:{{room}}"] <= 11000
        assert ttls[f"{prefix}v:forever"] == -1
    finally:
        await live._forget_everything()
        await live.close()


async def _names(live: RedisLive, prefix: str) -> AsyncIterator[str]:
    async for name in live._redis.scan_iter(f"{prefix}*"):
        yield name


# --- leases and pub/sub (media homes) ----------------------------------------------------


async def test_extend_renews_only_the_holders_lease(live: LiveState) -> None:
    assert await live.claim("home", "w1", SHORT)
    assert not await live.extend("home", "w2", 5)
    assert await live.extend("home", "w1", 5)
    await asyncio.sleep(SHORT * 1.5)
    assert await live.get("home") == "w1"  # renewed past the first ttl
    assert await live.release("home", "w1")
    assert not await live.extend("home", "w1", 5)  # gone: nothing to renew
    assert await live.get("home") is None


async def test_publish_reaches_every_current_subscriber(live: LiveState) -> None:
    await live.publish("media", "before anyone listens")
    first = await live.subscribe("media")
    second = await live.subscribe("media")
    other = await live.subscribe("elsewhere")
    try:
        await live.publish("media", "one")
        await live.publish("media", "two")
        for sub in (first, second):
            got = [await sub.get(2.0), await sub.get(2.0)]
            assert got == ["one", "two"]
        assert await other.get(0.2) is None
        await second.close()
        await live.publish("media", "three")
        assert await first.get(2.0) == "three"
    finally:
        for sub in (first, other):
            await sub.close()
