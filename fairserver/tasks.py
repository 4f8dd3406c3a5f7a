"""Background loops that log an error and go on must still stop when they are cancelled.

A cancellation can reach such a loop as an ordinary exception from inside a library call
(seen with redis-py on Python 3.11, whose reads run under timeout contexts). A loop whose
``except Exception`` logs and continues would then run forever in the "cancelling" state,
and whoever awaits it on shutdown waits forever (seen in CI: a media home's lease loop hung
a test run for an hour; the task was "cancelling" yet back in its sleep).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)

STOP_WITHIN = 5.0


def cancelling() -> bool:
    """True when the running task has been asked to stop; re-raise instead of going on."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop_tasks(tasks: Iterable[asyncio.Future[Any]], within: float = STOP_WITHIN) -> None:
    """Cancels ``tasks`` and waits for them, but never longer than ``within`` seconds: a
    task that ignores its cancellation is logged and left behind, not waited on forever."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    done, stuck = await asyncio.wait(pending, timeout=within)
    for task in done:  # retrieved, so asyncio does not report it as never retrieved
        if not task.cancelled() and task.exception() is not None:
            log.error("task %r ended with an error on stop", task, exc_info=task.exception())
    for task in stuck:
        log.error("task %r ignored its cancellation for %.0f s; left behind", task, within)


class Supervisor:
    """Owns every background task of one app: started here, stopped together on shutdown.

    ``spawn`` runs a one-off coroutine (a sweep, a deferred stop); ``every`` runs a loop that
    logs a failed round and goes on, yet stops when cancelled. A task that fails is logged
    when it ends, so nothing fails unseen.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = False

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"supervisor stopped: {name} not started")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def every(
        self, seconds: float, round_: Callable[[], Awaitable[object]], *, name: str
    ) -> asyncio.Task[Any]:
        """Runs ``round_`` every ``seconds`` until stopped; a failed round is logged."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await round_()
                except Exception:
                    if cancelling():
                        raise
                    log.exception("%s failed", name)

        return self.spawn(loop(), name=name)

    def later(
        self, seconds: float, make: Callable[[], Coroutine[Any, Any, Any]], *, name: str
    ) -> asyncio.TimerHandle:
        """After ``seconds``, spawns ``make()``; a pending timer is cancelled on stop."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            if not self._closed:
                self.spawn(make(), name=name)

        handle = loop.call_later(seconds, fire)
        self._timers.add(handle)
        return handle

    def cancel_timers(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def stop(self, within: float = STOP_WITHIN) -> None:
        """Cancels every timer and task and waits (at most ``within`` s) for them to end."""
        self._closed = True
        self.cancel_timers()
        await stop_tasks(list(self._tasks), within)
