"""Intent agreement events (I5): read one, answer it, countersign it.

The same service functions as the HTTP pages (rooms/interviews/agreements.py), through
the same access function: anyone who may not see an agreement gets not_found, the same
answer as a missing id. Sending and changing stay on the company's HTTP form.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fairserver.rooms.context import Services
from fairserver.rooms.interviews import agreement_views as views
from fairserver.rooms.interviews import agreements as service
from fairserver.rooms.interviews.agreement_views import AgreementView
from fairserver.rooms.interviews.agreements_access import MAX_ID, access_agreement
from fairserver.socket.kit import Connection, EventRegistry, Payload, Rate

events = EventRegistry()
STUDENTS = frozenset({"student"})
SCHOOL = frozenset({"organiser", "admin"})
READ = Rate(per_second=2, burst=10)
# An answer is a deliberate act: a burst of them is a script, not a person.
ANSWER = Rate(per_second=0.5, burst=3)


class AgreementRef(Payload):
    agreement_id: int = Field(ge=1, le=MAX_ID, strict=True)


class Respond(AgreementRef):
    decision: Literal["accept", "decline"]
    text_sha256: str = Field(pattern=views.SHA256)


class Countersign(AgreementRef):
    text_sha256: str = Field(pattern=views.SHA256)


@events.on("agreement.get", AgreementRef, rate=READ)
async def get(services: Services, conn: Connection, payload: AgreementRef) -> AgreementView:
    return views.view_of(await access_agreement(services, conn.actor, payload.agreement_id))


@events.on("agreement.respond", Respond, roles=STUDENTS, rate=ANSWER)
async def respond(services: Services, conn: Connection, payload: Respond) -> AgreementView:
    found = await access_agreement(services, conn.actor, payload.agreement_id)
    accept = payload.decision == "accept"
    return await service.respond(services, conn.actor, found, accept, payload.text_sha256)


@events.on("agreement.countersign", Countersign, roles=SCHOOL, rate=ANSWER)
async def countersign(services: Services, conn: Connection, payload: Countersign) -> AgreementView:
    found = await access_agreement(services, conn.actor, payload.agreement_id)
    return await service.countersign(services, conn.actor, found, payload.text_sha256)
