"""Live state: presence, queues, claims and rate limits that need not survive a restart.

Two backends share one contract (tests/test_live_contract.py runs both through the
same cases): MemoryLive for the embedded single process, and RedisLive
(store/live_redis.py) when several workers share a fair. Every operation is atomic
on its own, because one client's events can run concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class LiveRead:
    """What one `read` saw, at one moment: values (None when unset), queues from the
    front as queue_members gives them, and presences as presence gives them."""

    values: dict[str, str | None] = field(default_factory=dict)
    queues: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    presences: dict[str, dict[str, str]] = field(default_factory=dict)


class LiveState(Protocol):
    async def allow(self, key: str, rate: float, burst: int) -> bool:
        """Token bucket: True and one token spent, or False when the bucket is empty."""

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        """Sets key to value unless it is set already (and not expired)."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def release(self, key: str, value: str) -> bool:
        """Deletes key only while it still holds value: a late release keeps a newer claim."""

    async def presence_touch(self, room: str, member: str, value: str, ttl: float) -> bool:
        """Marks member present for ttl seconds; True when they were not present before."""

    async def presence_drop(self, room: str, member: str) -> bool: ...

    async def presence(self, room: str) -> dict[str, str]:
        """Members whose ttl has not run out, with their values."""

    async def queue_push(self, queue: str, member: str, score: float) -> int:
        """Adds member (idempotently, keeping the first score); returns its 1-based position."""

    async def queue_remove(self, queue: str, member: str) -> bool: ...

    async def queue_rank(self, queue: str, member: str) -> int | None:
        """1-based position, or None when not queued."""

    async def queue_members(self, queue: str, limit: int = 1000) -> list[tuple[str, float]]:
        """(member, score) from the front."""

    async def extend(self, key: str, value: str, ttl: float) -> bool:
        """Renews key's ttl only while it still holds value (a lease its holder keeps)."""

    async def read(
        self,
        values: Sequence[str] = (),
        queues: Sequence[str] = (),
        presences: Sequence[str] = (),
    ) -> LiveRead:
        """Several gets, whole queues and presences in one atomic call (one round trip)."""

    async def publish(self, channel: str, message: str) -> None:
        """Delivers message to the channel's current subscribers (at most once, no backlog)."""

    async def subscribe(self, channel: str) -> Subscription:
        """Listening from the moment this returns."""

    async def close(self) -> None: ...


class Subscription(Protocol):
    async def get(self, within: float) -> str | None:
        """The next message, or None after ``within`` seconds without one."""

    async def close(self) -> None: ...


class _MemorySubscription:
    def __init__(self, channels: dict[str, set[asyncio.Queue[str]]], channel: str) -> None:
        self._channels = channels
        self._channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        channels.setdefault(channel, set()).add(self.queue)

    async def get(self, within: float) -> str | None:
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._channels.get(self._channel, set()).discard(self.queue)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class MemoryLive:
    """In-process state for the embedded default: a dict per concern, no locks needed
    because nothing here awaits between reading and writing."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._values: dict[str, tuple[str, float | None]] = {}
        self._presence: dict[str, dict[str, tuple[str, float]]] = {}
        self._queues: dict[str, dict[str, float]] = {}
        self._channels: dict[str, set[asyncio.Queue[str]]] = {}
        self._closed = asyncio.Event()

    async def allow(self, key: str, rate: float, burst: int) -> bool:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(burst), stamp=now)
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        if len(self._buckets) > 100_000:
            self._forget_full_buckets(now, rate)
        return True

    def _forget_full_buckets(self, now: float, rate: float) -> None:
        for key in [k for k, b in self._buckets.items() if now - b.stamp > 600]:
            del self._buckets[key]

    def _live_value(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= self._clock():
            del self._values[key]
            return None
        return value

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        if self._live_value(key) is not None:
            return False
        self._values[key] = (value, self._clock() + ttl)
        return True

    async def get(self, key: str) -> str | None:
        return self._live_value(key)

    async def put(self, key: str, value: str, ttl: float | None = None) -> None:
        self._values[key] = (value, None if ttl is None else self._clock() + ttl)

    async def release(self, key: str, value: str) -> bool:
        if self._live_value(key) != value:
            return False
        del self._values[key]
        return True

    async def extend(self, key: str, value: str, ttl: float) -> bool:
        if self._live_value(key) != value:
            return False
        self._values[key] = (value, self._clock() + ttl)
        return True

    async def publish(self, channel: str, message: str) -> None:
        for queue in tuple(self._channels.get(channel, ())):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> Subscription:
        return _MemorySubscription(self._channels, channel)

    async def presence_touch(self, room: str, member: str, value: str, ttl: float) -> bool:
        members = self._presence.setdefault(room, {})
        now = self._clock()
        previous = members.get(member)
        members[member] = (value, now + ttl)
        return previous is None or previous[1] <= now

    async def presence_drop(self, room: str, member: str) -> bool:
        members = self._presence.get(room, {})
        entry = members.pop(member, None)
        return entry is not None and entry[1] > self._clock()

    async def presence(self, room: str) -> dict[str, str]:
        members = self._presence.get(room, {})
        now = self._clock()
        for gone in [m for m, (_, expires) in members.items() if expires <= now]:
            del members[gone]
        return {member: value for member, (value, _) in members.items()}

    async def queue_push(self, queue: str, member: str, score: float) -> int:
        entries = self._queues.setdefault(queue, {})
        entries.setdefault(member, score)
        rank = await self.queue_rank(queue, member)
        assert rank is not None
        return rank

    async def queue_remove(self, queue: str, member: str) -> bool:
        return self._queues.get(queue, {}).pop(member, None) is not None

    async def queue_rank(self, queue: str, member: str) -> int | None:
        entries = self._queues.get(queue, {})
        if member not in entries:
            return None
        mine = (entries[member], member)
        return 1 + sum(1 for m, s in entries.items() if (s, m) < mine)

    async def queue_members(self, queue: str, limit: int = 1000) -> list[tuple[str, float]]:
        entries = self._queues.get(queue, {})
        ordered = sorted(entries.items(), key=lambda item: (item[1], item[0]))
        return ordered[:limit]

    async def read(
        self,
        values: Sequence[str] = (),
        queues: Sequence[str] = (),
        presences: Sequence[str] = (),
    ) -> LiveRead:
        return LiveRead(
            values={key: self._live_value(key) for key in values},
            queues={queue: await self.queue_members(queue, 1 << 30) for queue in queues},
            presences={room: await self.presence(room) for room in presences},
        )

    async def close(self) -> None:
        self._closed.set()
