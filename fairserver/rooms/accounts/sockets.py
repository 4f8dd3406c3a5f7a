"""How many live sockets one person may hold (issue 11: 300 sockets in 1.4 s were taken).

Counted in the live state, so the cap holds across workers: each socket is a member of its
user's set with the presence TTL, refreshed by the worker's heartbeat, so a dead worker's
sockets drop out by themselves. New connections are also rate-limited per user. Enough for
a student with several tabs on a phone and a laptop; far from what a flood needs.
"""

from __future__ import annotations

from fairserver.i18n import gettext as _
from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.fairs.live import PRESENCE_TTL

# Module constants so tests can lower them.
MAX_SOCKETS_PER_USER = 16
CONNECTS = (30, 2.0)  # burst, per second


def _sockets(user_id: int) -> str:
    return f"sockets:user:{user_id}"


async def admit_socket(services: Services, user_id: int, connection_id: str) -> None:
    """Counts the new socket in, or raises (too many at once, or too fast)."""
    burst, rate = CONNECTS
    if not await services.live.allow(f"connects:user:{user_id}", rate, burst):
        raise ServiceError("connection.rate_limited", _("Too many connections. Wait a moment."))
    key = _sockets(user_id)
    await services.live.presence_touch(key, connection_id, "1", PRESENCE_TTL)
    if len(await services.live.presence(key)) > MAX_SOCKETS_PER_USER:
        await services.live.presence_drop(key, connection_id)
        raise ServiceError(
            "connection.too_many", _("Too many open pages. Close some, then reload this one.")
        )


async def keep_socket(services: Services, user_id: int, connection_id: str) -> None:
    await services.live.presence_touch(_sockets(user_id), connection_id, "1", PRESENCE_TTL)


async def release_socket(services: Services, user_id: int, connection_id: str) -> None:
    await services.live.presence_drop(_sockets(user_id), connection_id)
