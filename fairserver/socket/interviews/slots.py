"""Waitlist offers over the socket (I1): a student takes or declines the slot held for them.

The slots page (web/static/js/slots.js) sends these; booking, cancelling and rescheduling
are HTTP forms (http/interviews/slots.py). Both call the services in
rooms/interviews/waitlist.py, whose only access rule here is that the entry is the
caller's own: another student's entry is not_found, like an unknown id.
"""

from __future__ import annotations

from pydantic import Field

from fairserver.rooms.context import Services
from fairserver.rooms.interviews import waitlist
from fairserver.rooms.interviews.waitlist import Declined, SlotBooked
from fairserver.socket.kit import Connection, EventRegistry, Payload, Rate

events = EventRegistry()
STUDENTS = frozenset({"student"})
MAX_ID = 2**31 - 1
# A person clicks these: a few a second is plenty, and a take is a database transaction.
OFFER = Rate(per_second=1, burst=5)


class EntryRef(Payload):
    entry_id: int = Field(ge=1, le=MAX_ID, strict=True)


@events.on("slot.take_offer", EntryRef, roles=STUDENTS, rate=OFFER)
async def take_offer(services: Services, conn: Connection, payload: EntryRef) -> SlotBooked:
    return await waitlist.take_offer(services, conn.actor, payload.entry_id)


@events.on("slot.decline_offer", EntryRef, roles=STUDENTS, rate=OFFER)
async def decline_offer(services: Services, conn: Connection, payload: EntryRef) -> Declined:
    return await waitlist.decline_offer(services, conn.actor, payload.entry_id)
