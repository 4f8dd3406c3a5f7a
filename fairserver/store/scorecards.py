"""SQL for I4: a company's scorecard criteria, each interviewer's ratings, private notes,
and an interview's outcome and its release to the student.

Races are settled here: one scorecard row per (interview, author, criterion) is an
upsert, a release is a conditional UPDATE on the outcome the releaser saw, and a
criterion's name is unique per company.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, fetch_one_as

sc, sr, nt, iv, u = (
    t.score_criteria,
    t.interview_scores,
    t.interview_notes,
    t.interviews,
    t.users,
)


@dataclass(frozen=True, slots=True)
class CriterionRow:
    id: int
    company_id: int
    name: str
    scale: int
    position: int
    archived_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    author_id: int
    author_name: str
    criterion_id: int
    rating: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    author_id: int
    author_name: str
    body: str
    created_at: datetime


# --- criteria ----------------------------------------------------------------------------


async def criteria(
    conn: AsyncConnection, company_id: int, *, archived: bool = False
) -> list[CriterionRow]:
    """The company's active criteria in their order (with ``archived``: all of them)."""
    stmt = sa.select(
        sc.c.id, sc.c.company_id, sc.c.name, sc.c.scale, sc.c.position, sc.c.archived_at
    ).where(sc.c.company_id == company_id)
    if not archived:
        stmt = stmt.where(sc.c.archived_at.is_(None))
    stmt = stmt.order_by(sc.c.archived_at.is_not(None), sc.c.position, sc.c.id)
    return await fetch_all_as(conn, stmt, CriterionRow)


async def add_criterion(
    conn: AsyncConnection, company_id: int, name: str, scale: int, at: datetime
) -> int:
    """Last in the order. A name the company already has fails on its unique constraint."""
    last = await conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(sc.c.position), -1)).where(
            sc.c.company_id == company_id
        )
    )
    result = await conn.execute(
        sc.insert()
        .values(
            company_id=company_id,
            name=name,
            scale=scale,
            position=int(last.scalar_one()) + 1,
            created_at=at,
        )
        .returning(sc.c.id)
    )
    return int(result.scalar_one())


async def set_positions(conn: AsyncConnection, company_id: int, ordered: list[int]) -> None:
    for position, criterion_id in enumerate(ordered):
        await conn.execute(
            sc.update()
            .where(sc.c.id == criterion_id, sc.c.company_id == company_id)
            .values(position=position)
        )


async def archive_criterion(
    conn: AsyncConnection, company_id: int, criterion_id: int, at: datetime
) -> bool:
    """False when it is not the company's or was archived already."""
    result = await conn.execute(
        sc.update()
        .where(sc.c.id == criterion_id, sc.c.company_id == company_id, sc.c.archived_at.is_(None))
        .values(archived_at=at)
    )
    return result.rowcount == 1


# --- scores ------------------------------------------------------------------------------


async def scores(conn: AsyncConnection, interview_id: int) -> list[ScoreRow]:
    stmt = (
        sa.select(
            sr.c.author_id,
            u.c.display_name.label("author_name"),
            sr.c.criterion_id,
            sr.c.rating,
            sr.c.updated_at,
        )
        .join(u, u.c.id == sr.c.author_id)
        .where(sr.c.interview_id == interview_id)
        .order_by(u.c.display_name, sr.c.author_id, sr.c.criterion_id)
    )
    return await fetch_all_as(conn, stmt, ScoreRow)


async def save_scores(
    conn: AsyncConnection,
    interview_id: int,
    author_id: int,
    ratings: Mapping[int, int],
    clear: list[int],
    at: datetime,
) -> None:
    """Upserts the author's ratings (two tabs saving at once leave one row per criterion)
    and deletes their ratings for the criteria in ``clear``."""
    if clear:
        await conn.execute(
            sr.delete().where(
                sr.c.interview_id == interview_id,
                sr.c.author_id == author_id,
                sr.c.criterion_id.in_(clear),
            )
        )
    if not ratings:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(sr).values(
        [
            {
                "interview_id": interview_id,
                "author_id": author_id,
                "criterion_id": criterion_id,
                "rating": rating,
                "updated_at": at,
            }
            for criterion_id, rating in sorted(ratings.items())
        ]
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[sr.c.interview_id, sr.c.author_id, sr.c.criterion_id],
            set_={"rating": stmt.excluded.rating, "updated_at": stmt.excluded.updated_at},
        )
    )


# --- notes -------------------------------------------------------------------------------


async def notes(conn: AsyncConnection, interview_id: int) -> list[NoteRow]:
    """Oldest first: the panel reads them as a log."""
    stmt = (
        sa.select(
            nt.c.id,
            nt.c.author_id,
            u.c.display_name.label("author_name"),
            nt.c.body,
            nt.c.created_at,
        )
        .join(u, u.c.id == nt.c.author_id)
        .where(nt.c.interview_id == interview_id)
        .order_by(nt.c.id)
    )
    return await fetch_all_as(conn, stmt, NoteRow)


async def add_note(
    conn: AsyncConnection, interview_id: int, author_id: int, body: str, at: datetime
) -> int:
    result = await conn.execute(
        nt.insert()
        .values(interview_id=interview_id, author_id=author_id, body=body, created_at=at)
        .returning(nt.c.id)
    )
    return int(result.scalar_one())


# --- outcome and release -----------------------------------------------------------------


async def release(conn: AsyncConnection, interview_id: int, outcome: str, at: datetime) -> bool:
    """Releases the outcome the releaser saw; False when it was released already or has
    changed meanwhile (a colleague set another)."""
    result = await conn.execute(
        iv.update()
        .where(iv.c.id == interview_id, iv.c.outcome == outcome, iv.c.released_at.is_(None))
        .values(released_at=at)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    outcome: str | None
    outcome_at: datetime | None
    outcome_by: int | None
    released_at: datetime | None
    student_message: str


async def outcome(conn: AsyncConnection, interview_id: int) -> OutcomeRow | None:
    stmt = sa.select(
        iv.c.outcome, iv.c.outcome_at, iv.c.outcome_by, iv.c.released_at, iv.c.student_message
    ).where(iv.c.id == interview_id)
    return await fetch_one_as(conn, stmt, OutcomeRow)


async def fair_timezone(conn: AsyncConnection, fair_id: int) -> str:
    found = await conn.execute(sa.select(t.fairs.c.timezone).where(t.fairs.c.id == fair_id))
    return str(found.scalar_one())
