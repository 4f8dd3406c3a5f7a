"""Accounts: student registration, log-in, profile and language."""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from fairserver.auth import Passwords
from fairserver.clock import utcnow
from fairserver.i18n import gettext as _
from fairserver.rooms.errors import Refused
from fairserver.rows import ProfileRow, SchoolRow
from fairserver.store import accounts as store
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.text import Line, Text

Degree = Literal["secondary", "diploma", "bachelor", "master", "doctorate"]


def _email(value: str) -> str:
    value = value.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ValueError(_("Enter a valid e-mail address."))
    return value


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginForm(Form):
    email: Email
    password: str = Field(min_length=1, max_length=200)
    next: str = Field(default="", max_length=500)


class ProfileFields(Form):
    real_name: Line = Field(min_length=1, max_length=100)
    major: Line = Field(min_length=1, max_length=100)
    degree: Degree
    graduation_year: int = Field(ge=1990, le=2100)
    phone: Line = Field(default="", max_length=32)
    resume: Text = Field(default="", max_length=20000)


class RegisterForm(ProfileFields):
    email: Email
    password: str = Field(min_length=10, max_length=200)
    display_name: Line = Field(min_length=1, max_length=100)
    school: str = Field(min_length=1, max_length=64)
    student_no: Line = Field(min_length=1, max_length=32)


class ProfileForm(ProfileFields):
    display_name: Line = Field(min_length=1, max_length=100)


async def register_student(db: Database, passwords: Passwords, form: RegisterForm) -> int:
    password_hash = await passwords.hash(form.password)
    async with db.begin() as conn:
        school = (
            await conn.execute(
                sa.select(t.schools.c.id).where(
                    t.schools.c.slug == form.school, t.schools.c.enrols_students
                )
            )
        ).scalar()
        if school is None:
            raise Refused(
                "school", _("Choose your school from the list."), code="account.unknown_school"
            )
        if await store.user_by_email(conn, form.email) is not None:
            raise Refused(
                "email",
                _("An account with this e-mail already exists."),
                code="account.email_taken",
            )
        taken = (
            await conn.execute(
                sa.select(t.student_profiles.c.user_id).where(
                    t.student_profiles.c.school_id == school,
                    t.student_profiles.c.student_no == form.student_no,
                )
            )
        ).scalar()
        if taken is not None:
            raise Refused(
                "student_no",
                _("This student number is already registered."),
                code="account.student_no_taken",
            )
        try:
            user_id = await store.insert_user(
                conn,
                email=form.email,
                password_hash=password_hash,
                display_name=form.display_name,
                role="student",
                school_id=school,
            )
            await store.add_profile(
                conn,
                user_id,
                store.NewProfile(
                    school_id=school,
                    student_no=form.student_no,
                    real_name=form.real_name,
                    major=form.major,
                    degree=form.degree,
                    graduation_year=form.graduation_year,
                    phone=form.phone,
                    resume=form.resume,
                ),
            )
        except IntegrityError as exc:  # a concurrent registration won the race
            raise Refused(
                "email",
                _("An account with this e-mail already exists."),
                code="account.email_taken",
            ) from exc
    return user_id


async def authenticate(db: Database, passwords: Passwords, email: str, password: str) -> int | None:
    async with db.connect() as conn:
        user = await store.user_by_email(conn, email)
    active = user is not None and user.disabled_at is None
    stored = user.password_hash if user is not None and active else None
    if not await passwords.verify(stored, password) or user is None:
        return None
    return user.id


async def update_profile(db: Database, user_id: int, form: ProfileForm) -> bool:
    """Saves the profile. Changing the real name re-checks the roster. Returns verified."""
    async with db.begin() as conn:
        await conn.execute(
            t.users.update().where(t.users.c.id == user_id).values(display_name=form.display_name)
        )
        current = await store.profile(conn, user_id)
        if current is None:
            return False
        fields = form.model_dump(exclude={"display_name"})
        still_verified = current.verified_at is not None and current.real_name == form.real_name
        if not still_verified:
            matched = await store.roster_match(
                conn, current.school_id, current.student_no, form.real_name
            )
            fields["verified_at"] = utcnow() if matched else None
        await conn.execute(
            t.student_profiles.update()
            .where(t.student_profiles.c.user_id == user_id)
            .values(**fields)
        )
        return bool(still_verified or fields.get("verified_at"))


async def set_locale(db: Database, user_id: int, locale: str) -> None:
    async with db.begin() as conn:
        await conn.execute(t.users.update().where(t.users.c.id == user_id).values(locale=locale))


async def schools(db: Database) -> list[SchoolRow]:
    """Every school and organising body, for the lists a form chooses from."""
    async with db.connect() as conn:
        return await store.schools(conn)


async def enrolling_schools(db: Database) -> list[SchoolRow]:
    """The schools a student may register with (not the employment service)."""
    return [s for s in await schools(db) if s.enrols_students]


async def profile(db: Database, user_id: int) -> ProfileRow | None:
    """A student's profile; None for anyone else."""
    async with db.connect() as conn:
        return await store.profile(conn, user_id)
