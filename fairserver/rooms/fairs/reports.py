"""The school's reports (F6): who may see which figures, small groups hidden, and the same
numbers as a page, a chart, CSV and XLSX.

Scope, from the caller:
- an organiser of a school that enrols students sees that school's students at every fair
  they could enter (its own, those that list it, open ones): its employment report. Its
  students are its own to count, so nothing is hidden.
- an organiser of a body that enrols nobody (a regional bureau) sees every student at its
  own fairs; an admin sees every student at every fair. These views cross schools, so a
  group of figures that fewer than five students make up shows as "<5" (SUPPRESSED).

The figures come from store/reports.py in one statement.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from fairserver.auth import Actor
from fairserver.clock import utcnow
from fairserver.i18n import gettext as _
from fairserver.rooms.errors import NotFound, Refused
from fairserver.store import fairs as fair_store
from fairserver.store import reports as store
from fairserver.store.db import Database
from fairserver.store.reports import BY, GROUPS, By, ReportFair, ReportRow
from fairserver.text import clean, csv_cell

# A group of figures that 1 to MIN_GROUP - 1 students make up is hidden in a cross-school
# view: five is the usual floor of the statistics offices that publish such tables.
MIN_GROUP = 5
SUPPRESSED = "<5"
# The bars of one chart: the largest lines, the rest stay in the table.
CHART_BARS = 15

Cell = int | str | None


@dataclass(frozen=True, slots=True)
class Column:
    """A figure as shown: its name in CSV, its heading, how a stored value reads."""

    name: str
    source: str
    divisor: int = 1

    def heading(self) -> str:
        return _headings()[self.name]

    def value(self, row: ReportRow) -> int | None:
        value = getattr(row, self.source)
        if value is None:
            return None
        return round(value / self.divisor) if self.divisor != 1 else int(value)


COLUMNS: tuple[Column, ...] = (
    Column("attendees", "attendees"),
    Column("booth_visits", "booth_visits"),
    Column("briefing_attendances", "briefing_attendances"),
    Column("watch_minutes", "watch_seconds", 60),
    Column("peak_concurrency", "peak_concurrency"),
    Column("questions_asked", "questions_asked"),
    Column("questions_answered", "questions_answered"),
    Column("queue_entries", "queue_entries"),
    Column("wait_p50_seconds", "wait_p50"),
    Column("wait_p90_seconds", "wait_p90"),
    Column("interviews_held", "interviews_held"),
    Column("no_shows", "no_shows"),
    Column("outcomes_released", "outcomes_released"),
    Column("offers", "offers"),
    Column("agreements_signed", "agreements_signed"),
    Column("agreements_countersigned", "agreements_countersigned"),
)
# The charts: one per figure, bars per line.
CHARTS = ("attendees", "watch_minutes", "interviews_held", "agreements_signed")


def _headings() -> dict[str, str]:
    return {
        "attendees": _("Attendees"),
        "booth_visits": _("Booth visits"),
        "briefing_attendances": _("Briefing attendances"),
        "watch_minutes": _("Watch minutes"),
        "peak_concurrency": _("Peak audience"),
        "questions_asked": _("Questions asked"),
        "questions_answered": _("Questions answered"),
        "queue_entries": _("Queue entries"),
        "wait_p50_seconds": _("Wait p50 (s)"),
        "wait_p90_seconds": _("Wait p90 (s)"),
        "interviews_held": _("Interviews held"),
        "no_shows": _("No-shows"),
        "outcomes_released": _("Outcomes released"),
        "offers": _("Offers"),
        "agreements_signed": _("Agreements signed"),
        "agreements_countersigned": _("Countersigned"),
    }


def by_labels() -> dict[str, str]:
    return {"fair": _("Fair"), "company": _("Company"), "major": _("Major")}


# Which group's student count stands behind each stored figure.
_GROUP_OF: dict[str, str] = {
    figure: students for figures, students in GROUPS.values() for figure in figures
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What a caller's reports cover."""

    fairs: list[ReportFair]
    school_id: int | None  # whose students are counted; None: everyone's
    suppress: bool  # hide groups of fewer than MIN_GROUP students
    school_name: str | None


@dataclass(frozen=True, slots=True)
class Line:
    """One line as shown: its label and a cell per column (a number, SUPPRESSED or None)."""

    key: int | str | None
    label: str
    cells: tuple[Cell, ...]
    is_total: bool

    def cell(self, name: str) -> Cell:
        return self.cells[[c.name for c in COLUMNS].index(name)]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    width: float  # share of the largest bar, 0..1


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    heading: str
    bars: list[Bar]
    hidden: int  # lines left out: beyond CHART_BARS, or suppressed


@dataclass(frozen=True, slots=True)
class Report:
    by: By
    fair: ReportFair | None  # the one fair a company or major report covers; None: all
    scope: Scope
    lines: list[Line]
    generated_at: datetime

    @property
    def columns(self) -> tuple[Column, ...]:
        return COLUMNS

    @property
    def total(self) -> Line:
        return self.lines[-1]

    @property
    def body(self) -> list[Line]:
        return self.lines[:-1]

    def charts(self) -> list[Chart]:
        headings = _headings()
        charts = []
        for name in CHARTS:
            shown = [(line.label, line.cell(name)) for line in self.body]
            numbers = sorted(
                ((label, v) for label, v in shown if isinstance(v, int)),
                key=lambda item: -item[1],
            )
            top = numbers[:CHART_BARS]
            largest = max((v for _label, v in top), default=0) or 1
            bars = [Bar(label, value, value / largest) for label, value in top]
            charts.append(Chart(name, headings[name], bars, len(shown) - len(bars)))
        return charts


async def scope_of(db: Database, actor: Actor) -> Scope:
    """The fairs and students ``actor``'s reports cover; NotFound for anyone but staff."""
    async with db.connect() as conn:
        if actor.is_admin:
            return Scope(await store.report_fairs(conn, None, False), None, True, None)
        if actor.role != "organiser" or actor.school_id is None:
            raise NotFound()
        school = await fair_store.school(conn, actor.school_id)
        if school is None:
            raise NotFound()
        if school.enrols_students:
            fairs = await store.report_fairs(conn, school.id, guest=True)
            return Scope(fairs, school.id, False, school.name)
        fairs = await store.report_fairs(conn, school.id, guest=False)
        return Scope(fairs, None, True, school.name)


def parse_by(value: str | None) -> By:
    if value in (None, ""):
        return "fair"
    for by in BY:
        if value == by:
            return by
    raise Refused("by", _("Break the report down by fair, company or major."), "report.by")


def _label(by: By, row: ReportRow) -> str:
    if row.is_total:
        return _("All")
    if by == "major" and not row.key:
        return _("Major not given")
    return str(row.label if row.label is not None else row.key)


def _line(by: By, row: ReportRow, suppress: bool) -> Line:
    hidden = {
        students
        for students in set(_GROUP_OF.values())
        if suppress and 0 < getattr(row, students) < MIN_GROUP
    }
    cells: list[Cell] = []
    for column in COLUMNS:
        if _GROUP_OF[column.source] in hidden:
            cells.append(SUPPRESSED)
        else:
            cells.append(column.value(row))
    return Line(row.key, _label(by, row), tuple(cells), row.is_total)


async def build(db: Database, actor: Actor, by_value: str | None, fair_slug: str | None) -> Report:
    """The report ``actor`` asked for. Refused for a bad breakdown; NotFound for a fair
    outside the caller's scope (the same answer as one that does not exist)."""
    by = parse_by(by_value)
    scope = await scope_of(db, actor)
    fair: ReportFair | None = None
    fair_ids = [f.id for f in scope.fairs]
    if fair_slug:
        fair = next((f for f in scope.fairs if f.slug == fair_slug), None)
        if fair is None:
            raise NotFound()
        fair_ids = [fair.id]
    now = utcnow()
    async with db.connect() as conn:
        rows = await store.report(conn, by, fair_ids, scope.school_id, now)
    lines = [_line(by, row, scope.suppress) for row in rows]
    return Report(by, fair, scope, lines, now)


def _header(report: Report) -> list[str]:
    # Machine-readable names: the same in every language (the labels below them are not).
    return ["key", report.by, *[c.name for c in COLUMNS]]


def _cells(line: Line) -> list[Any]:
    key = "" if line.key is None else line.key
    return [key, line.label, *line.cells]


def as_csv(report: Report) -> str:
    """The report as CSV: one line per key and the total ("All") last; no cell a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(report))
    for line in report.lines:
        writer.writerow([csv_cell(cell) for cell in _cells(line)])
    return out.getvalue()


def as_xlsx(report: Report) -> bytes:
    """The same figures as a workbook: numbers as numbers, headings in the reader's
    language, a bold total, and every text a text, never a formula."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = by_labels()[report.by][:31]
    sheet.append(["", by_labels()[report.by], *[c.heading() for c in COLUMNS]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.lines:
        sheet.append([v if isinstance(v, int) else clean(str(v)) for v in _cells(line)])
    for row in sheet.iter_rows():
        for cell in row:
            # A text starting with '=' is taken for a formula; written as text it shows
            # as typed and never runs.
            if cell.data_type == "f":
                cell.data_type = "s"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(report: Report, extension: str) -> str:
    scope = report.fair.slug if report.fair is not None else "all-fairs"
    return f"report-{scope}-by-{report.by}.{extension}"


def suppressed_any(lines: Sequence[Line]) -> bool:
    return any(SUPPRESSED in line.cells for line in lines)
