"""Coalescing ticks for a briefing's busy counters: votes, viewers and reactions.

A popular question can collect dozens of votes a second; sending each one to
thousands of viewers would cost more than the votes themselves. Instead a change
marks its key dirty, and a tick sends at most one update per key per period,
carrying the value read when it is sent (the committed vote count, the live
viewer count). With several workers, a short live claim per key lets only one of
them send in a period; the others retry on their next tick, so the last update
always carries the final value.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fairserver.tasks import Supervisor, cancelling, stop_tasks

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)

VOTES_PERIOD = 0.25  # seconds: at most one briefing.votes per briefing per tick
VIEWERS_PERIOD = 1.0  # at most one briefing.viewers per briefing per second
REACTIONS_PERIOD = 1.0  # reactions are summed per second into briefing.reactions


class Coalescer(Generic[K]):
    """Marks keys dirty; a tick flushes each one. A flush that returns False is retried."""

    def __init__(
        self, period: float, flush: Callable[[K], Awaitable[bool]], tasks: Supervisor
    ) -> None:
        self.period = period
        self._flush = flush
        self._tasks = tasks
        self._dirty: set[K] = set()
        self._task: asyncio.Task[None] | None = None

    def mark(self, key: K) -> None:
        self._dirty.add(key)
        if self._task is None or self._task.done():
            self._task = self._tasks.spawn(self._run(), name="coalesced tick")

    async def _run(self) -> None:
        while self._dirty:
            await asyncio.sleep(self.period)
            await self.flush_now()

    async def flush_now(self) -> None:
        keys, self._dirty = self._dirty, set()
        for key in keys:
            try:
                sent = await self._flush(key)
            except Exception:
                if cancelling():
                    raise
                log.exception("coalesced flush failed for %r", key)
                sent = True  # a broken key must not spin forever
            if not sent:
                self._dirty.add(key)

    async def close(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])


@dataclass
class ReactionTally:
    """Reactions per briefing since the last tick; never stored."""

    counts: dict[int, Counter[str]] = field(default_factory=dict)

    def add(self, briefing_id: int, kind: str) -> None:
        self.counts.setdefault(briefing_id, Counter())[kind] += 1

    def take(self, briefing_id: int) -> dict[str, int]:
        return dict(self.counts.pop(briefing_id, Counter()))
