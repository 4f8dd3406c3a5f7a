"""The live fair dashboard (F5): a manager of the joined fair subscribes and gets a
snapshot; while subscribed, `fair.dashboard` updates arrive in the fair's staff room."""

from __future__ import annotations

from fairserver.permissions import Right
from fairserver.rooms.context import Services
from fairserver.rooms.fairs import dashboard
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.fairs.access import access_fair_by_id
from fairserver.socket.fairs.live import joined_fair
from fairserver.socket.kit import Connection, Empty, EventRegistry, Rate

events = EventRegistry()
MANAGERS = frozenset({"organiser", "admin"})


@events.on("fair.dashboard", Empty, roles=MANAGERS, rate=Rate(per_second=1, burst=5))
async def watch_dashboard(
    services: Services, conn: Connection, payload: Empty
) -> dashboard.Dashboard:
    fair_id = joined_fair(conn)
    access = await access_fair_by_id(services, conn.actor, fair_id, Right.FAIR_MANAGE)
    staff_room = fairlive.staff_room(fair_id)
    # fair.join put managers in the staff room already; entering again is harmless and
    # keeps this event correct on its own.
    await conn.enter(staff_room)

    def still_watching() -> bool:
        return conn.state.fair_id == fair_id and staff_room in conn.rooms

    services.dashboard_tickers.watch(services, access.fair, conn.id, still_watching)
    return await dashboard.snapshot(services, access.fair)


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    services.dashboard_tickers.unwatch(conn.id)
