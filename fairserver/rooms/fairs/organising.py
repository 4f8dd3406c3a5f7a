"""Organising fairs (F1) and deciding who exhibits (F2)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BeforeValidator, Field
from sqlalchemy.exc import IntegrityError

from fairserver.i18n import gettext as _
from fairserver.rooms.accounts.registration import Form
from fairserver.rooms.errors import Refused
from fairserver.rows import CompanyBrief, FairRow, HallRow, SchoolRow
from fairserver.store import fairs as fair_store
from fairserver.store import organiser as store
from fairserver.store.db import Database
from fairserver.store.fairs import FairSettings
from fairserver.store.organiser import FairListRow, ParticipantRow, StudentRow
from fairserver.text import Line, Text

HALL_KINDS = ("booth", "briefing", "policy", "registration")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Offered in the form's suggestion list; any IANA name is accepted.
COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


# "new" is /organiser/fairs/new: a fair with that address could not be managed.
RESERVED_SLUGS = frozenset({"new"})


def _slug(value: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    if not 3 <= len(value) <= 64 or not set(value) <= allowed:
        raise ValueError(_("Use 3 to 64 lowercase letters, digits and hyphens."))
    if value in RESERVED_SLUGS:
        raise ValueError(_("This address is reserved: choose another."))
    return value


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError(_("Choose a time zone such as Asia/Shanghai."))
    return value


def _local_datetime(value: object) -> object:
    """A browser's datetime-local value: a wall-clock time without a zone."""
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a date and time.")) from None
    if parsed.tzinfo is not None:
        raise ValueError(_("Enter a date and time."))
    if not 2000 <= parsed.year <= 2100:
        # Also keeps year 1 or 9999 from overflowing when moved to UTC.
        raise ValueError(_("Enter a date between 2000 and 2100."))
    return parsed


def _optional_id(value: object) -> object:
    """An unchosen select sends ""; that is no choice, not a bad number."""
    return None if value == "" else value


def _checkbox(value: object) -> bool:
    """A ticked box sends a value; an unticked one sends nothing (or, from scripts, "")."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "on", "true", "yes"}


Checkbox = Annotated[bool, BeforeValidator(_checkbox)]
OptionalId = Annotated[int | None, BeforeValidator(_optional_id)]
Slug = Annotated[str, AfterValidator(_slug)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
HallTitle = Annotated[Line, Field(max_length=200)]


class FairForm(Form):
    slug: Slug
    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=20000)
    starts_at: LocalDateTime
    ends_at: LocalDateTime
    timezone: TimeZoneName = DEFAULT_TIMEZONE
    visibility: Literal["campus", "multi", "open"]
    published: Checkbox = False
    # Only an admin chooses the school; an organiser's fair is their school's.
    school_id: OptionalId = None
    schools: list[int] = Field(default_factory=list, max_length=1000)
    hall_booth: Checkbox = False
    hall_briefing: Checkbox = False
    hall_policy: Checkbox = False
    hall_registration: Checkbox = False
    hall_booth_title: HallTitle = ""
    hall_briefing_title: HallTitle = ""
    hall_policy_title: HallTitle = ""
    hall_registration_title: HallTitle = ""

    def window(self) -> tuple[datetime, datetime]:
        """Start and end as aware datetimes in the fair's time zone."""
        zone = ZoneInfo(self.timezone)
        return self.starts_at.replace(tzinfo=zone), self.ends_at.replace(tzinfo=zone)

    def hall_titles(self) -> dict[str, str]:
        data = self.model_dump()
        return {kind: data[f"hall_{kind}_title"] for kind in HALL_KINDS if data[f"hall_{kind}"]}

    def problems(self) -> dict[str, str]:
        """What the fields are fine alone but wrong together."""
        errors: dict[str, str] = {}
        starts, ends = self.window()
        if ends <= starts:
            errors["ends_at"] = _("The end must be after the start.")
        data = self.model_dump()
        for kind in HALL_KINDS:
            if data[f"hall_{kind}"] and not data[f"hall_{kind}_title"]:
                errors[f"hall_{kind}_title"] = _("Give the hall a title.")
        if not self.hall_titles():
            errors["halls"] = _("Choose at least one hall.")
        if self.visibility == "multi" and not self.schools:
            errors["schools"] = _("Choose the other schools whose students may enter.")
        return errors


def form_values(fair: FairRow, halls: list[HallRow]) -> dict[str, Any]:
    """An existing fair as the edit form's values (local times in the fair's zone)."""
    zone = ZoneInfo(fair.timezone)
    values: dict[str, Any] = {
        "slug": fair.slug,
        "title": fair.title,
        "description": fair.description,
        "timezone": fair.timezone,
        "visibility": fair.visibility,
    }
    values["starts_at"] = fair.starts_at.astimezone(zone).strftime(LOCAL_FORMAT)
    values["ends_at"] = fair.ends_at.astimezone(zone).strftime(LOCAL_FORMAT)
    values["published"] = "1" if fair.published else ""
    values["school_id"] = str(fair.school_id)
    for hall in halls:
        values[f"hall_{hall.kind}"] = "1"
        values[f"hall_{hall.kind}_title"] = hall.title
    return values


def _fair_row(form: FairForm, school_id: int) -> FairSettings:
    starts, ends = form.window()
    return FairSettings(
        slug=form.slug,
        school_id=school_id,
        title=form.title,
        description=form.description,
        starts_at=starts,
        ends_at=ends,
        timezone=form.timezone,
        visibility=form.visibility,
        published=form.published,
    )


def _guest_schools(form: FairForm, school_id: int, known: set[int]) -> set[int]:
    if form.visibility != "multi":
        # Only multi-school fairs have guests: a campus fair must not leak to a
        # school that was ticked before the visibility changed.
        return set()
    chosen = set(form.schools)
    if not chosen <= known:
        raise Refused("schools", _("Choose schools from the list."), code="fair.unknown_school")
    guests = chosen - {school_id}
    if not guests:
        raise Refused(
            "schools",
            _("Choose the other schools whose students may enter."),
            code="fair.schools_required",
        )
    return guests


async def save_fair(
    db: Database, form: FairForm, school_id: int, fair_id: int | None = None
) -> str:
    """Creates the fair (fair_id None) or replaces its settings; returns its slug."""
    try:
        async with db.begin() as conn:
            known = await store.school_ids(conn)
            if school_id not in known:
                raise Refused(
                    "school_id", _("Choose a school from the list."), code="fair.unknown_school"
                )
            guests = _guest_schools(form, school_id, known)
            if await store.slug_taken(conn, form.slug, fair_id):
                raise Refused(
                    "slug", _("Another fair already uses this address."), code="fair.slug_taken"
                )
            row = _fair_row(form, school_id)
            if fair_id is None:
                await fair_store.add_fair(conn, row, form.hall_titles(), guests)
            else:
                await store.update_fair(conn, fair_id, row)
                await fair_store.replace_halls(conn, fair_id, form.hall_titles())
                await fair_store.replace_schools(conn, fair_id, guests)
    except IntegrityError as exc:  # a concurrent save took the slug first
        raise Refused(
            "slug", _("Another fair already uses this address."), code="fair.slug_taken"
        ) from exc
    return form.slug


# What an organiser may turn a participation into, from which states. Accepting
# an invitation is the company's move, not the organiser's.
DECISIONS: dict[str, tuple[str, frozenset[str]]] = {
    "approve": ("approved", frozenset({"applied", "rejected"})),
    "reject": ("rejected", frozenset({"applied", "approved", "invited"})),
}
INVITABLE = frozenset({None, "withdrawn"})


class ParticipationAction(Form):
    action: Literal["approve", "reject"]


class InviteForm(Form):
    company_id: int
    message: Line = Field(default="", max_length=1000)


async def decide(db: Database, fair_id: int, company_id: int, action: str) -> str:
    """Approves (opening the booth) or rejects a company; returns the new status."""
    new_status, allowed_from = DECISIONS[action]
    async with db.begin() as conn:
        current = await fair_store.participation_status(conn, fair_id, company_id)
        if current is None:
            raise Refused(
                "company",
                _("This company does not take part in the fair."),
                code="fair.not_participating",
            )
        if current not in allowed_from:
            raise Refused(
                "company",
                _("This company's participation cannot change that way."),
                code="fair.participation_unchanged",
            )
        await fair_store.set_participation(conn, fair_id, company_id, new_status)
    return new_status


async def invite(db: Database, fair_id: int, form: InviteForm) -> None:
    async with db.begin() as conn:
        if not await store.company_exists(conn, form.company_id):
            raise Refused(
                "company_id", _("Choose a company from the list."), code="fair.unknown_company"
            )
        current = await fair_store.participation_status(conn, fair_id, form.company_id)
        if current not in INVITABLE:
            raise Refused(
                "company_id",
                _("This company already takes part in the fair."),
                code="fair.already_participating",
            )
        await fair_store.set_participation(
            conn, fair_id, form.company_id, "invited", message=form.message
        )


async def invitable_companies(db: Database, fair_id: int) -> list[CompanyBrief]:
    async with db.connect() as conn:
        every = await store.companies(conn)
        taking_part = {p.company_id: p.status for p in await store.participants(conn, fair_id)}
    return [c for c in every if taking_part.get(c.id) in INVITABLE]


# What the organiser pages show ------------------------------------------------------------


async def fairs_of(db: Database, school_id: int | None) -> list[FairListRow]:
    """The fairs of a school; every fair for None (an admin)."""
    async with db.connect() as conn:
        return await store.fairs_of(conn, school_id)


async def participants(db: Database, fair_id: int) -> list[ParticipantRow]:
    async with db.connect() as conn:
        return await store.participants(conn, fair_id)


async def school_by_id(db: Database, school_id: int) -> SchoolRow | None:
    async with db.connect() as conn:
        return await store.school_by_id(conn, school_id)


async def students(
    db: Database, school_id: int, verified: bool | None, limit: int, offset: int
) -> tuple[list[StudentRow], int]:
    """One page of a school's active students, by student number, and the total count."""
    async with db.connect() as conn:
        return await store.students(conn, school_id, verified, limit, offset)
