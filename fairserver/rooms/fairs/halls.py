"""What a fair shows once the caller may see it (rooms/fairs/access.py): its halls, its
booths and its school."""

from __future__ import annotations

from dataclasses import dataclass

from fairserver.permissions import FairAccess
from fairserver.rooms.context import Services, database_of
from fairserver.rows import BoothCard, HallRow, SchoolRow
from fairserver.store import fairs as store
from fairserver.store.db import Database


@dataclass(frozen=True)
class Lobby:
    halls: list[HallRow]
    booths: list[BoothCard]
    school: SchoolRow | None


async def lobby(source: Database | Services, access: FairAccess) -> Lobby:
    async with database_of(source).connect() as conn:
        return Lobby(
            halls=await store.halls(conn, access.id),
            booths=await store.booth_list(conn, access.id),
            school=await store.school(conn, access.school_id),
        )


async def halls(source: Database | Services, fair_id: int) -> list[HallRow]:
    """The fair's halls, in the order the organiser gave them."""
    async with database_of(source).connect() as conn:
        return await store.halls(conn, fair_id)


async def hall(source: Database | Services, fair_id: int, kind: str) -> HallRow | None:
    return next((h for h in await halls(source, fair_id) if h.kind == kind), None)


async def booths(source: Database | Services, fair_id: int) -> list[BoothCard]:
    """Approved companies' booths, with job counts, by company name."""
    async with database_of(source).connect() as conn:
        return await store.booth_list(conn, fair_id)


async def school(source: Database | Services, school_id: int | None) -> SchoolRow | None:
    if school_id is None:
        return None
    async with database_of(source).connect() as conn:
        return await store.school(conn, school_id)
