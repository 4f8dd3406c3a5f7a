"""socket.io's Redis manager, resubscribing at most a second after Redis comes back.

Checked against python-socketio 5.18's AsyncRedisManager. What it does, and what we change:
- Its listener doubles its retry sleep up to 60 s, so after a Redis outage a worker can
  stay deaf to other workers' emits for up to a minute. docs/targets.md asks for delivery to
  resume within 5 s of Redis returning: we retry every RETRY_SLEEP seconds, never longer.
- Every reconnect (listener or publisher) builds a new Redis client and drops the old one
  unclosed, leaking its sockets. We keep ONE client for the manager's life (its pool
  reconnects by itself) and close each broken PubSub before making a new one.
- A publish failure makes it rebuild self.pubsub under the running listener. Our
  listener keeps its own PubSub, so the publisher never touches it.
- It builds clients with Redis.from_url and no `retry`, which in redis-py means no retry
  at all: the first publish after a Redis restart meets a dead pooled connection and
  the emit is dropped. We give the client a short retry, so it reconnects and sends.
- If listen() ever ends without an error (the PubSub lost its subscription), we
  resubscribe after a pause instead of spinning.
Redis commands get socket timeouts, so a publish to an unreachable Redis fails within
seconds instead of hanging the emitting handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from fairserver.socket.fanout import SlowClients, broadcast
from fairserver.tasks import cancelling

log = logging.getLogger(__name__)
RETRY_SLEEP = 1.0
REDIS_OPTIONS: dict[str, Any] = {
    "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3),
    "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    "socket_connect_timeout": 5,
    # Commands (publish, subscribe) fail after 5 s; the pub/sub blocking read is exempt.
    "socket_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 15,
}


class ResilientRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """An emit from any worker, delivered to this worker's sockets: plain broadcasts
        take the direct fan-out path; those with callbacks keep python-socketio's."""
        if message.get("callback") is not None or message.get("binary"):
            await super()._handle_emit(message)
            return
        data = message["data"]
        if isinstance(data, list):
            data = data[0] if len(data) == 1 else tuple(data)
        broadcast(
            self,
            message["event"],
            data,
            message.get("namespace"),
            message.get("room"),
            message.get("skip_sid"),
        )

    def __init__(self, url: str, channel: str = "socketio", write_only: bool = False) -> None:
        super().__init__(
            url, channel=channel, write_only=write_only, redis_options=dict(REDIS_OPTIONS)
        )
        self.slow_clients = SlowClients()

    def _redis_connect(self) -> None:
        """The stock method builds client and PubSub; later calls only a new PubSub."""
        if self.redis is None:
            super()._redis_connect()
        else:
            self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def _publish(self, data: Any) -> Any:
        if self.redis is None:
            self._redis_connect()
        try:
            # The client's own retry reconnects a broken pooled connection once Redis is up.
            return await self.redis.publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # redis raises several unrelated types here
            log.error("cannot publish to redis, emit dropped: %s", exc)
            return None

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        while True:
            pubsub: PubSub | None = None
            try:
                self._redis_connect()
                pubsub = self.pubsub
                await pubsub.subscribe(self.channel)
                log.info("subscribed to redis channel %s", self.channel)
                async for message in pubsub.listen():
                    yield message
                log.warning("redis pub/sub ended; resubscribing in %.1fs", RETRY_SLEEP)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis raises several unrelated types here
                if cancelling():
                    raise
                log.warning("redis pub/sub lost (%s); retrying in %.1fs", exc, RETRY_SLEEP)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
            await asyncio.sleep(RETRY_SLEEP)
