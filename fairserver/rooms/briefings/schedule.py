"""Briefings (F4): scheduling rules, the agenda by day, and iCalendar export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from icalendar import Calendar, Event
from markdown_it import MarkdownIt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.i18n import current_locale
from fairserver.i18n import gettext as _
from fairserver.permissions import FairAccess
from fairserver.rooms.errors import FormRefused
from fairserver.rows import BriefingRow, FairRow
from fairserver.store import briefings as store
from fairserver.store.briefings import BriefingChange, CompanyChoice, NewBriefing, RecruiterRow
from fairserver.store.db import Database
from fairserver.text import Line, Text, clean

# P1: up to 4 co-presenters share one stage.
MAX_PRESENTERS = 4
MIN_MINUTES, MAX_MINUTES = 15, 480
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
PRODID = "-//fairserver//briefing agenda//EN"
_markdown = MarkdownIt("commonmark", {"html": False})


def N_(message: str) -> str:  # the name Babel's extractor looks for
    """Marks a message for translation; kit.validation_messages translates it when shown."""
    return message


def _company_id(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(N_("Choose a company from the list.")) from None


def _presenter_ids(value: object) -> list[int]:
    items = value if isinstance(value, list) else [value]
    ids: list[int] = []
    for item in items:
        try:
            number = int(str(item).strip())
        except ValueError:
            raise ValueError(N_("Choose presenters from the list.")) from None
        if number not in ids:
            ids.append(number)
    if not ids:
        raise ValueError(N_("Choose at least one presenter."))
    if len(ids) > MAX_PRESENTERS:
        raise ValueError(N_("A stage holds at most 4 presenters."))
    return ids


def _minutes(value: object) -> int:
    message = N_("Enter a duration from 15 to 480 minutes.")
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise ValueError(message) from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValueError(message)
    return minutes


def _local_time(value: object) -> datetime:
    """A wall-clock time in the fair's timezone, as a datetime-local field sends it."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(N_("Enter the start date and time.")) from None
    # Far-off years are typos, and near datetime.min/max the UTC conversion overflows.
    if parsed.tzinfo is not None or not 1970 <= parsed.year <= 2200:
        raise ValueError(N_("Enter the start date and time."))
    return parsed.replace(second=0, microsecond=0)


def _status(value: object) -> str:
    if value not in {"scheduled", "cancelled"}:
        raise ValueError(N_("Choose scheduled or cancelled."))
    return str(value)


class BriefingForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Chosen by organisers and admins; a recruiter's own company is used instead.
    company: Annotated[int | None, BeforeValidator(_company_id)] = None
    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=5000)
    start: Annotated[datetime, BeforeValidator(_local_time)]
    duration: Annotated[int, BeforeValidator(_minutes)]
    presenters: Annotated[list[int], BeforeValidator(_presenter_ids)]
    status: Annotated[Literal["scheduled", "cancelled"], BeforeValidator(_status)] = "scheduled"


class ScheduleRefused(FormRefused):
    """The request is well-formed but breaks a scheduling rule: messages by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("briefing.schedule_refused", errors)


def utc_window(form: BriefingForm, timezone: str) -> tuple[datetime, datetime]:
    starts = form.start.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    return starts, starts + timedelta(minutes=form.duration)


def _window_message(fair: FairRow) -> str:
    zone = ZoneInfo(fair.timezone)
    locale = current_locale()
    return _(
        "The briefing must start and end during the fair: from %(start)s to %(end)s (%(tz)s)."
    ) % {
        "start": format_datetime(fair.starts_at, "short", tzinfo=zone, locale=locale),
        "end": format_datetime(fair.ends_at, "short", tzinfo=zone, locale=locale),
        "tz": fair.timezone,
    }


async def _refusals(
    conn: AsyncConnection, fa: FairAccess, company_id: int | None, form: BriefingForm
) -> dict[str, str]:
    errors: dict[str, str] = {}
    starts, ends = utc_window(form, fa.fair.timezone)
    if not (fa.fair.starts_at <= starts and ends <= fa.fair.ends_at):
        errors["start"] = _window_message(fa.fair)
    if company_id is None or fa.company_status(company_id) != "approved":
        errors["company"] = _("Choose a company taking part in this fair.")
        return errors
    recruiters = {r.id for r in await store.company_recruiters(conn, [company_id])}
    if not set(form.presenters) <= recruiters:
        errors["presenters"] = _("Presenters must be recruiters of the briefing's company.")
    return errors


def _new_briefing(fa: FairAccess, company_id: int, form: BriefingForm, status: str) -> NewBriefing:
    starts, ends = utc_window(form, fa.fair.timezone)
    return NewBriefing(
        company_id=company_id,
        title=form.title,
        description=form.description,
        starts_at=starts,
        ends_at=ends,
        status=status,
    )


async def schedule_briefing(
    db: Database, fa: FairAccess, company_id: int | None, form: BriefingForm
) -> int:
    """A new briefing, always 'scheduled'. Raises ScheduleRefused."""
    async with db.begin() as conn:
        errors = await _refusals(conn, fa, company_id, form)
        if errors or company_id is None:
            raise ScheduleRefused(errors)
        new = _new_briefing(fa, company_id, form, "scheduled")
        return await store.insert_briefing(conn, fa.id, new, form.presenters)


async def change_briefing(
    db: Database,
    fa: FairAccess,
    briefing: BriefingRow,
    company_id: int | None,
    form: BriefingForm,
) -> None:
    """Reschedules, edits or cancels a briefing that has not started. Raises ScheduleRefused."""
    if briefing.status in {"live", "ended"}:
        raise ScheduleRefused(
            {"form": _("This briefing has started; it can no longer be changed.")}
        )
    async with db.begin() as conn:
        errors = await _refusals(conn, fa, company_id, form)
        if errors or company_id is None:
            raise ScheduleRefused(errors)
        change = BriefingChange(**asdict(_new_briefing(fa, company_id, form, form.status)))
        await store.update_briefing(conn, briefing.id, change, form.presenters)


async def form_choices(
    db: Database, fa: FairAccess, own_company: int | None
) -> tuple[list[CompanyChoice], list[RecruiterRow]]:
    """(companies, their recruiters) a briefing may be scheduled for: the fair's approved
    companies, or only the caller's own when a recruiter schedules."""
    async with db.connect() as conn:
        companies = await store.approved_companies(conn, fa.id)
        if own_company is not None:
            companies = [c for c in companies if c.id == own_company]
        recruiters = await store.company_recruiters(conn, [c.id for c in companies])
    return companies, recruiters


def form_values(briefing: BriefingRow, timezone: str) -> dict[str, Any]:
    """The edit form's fields (form values, as the browser sends them), from a stored briefing."""
    starts = briefing.starts_at.astimezone(ZoneInfo(timezone))
    minutes = int((briefing.ends_at - briefing.starts_at).total_seconds() // 60)
    return {
        "company": str(briefing.company_id),
        "title": briefing.title,
        "description": briefing.description,
        "start": starts.strftime(LOCAL_INPUT_FORMAT),
        "duration": str(minutes),
        "presenters": [str(p.id) for p in briefing.presenters],
        "status": briefing.status,
    }


def window_inputs(fair: FairRow) -> dict[str, str]:
    """The fair's window as datetime-local bounds (min/max of the start field)."""
    zone = ZoneInfo(fair.timezone)
    last_start = fair.ends_at - timedelta(minutes=MIN_MINUTES)
    return {
        "min": fair.starts_at.astimezone(zone).strftime(LOCAL_INPUT_FORMAT),
        "max": last_start.astimezone(zone).strftime(LOCAL_INPUT_FORMAT),
    }


class Scheduled(Protocol):
    """What the agenda orders briefings by."""

    @property
    def id(self) -> int: ...

    @property
    def starts_at(self) -> datetime: ...


S = TypeVar("S", bound=Scheduled)


def agenda_days(briefings: Iterable[S], timezone: str) -> list[tuple[date, list[S]]]:
    """Briefings grouped by their day in the fair's timezone (not UTC), in time order."""
    zone = ZoneInfo(timezone)
    days: dict[date, list[S]] = {}
    for briefing in sorted(briefings, key=lambda b: (b.starts_at, b.id)):
        days.setdefault(briefing.starts_at.astimezone(zone).date(), []).append(briefing)
    return list(days.items())


def _inline_text(children: list[Any]) -> str:
    parts: list[str] = []
    hrefs: list[str] = []
    for child in children:
        if child.type in {"text", "code_inline", "html_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append("\n")
        elif child.type == "link_open":
            hrefs.append(str(child.attrs.get("href", "")))
        elif child.type == "link_close" and hrefs:
            parts.append(f" ({hrefs.pop()})")
    return "".join(parts)


def plain_text(source: str) -> str:
    """Markdown as readable plain text, for calendar descriptions (no markup, links kept)."""
    blocks: list[str] = []
    bullet = False
    for token in _markdown.parse(clean(source)):
        if token.type == "list_item_open":
            bullet = True
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            blocks.append(f"- {text}" if bullet else text)
            bullet = False
        elif token.type in {"code_block", "fence", "html_block"}:
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block)


def _event(briefing: BriefingRow, url: str, now: datetime) -> Event:
    presenters = ", ".join(p.display_name for p in briefing.presenters)
    description = plain_text(briefing.description)
    if presenters:
        description = f"{description}\n\n{_('Presenters:')} {presenters}".strip()
    event = Event()
    event.add("uid", f"briefing-{briefing.id}@fairserver")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", briefing.starts_at.astimezone(UTC))
    event.add("dtend", briefing.ends_at.astimezone(UTC))
    event.add("summary", f"{briefing.company_name} — {briefing.title}")
    event.add("description", description)
    event.add("url", url)
    event.add("status", "CANCELLED" if briefing.status == "cancelled" else "CONFIRMED")
    return event


def briefing_calendar(
    fair: FairRow,
    briefings: Iterable[BriefingRow],
    page_url: Callable[[int], str],
    now: datetime,
) -> bytes:
    """An RFC 5545 calendar; page_url(briefing_id) gives each briefing's absolute URL."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", fair.title)
    for briefing in briefings:
        calendar.add_component(_event(briefing, page_url(briefing.id), now))
    return bytes(calendar.to_ical())
