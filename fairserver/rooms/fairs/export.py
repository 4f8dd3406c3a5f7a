"""A fair's data as CSV for its organiser: companies, jobs, interest, attendance and
interviews (I6: who came when, for how long, how late).

Every cell goes through text.csv_cell, so that a job titled "=HYPERLINK(...)" stays
text in a spreadsheet. Students of other schools (multi-school and open fairs)
are counted but never named: an organiser sees only their own school's students.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.rooms.errors import NotFound
from fairserver.rooms.interviews import attendance_report
from fairserver.store import fairs as fair_store
from fairserver.store import organiser as store
from fairserver.store.db import Database
from fairserver.text import csv_cell

# The personal columns blanked for students who are not of the fair's school.
PERSONAL = ("student_no", "real_name", "major", "degree", "graduation_year")

Query = Callable[[AsyncConnection, int], Awaitable[list[dict[str, Any]]]]

# kind -> (query, columns). Time columns are given in the fair's time zone.
EXPORTS: dict[str, tuple[Query, tuple[str, ...]]] = {
    "companies": (
        store.export_companies,
        ("company", "company_slug", "status", "message", "created_at", "decided_at", "jobs"),
    ),
    "jobs": (
        store.export_jobs,
        (
            "job_id",
            "company",
            "title",
            "location",
            "salary_min",
            "salary_max",
            "education",
            "headcount",
            "deadline",
            "created_at",
            "interested",
        ),
    ),
    "interest": (
        store.export_interest,
        ("job_id", "job_title", "company", "school", *PERSONAL, "created_at"),
    ),
    "attendance": (
        store.export_attendance,
        (
            "attendance_id",
            "kind",
            "subject_id",
            "role",
            "company",
            "school",
            "student_no",
            "real_name",
            "joined_at",
            "left_at",
            "seconds",
            "close_reason",
        ),
    ),
    # I6: one row per participant of each interview (rooms/interviews/attendance_report.py).
    "interviews": (
        attendance_report.export_rows,
        (
            "interview_id",
            "company",
            "school",
            "student_no",
            "real_name",
            "origin",
            "slot_starts_at",
            "state",
            "outcome",
            "participant_role",
            "participant",
            "first_joined_at",
            "minutes_present",
            "minutes_late",
        ),
    ),
}
EXPORT_KINDS = tuple(EXPORTS)


class UnknownExport(NotFound):
    """No such export kind, or no such fair: the transport's usual not_found."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


def _cell(value: object, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return csv_cell(value)


def _shown(row: dict[str, Any], school_id: int) -> dict[str, Any]:
    """The row as its fair's organiser may see it."""
    shown = dict(row)
    if "student_school_id" in row and row["student_school_id"] != school_id:
        for key in PERSONAL:
            if key in shown:
                shown[key] = None
    if "joined_at" in row:
        left = row.get("left_at")
        shown["seconds"] = None if left is None else int((left - row["joined_at"]).total_seconds())
    return shown


def _write(columns: Sequence[str], rows: Iterable[dict[str, Any]], zone: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column), zone) for column in columns])
    return out.getvalue()


async def export_fair_csv(db: Database, fair_id: int, kind: str) -> str:
    """The fair's `kind` export as CSV text; UnknownExport for a bad kind or fair."""
    if kind not in EXPORTS:
        raise UnknownExport(kind)
    query, columns = EXPORTS[kind]
    async with db.connect() as conn:
        access = await fair_store.fair_access_by_id(conn, fair_id)
        if access is None:
            raise UnknownExport(f"fair {fair_id}")
        rows = await query(conn, fair_id)
    zone = ZoneInfo(str(access.fair.timezone))
    return _write(columns, (_shown(row, access.school_id) for row in rows), zone)


async def export_fair_csv_by_slug(db: Database, slug: str, kind: str) -> str | None:
    """As export_fair_csv, by the fair's address; None when there is no such fair."""
    async with db.connect() as conn:
        access = await fair_store.fair_access(conn, slug)
    if access is None:
        return None
    return await export_fair_csv(db, access.id, kind)
