"""Roster import (F3): a school's CSV of real students, all or nothing.

Line numbers are the ones a spreadsheet shows (the header is line 1), so an
organiser can find each problem in the file they exported. A file with any bad
line imports nothing: half a roster would verify some students and silently
leave the rest out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fairserver.i18n import gettext as _
from fairserver.rooms.errors import ServiceError
from fairserver.store import accounts as account_store
from fairserver.store import organiser as store
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.organiser import NewRosterEntry
from fairserver.text import clean_line

HEADER = ("student_no", "real_name", "major", "degree", "graduation_year")
MAX_ROWS = 50_000
# Column -> longest value, as in tables.roster_entries.
MAX_LENGTH = {"student_no": 32, "real_name": 100, "major": 100}
DEGREES = frozenset(t.DEGREES)


@dataclass(frozen=True)
class Problem:
    line: int  # 0 for the file as a whole
    message: str


@dataclass(frozen=True)
class Imported:
    rows: int
    newly_verified: int


class RosterRejected(ServiceError):
    """The file was refused; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("roster.rejected", f"{len(problems)} problem(s)")
        self.problems = problems


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig drops the byte-order mark that Excel puts before "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterRejected(
            [Problem(0, _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."))]
        ) from None


def _check_header(cells: list[str]) -> None:
    found = tuple(clean_line(cell).lower() for cell in cells)
    if found != HEADER:
        message = _("The first line must be exactly: %(header)s") % {"header": ",".join(HEADER)}
        raise RosterRejected([Problem(1, message)])


def _year(value: str) -> tuple[int | None, str | None]:
    try:
        year = int(value)
    except ValueError:
        return None, _("graduation_year must be a year such as 2027.")
    if not 1990 <= year <= 2100:
        return None, _("graduation_year must be between 1990 and 2100.")
    return year, None


def _parse_row(cells: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The row's values by column name, as read so far, and what is wrong with it."""
    if len(cells) != len(HEADER):
        return {}, [_("Expected %(n)d fields, found %(found)d.") % {"n": 5, "found": len(cells)}]
    row: dict[str, Any] = {}
    reasons: list[str] = []
    for name, raw in zip(HEADER, cells, strict=True):
        value = clean_line(raw)
        if not value:
            reasons.append(_("%(field)s is empty.") % {"field": name})
        elif name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
            reasons.append(
                _("%(field)s is longer than %(n)d characters.")
                % {"field": name, "n": MAX_LENGTH[name]}
            )
        row[name] = value
    if row["degree"] and row["degree"].lower() not in DEGREES:
        reasons.append(_("degree must be one of: %(choices)s.") % {"choices": ", ".join(t.DEGREES)})
    row["degree"] = row["degree"].lower()
    if row["graduation_year"]:
        row["graduation_year"], reason = _year(row["graduation_year"])
        reasons.extend([reason] if reason else [])
    return row, reasons


def parse_roster(data: bytes) -> list[NewRosterEntry]:
    """Every row of a valid roster file; RosterRejected listing every bad line otherwise."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        return _read_rows(reader)
    except csv.Error as exc:
        message = _("The file is not valid CSV: %(reason)s") % {"reason": str(exc)}
        raise RosterRejected([Problem(0, message)]) from None


def _read_rows(reader: Any) -> list[NewRosterEntry]:
    header = next(reader, None)
    if header is None:
        raise RosterRejected([Problem(0, _("The file is empty."))])
    _check_header(header)
    rows: list[NewRosterEntry] = []
    problems: list[Problem] = []
    first_line_of: dict[str, int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets often leave at the end
        if len(rows) + len(problems) >= MAX_ROWS:
            message = _("The file has more than %(n)s students. Split it into smaller files.")
            raise RosterRejected([Problem(0, message % {"n": f"{MAX_ROWS:,}"})])
        row, reasons = _parse_row(cells)
        number = row.get("student_no")
        if number and number in first_line_of:
            reasons.append(
                _("Student number %(no)s is already on line %(line)d.")
                % {"no": number, "line": first_line_of[number]}
            )
        elif number:
            first_line_of[number] = line
        if reasons:
            problems.append(Problem(line, " ".join(reasons)))
        else:
            rows.append(NewRosterEntry(**row))
    if problems:
        raise RosterRejected(problems)
    if not rows:
        raise RosterRejected([Problem(0, _("The file has no students after its header."))])
    return rows


async def import_roster(db: Database, school_id: int, data: bytes) -> Imported:
    """Upserts the school's roster and verifies the students it now matches, atomically."""
    rows = parse_roster(data)
    async with db.begin() as conn:
        await store.upsert_roster(conn, school_id, rows)
        verified = await account_store.verify_matching_profiles(conn, school_id)
    return Imported(rows=len(rows), newly_verified=verified)
