"""Fair-wide events: entering a fair (attendance), resuming rooms, announcements (F7)."""

from __future__ import annotations

from pydantic import Field

from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs import attendance
from fairserver.rooms.fairs import live as fairlive
from fairserver.rooms.fairs.access import access_fair, access_fair_by_id
from fairserver.rooms.fairs.live import AnnouncedBefore, Announcement, FairSnapshot
from fairserver.socket.kit import MAX_EVENT_ID, Connection, EventRegistry, Payload, Rate
from fairserver.text import Text

events = EventRegistry()


class FairJoin(Payload):
    fair: str = Field(min_length=1, max_length=64)
    # The last event id this client saw in the fair room, to replay what it missed.
    after: int | None = Field(default=None, ge=0, le=MAX_EVENT_ID)


class FairLeave(Payload):
    pass


class Announce(Payload):
    body: Text = Field(min_length=1, max_length=2000)
    client_id: str = Field(min_length=1, max_length=64)


async def visible_fair(services: Services, conn: Connection, slug: str) -> FairAccess:
    return await access_fair(services, conn.actor, slug)


def joined_fair(conn: Connection) -> int:
    """The fair this connection entered with fair.join; events elsewhere need it first."""
    fair_id = conn.state.fair_id
    if fair_id is None:
        raise NotFound()
    return int(fair_id)


@events.on("fair.join", FairJoin)
async def join_fair(services: Services, conn: Connection, payload: FairJoin) -> FairSnapshot:
    access = await visible_fair(services, conn, payload.fair)
    previous = conn.state.fair_id
    if previous is not None and previous != access.id:
        await leave_fair(services, conn, FairLeave())
    room = fairlive.fair_room(access.id)
    await conn.enter(room)
    conn.state.fair_id = access.id
    # Committed before the ack: the visit is on record even if we crash right after.
    await attendance.open_interval(
        services,
        connection_id=conn.id,
        user_id=conn.user_id,
        fair_id=access.id,
        kind="fair",
        subject_id=access.id,
    )
    if can(conn.actor, Right.FAIR_MANAGE, access):
        await conn.enter(fairlive.staff_room(access.id))
    return await fairlive.enter(services, conn.id, conn.actor, access, payload.after)


@events.on("fair.leave", FairLeave)
async def leave_fair(services: Services, conn: Connection, payload: FairLeave) -> None:
    fair_id = joined_fair(conn)
    await attendance.close_intervals(services, conn.id, "leave", kind="fair", subject_id=fair_id)
    await fairlive.leave(services, conn.id, conn.actor, fair_id)
    for room in (fairlive.fair_room(fair_id), fairlive.staff_room(fair_id)):
        await conn.leave(room)
    conn.state.fair_id = None


@events.on(
    "fair.announce",
    Announce,
    roles=frozenset({"organiser", "admin"}),
    rate=Rate(per_second=0.2, burst=3),
)
async def announce(
    services: Services, conn: Connection, payload: Announce
) -> Announcement | AnnouncedBefore:
    fair_id = joined_fair(conn)
    await access_fair_by_id(services, conn.actor, fair_id, Right.FAIR_MANAGE)
    return await fairlive.announce(services, conn.actor, fair_id, payload.body, payload.client_id)


async def on_disconnect(services: Services, conn: Connection, reason: str) -> None:
    fair_id = conn.state.fair_id
    await attendance.close_intervals(services, conn.id, reason)
    if fair_id is not None:
        await fairlive.leave(services, conn.id, conn.actor, int(fair_id))


async def on_heartbeat(services: Services, conn: Connection) -> None:
    """Keeps this connection counted as present in its fair."""
    fair_id = conn.state.fair_id
    if fair_id is not None:
        await fairlive.touch(services, conn.id, conn.actor, int(fair_id))
