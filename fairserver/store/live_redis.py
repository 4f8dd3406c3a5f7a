"""Live state in Redis, shared by every worker: the LiveState contract of store/live.py.

Each operation is one Lua script or one MULTI, so it is atomic however many workers
and coroutines call it at once. Expiry times come from the Redis server's TIME inside
the scripts, never from a worker's clock: all workers then agree on what has expired.

Keys (all under one prefix, "fs:" by default):
  {p}rate:{key}           hash tokens/stamp   token bucket; expires once it would be full
  {p}v:{key}              string              claim/get/put/release
  {p}pz:{room} {p}pv:{room}  zset member->expiry ms, hash member->value   presence
  {p}q:{queue}            zset member->score  queues (equal scores ordered by member)
  {p}ch:{channel}         pub/sub channel     publish/subscribe (media homes' signalling)
The braces make a room's two presence keys hash to one Redis Cluster slot.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from fairserver.store.live import LiveRead
from fairserver.tasks import cancelling

DEFAULT_PREFIX = "fs:"
# A bucket nobody touched for this long is full again; without refill it is forgotten.
IDLE_BUCKET_SECONDS = 86_400

# Milliseconds since the epoch, from the server's clock (shared by every worker).
# Numbers go to Redis as %.17g text: Lua's default %.14g would round them to 0.1 ms.
_NOW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local function num(x) return string.format('%.17g', x) end
"""

_ALLOW = (
    _NOW
    + """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(state[1]), tonumber(state[2])
if tokens == nil or stamp == nil then tokens, stamp = burst, now end
local elapsed = math.max(0, now - stamp) / 1000
tokens = math.min(burst, tokens + elapsed * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1 allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', num(tokens), 'stamp', num(now))
local full_after = tonumber(ARGV[3])
if rate > 0 then full_after = math.min(full_after, (burst - tokens) / rate) end
redis.call('PEXPIRE', KEYS[1], math.ceil(full_after * 1000) + 1000)
return allowed
"""
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Drops expired members, then keeps both keys alive as long as their newest member.
_PRUNE = """
local function prune(zkey, hkey, now)
  local gone = redis.call('ZRANGEBYSCORE', zkey, '-inf', num(now))
  -- HDEL in slices: unpack() of thousands of names would overflow Lua's stack.
  for i = 1, #gone, 500 do
    redis.call('HDEL', hkey, unpack(gone, i, math.min(i + 499, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', num(now))
  local last = redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')
  if #last > 0 then
    local ttl = math.ceil(tonumber(last[2]) - now) + 1000
    redis.call('PEXPIRE', zkey, ttl)
    redis.call('PEXPIRE', hkey, ttl)
  end
end
"""

_PRESENCE_TOUCH = (
    _NOW
    + _PRUNE
    + """
local previous = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
redis.call('ZADD', KEYS[1], num(now + tonumber(ARGV[3])), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
prune(KEYS[1], KEYS[2], now)
if previous == nil or previous <= now then return 1 end
return 0
"""
)

_PRESENCE_DROP = (
    _NOW
    + """
local previous = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if previous ~= nil and previous > now then return 1 end
return 0
"""
)

_PRESENCE = (
    _NOW
    + _PRUNE
    + """
prune(KEYS[1], KEYS[2], now)
return redis.call('HGETALL', KEYS[2])
"""
)


# KEYS: the values, then the queues, then each presence's two keys; ARGV: their counts.
# One reply, nested: a value is nil when unset (a Lua false keeps the table's length).
_READ = (
    _NOW
    + _PRUNE
    + """
local nvalues, nqueues, npresences = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local values, queues, presences = {}, {}, {}
local k = 1
for i = 1, nvalues do values[i] = redis.call('GET', KEYS[k]) k = k + 1 end
for i = 1, nqueues do
  queues[i] = redis.call('ZRANGE', KEYS[k], 0, -1, 'WITHSCORES') k = k + 1
end
for i = 1, npresences do
  prune(KEYS[k], KEYS[k + 1], now)
  presences[i] = redis.call('HGETALL', KEYS[k + 1])
  k = k + 2
end
return {values, queues, presences}
"""
)


_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class _RedisSubscription:
    """One pub/sub connection. After a Redis restart redis-py reconnects and subscribes
    again on the next read; messages published during the outage are lost (pub/sub keeps
    no backlog), which callers of publish() accept."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def get(self, within: float) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (left := deadline - loop.time()) > 0:
            try:
                # None also for a (skipped) subscribe confirmation: read on until the deadline.
                message = await self._pubsub.get_message(timeout=left)
            except (RedisConnectionError, RedisTimeoutError):
                if cancelling():
                    raise
                await asyncio.sleep(min(left, 0.5))
                continue
            if message is not None and message.get("type") == "message":
                return cast(str, message["data"])
        return None

    async def close(self) -> None:
        await self._pubsub.aclose()


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisLive:
    """LiveState on Redis. Construct with `await RedisLive.connect(url)`."""

    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix
        self._allow = redis.register_script(_ALLOW)
        self._release = redis.register_script(_RELEASE)
        self._extend = redis.register_script(_EXTEND)
        self._touch = redis.register_script(_PRESENCE_TOUCH)
        self._drop = redis.register_script(_PRESENCE_DROP)
        self._presence = redis.register_script(_PRESENCE)
        self._read = redis.register_script(_READ)
        self._closed = False

    @classmethod
    async def connect(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisLive:
        """Connects and pings, so a wrong URL or password stops start-up with a clear error.
        The pool reconnects by itself after a Redis restart; a command that meets the
        outage itself fails (callers see an error, never a wrong answer)."""
        redis = Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=15,
            socket_timeout=5,
            socket_connect_timeout=5,
            socket_keepalive=True,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        try:
            await redis.ping()
        except BaseException:
            await redis.aclose()
            raise
        return cls(redis, prefix)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    def _presence_keys(self, room: str) -> list[str]:
        return [f"{self._prefix}pz:{{{room}}}", f"{self._prefix}pv:{{{room}}}"]

    async def allow(self, key: str, rate: float, burst: int) -> bool:
        args = [repr(float(rate)), str(int(burst)), str(IDLE_BUCKET_SECONDS)]
        return bool(await self._allow(keys=[self._key("rate", key)], args=args))

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        name = self._key("v", key)
        if ttl <= 0:  # MemoryLive stores an already expired value: nothing visible
            return not await self._redis.exists(name)
        return bool(await self._redis.set(name, value, px=_ms(ttl), nx=True))

    async def get(self, key: str) -> str | None:
        return cast(str | None, await self._redis.get(self._key("v", key)))

    async def put(self, key: str, value: str, ttl: float | None = None) -> None:
        name = self._key("v", key)
        if ttl is None:
            await self._redis.set(name, value)
        elif ttl <= 0:
            await self._redis.delete(name)
        else:
            await self._redis.set(name, value, px=_ms(ttl))

    async def release(self, key: str, value: str) -> bool:
        return bool(await self._release(keys=[self._key("v", key)], args=[value]))

    async def extend(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._extend(keys=[self._key("v", key)], args=[value, str(_ms(ttl))]))

    async def read(
        self,
        values: Sequence[str] = (),
        queues: Sequence[str] = (),
        presences: Sequence[str] = (),
    ) -> LiveRead:
        keys = [self._key("v", key) for key in values] + [self._key("q", q) for q in queues]
        for room in presences:
            keys += self._presence_keys(room)
        counts = [str(len(values)), str(len(queues)), str(len(presences))]
        got, ranges, flats = await self._read(keys=keys, args=counts)
        # Lua drops trailing nils from a table: missing values at the end are unset.
        got = list(got) + [None] * (len(values) - len(got))
        return LiveRead(
            values=dict(zip(values, got, strict=True)),
            queues={
                queue: [(m, float(s)) for m, s in zip(flat[::2], flat[1::2], strict=True)]
                for queue, flat in zip(queues, ranges, strict=True)
            },
            presences={
                room: dict(zip(flat[::2], flat[1::2], strict=True))
                for room, flat in zip(presences, flats, strict=True)
            },
        )

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._key("ch", channel), message)

    async def subscribe(self, channel: str) -> _RedisSubscription:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._key("ch", channel))
        return _RedisSubscription(pubsub)

    async def presence_touch(self, room: str, member: str, value: str, ttl: float) -> bool:
        args = [member, value, repr(float(ttl) * 1000)]
        return bool(await self._touch(keys=self._presence_keys(room), args=args))

    async def presence_drop(self, room: str, member: str) -> bool:
        return bool(await self._drop(keys=self._presence_keys(room), args=[member]))

    async def presence(self, room: str) -> dict[str, str]:
        flat: list[str] = await self._presence(keys=self._presence_keys(room))
        return dict(zip(flat[::2], flat[1::2], strict=True))

    async def queue_push(self, queue: str, member: str, score: float) -> int:
        async with self._redis.pipeline(transaction=True) as multi:
            multi.zadd(self._key("q", queue), {member: score}, nx=True)
            multi.zrank(self._key("q", queue), member)
            _, rank = await multi.execute()
        return int(rank) + 1

    async def queue_remove(self, queue: str, member: str) -> bool:
        return bool(await self._redis.zrem(self._key("q", queue), member))

    async def queue_rank(self, queue: str, member: str) -> int | None:
        rank = cast(int | None, await self._redis.zrank(self._key("q", queue), member))
        return None if rank is None else rank + 1

    async def queue_members(self, queue: str, limit: int = 1000) -> list[tuple[str, float]]:
        if limit == 0:
            return []
        # ZRANGE's inclusive stop makes a negative limit drop from the end, like a slice.
        rows = cast(
            list[tuple[str, float]],
            await self._redis.zrange(self._key("q", queue), 0, limit - 1, withscores=True),
        )
        return [(member, float(score)) for member, score in rows]

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._redis.aclose()

    async def _forget_everything(self) -> None:
        """Tests only: deletes this prefix's keys (never the whole database)."""
        names: list[Any] = [name async for name in self._redis.scan_iter(f"{self._prefix}*")]
        if names:
            await self._redis.delete(*names)
