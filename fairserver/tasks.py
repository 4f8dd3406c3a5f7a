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
from collections.abc import Iterable
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
