"""can() decisions for every role, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fairserver.auth import ANONYMOUS, Actor
from fairserver.permissions import FairAccess, Right, can
from fairserver.rows import FairRow

SCHOOL_A, SCHOOL_B, SCHOOL_C = 1, 2, 3
COMPANY_A, COMPANY_B = 10, 20

ACTORS = {
    "anonymous": ANONYMOUS,
    "student_a": Actor(user_id=1, role="student", school_id=SCHOOL_A, verified=True),
    "unverified_a": Actor(user_id=2, role="student", school_id=SCHOOL_A, verified=False),
    "student_b": Actor(user_id=3, role="student", school_id=SCHOOL_B, verified=True),
    "recruiter_a": Actor(user_id=4, role="recruiter", company_id=COMPANY_A),
    "recruiter_b": Actor(user_id=5, role="recruiter", company_id=COMPANY_B),
    "organiser_a": Actor(user_id=6, role="organiser", school_id=SCHOOL_A),
    "organiser_b": Actor(user_id=7, role="organiser", school_id=SCHOOL_B),
    "admin": Actor(user_id=8, role="admin"),
}


def fair_row(visibility: str, published: bool) -> FairRow:
    when = datetime(2027, 1, 10, tzinfo=UTC)
    return FairRow(
        id=1,
        slug="f",
        school_id=SCHOOL_A,
        title="F",
        description="",
        starts_at=when,
        ends_at=when + timedelta(hours=6),
        timezone="Asia/Shanghai",
        visibility=visibility,
        published=published,
        created_at=when,
        booking_opens_at=None,
        booking_closes_at=None,
    )


def fair(visibility: str, published: bool = True, schools: tuple[int, ...] = ()) -> FairAccess:
    return FairAccess(
        fair=fair_row(visibility, published),
        school_ids=frozenset({SCHOOL_A, *schools}),
        companies={COMPANY_A: "approved"},
    )


def who(right: Right, obj: object) -> set[str]:
    return {name for name, actor in ACTORS.items() if can(actor, right, obj)}


def test_campus_fair_is_for_its_verified_students_and_staff() -> None:
    assert who(Right.FAIR_VIEW, fair("campus")) == {
        "student_a",
        "recruiter_a",
        "organiser_a",
        "admin",
    }


def test_multi_school_fair_admits_listed_schools() -> None:
    assert who(Right.FAIR_VIEW, fair("multi", schools=(SCHOOL_B,))) == {
        "student_a",
        "student_b",
        "recruiter_a",
        "organiser_a",
        "organiser_b",
        "admin",
    }


def test_open_fair_is_visible_to_all() -> None:
    assert who(Right.FAIR_VIEW, fair("open")) == set(ACTORS)


def test_draft_fair_only_for_its_organisers() -> None:
    assert who(Right.FAIR_VIEW, fair("open", published=False)) == {"organiser_a", "admin"}


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [("campus", {"student_a"}), ("open", {"student_a", "unverified_a", "student_b"})],
)
def test_only_students_join(visibility: str, expected: set[str]) -> None:
    assert who(Right.FAIR_JOIN, fair(visibility)) == expected


def test_manage_fair() -> None:
    assert who(Right.FAIR_MANAGE, fair("campus")) == {"organiser_a", "admin"}


def test_edit_booth_only_own_company() -> None:
    booth = {"id": 5, "company_id": COMPANY_A}
    assert who(Right.BOOTH_EDIT, (fair("campus"), booth["company_id"])) == {"recruiter_a", "admin"}


def test_booth_of_unapproved_company_is_hidden_from_visitors() -> None:
    access = FairAccess(
        fair=fair_row("open", True),
        school_ids=frozenset({SCHOOL_A}),
        companies={COMPANY_B: "applied"},
    )
    booth = {"id": 6, "company_id": COMPANY_B}
    assert who(Right.BOOTH_VIEW, (access, booth["company_id"])) == {
        "recruiter_b",
        "organiser_a",
        "admin",
    }


def test_roster_import_only_own_school() -> None:
    assert who(Right.ROSTER_IMPORT, SCHOOL_A) == {"organiser_a", "admin"}


def test_apply_only_recruiters_not_already_in() -> None:
    assert who(Right.FAIR_APPLY, fair("open")) == {"recruiter_b"}


def test_hiring_records_only_own_company_recruiters() -> None:
    assert who(Right.COMPANY_HIRE, COMPANY_A) == {"recruiter_a"}
    assert who(Right.COMPANY_HIRE, COMPANY_B) == {"recruiter_b"}
    assert who(Right.COMPANY_HIRE, None) == set()
