"""socket.io's Redis manager, with a reconnect back-off capped at one second.

Stock python-socketio doubles its retry sleep up to 60 s, so after a Redis restart a
worker can stay deaf to other workers' emits for a minute. quality.md asks for
delivery to resume within 5 s of Redis returning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio

log = logging.getLogger(__name__)
MAX_RETRY_SLEEP = 1.0


class ResilientRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # redis raises several unrelated types here
                log.warning("redis pub/sub lost (%s); retrying in %.1fs", exc, MAX_RETRY_SLEEP)
                subscribed = False
                await asyncio.sleep(MAX_RETRY_SLEEP)
