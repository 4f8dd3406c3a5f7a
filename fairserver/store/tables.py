"""SQL tables (SQLAlchemy Core). Alembic migrations in store/migrations mirror these.

Times are stored as timezone-aware UTC. Enumerations are short strings checked by
CHECK constraints, so a new value is a migration and never a silent typo.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = UTCDateTime()

ROLES = ("student", "recruiter", "organiser", "admin")
VISIBILITIES = ("campus", "multi", "open")
HALL_KINDS = ("booth", "briefing", "policy", "registration")
PARTICIPATION = ("invited", "applied", "approved", "rejected", "withdrawn")
DEGREES = ("secondary", "diploma", "bachelor", "master", "doctorate")
ATTENDANCE_KINDS = ("fair", "booth", "briefing", "interview")
CLOSE_REASONS = ("leave", "disconnect", "timeout", "shutdown", "crash")
INTERVIEW_STATES = ("scheduled", "waiting", "live", "ended", "cancelled")
OUTCOMES = ("advance", "offer", "reject", "hold", "no_show")
AGREEMENT_STATES = ("sent", "accepted", "declined", "withdrawn", "superseded")
# A slot is open, held for a waitlisted student's offer, booked, or withdrawn by its company.
SLOT_STATES = ("open", "held", "booked", "withdrawn")
WAITLIST_STATES = ("waiting", "offered", "booked", "expired", "left")
APPLICATION_STATES = ("applied", "invited", "withdrawn")
# Who answers an agreement: the student accepts or declines, the school countersigns.
SIGNATURE_PARTIES = ("student", "school")
SIGNATURE_DECISIONS = ("accept", "decline", "countersign")
QUESTION_STATES = ("pending", "approved", "dismissed", "answered")
QUEUE_OUTCOMES = ("served", "left", "timeout", "skipped", "declined", "closed")
RECORDING_KINDS = ("briefing", "interview")
RECORDING_STATES = ("recording", "complete", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _pk() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _created() -> sa.Column[object]:
    return sa.Column("created_at", TS, nullable=False)


schools = sa.Table(
    "schools",
    metadata,
    _pk(),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    # False for an organising body that is not a school (the regional employment
    # service): it owns fairs and organisers, but no student registers with it.
    sa.Column("enrols_students", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
)

companies = sa.Table(
    "companies",
    metadata,
    _pk(),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("website", sa.String(500), nullable=False, server_default=""),
    sa.Column("about", sa.Text, nullable=False, server_default=""),
    _created(),
)

users = sa.Table(
    "users",
    metadata,
    _pk(),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=True, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=True, index=True),
    sa.Column("locale", sa.String(16), nullable=True),
    # Set when an account is removed (recruiter leaves, student deletes the account).
    sa.Column("disabled_at", TS, nullable=True),
    # X4: set when a student deleted the account. The row stays, pseudonymised (e-mail,
    # name, password, profile text erased), so that the school's reports keep their counts.
    sa.Column("deleted_at", TS, nullable=True),
    _created(),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
    sa.CheckConstraint("(role = 'recruiter') = (company_id IS NOT NULL)", name="recruiter_company"),
    sa.CheckConstraint(
        "role NOT IN ('organiser', 'student') OR school_id IS NOT NULL", name="school_member"
    ),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # sha256 of the cookie token: a leaked table does not leak live sessions.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    _created(),
    sa.Column("expires_at", TS, nullable=False),
)

roster_entries = sa.Table(
    "roster_entries",
    metadata,
    _pk(),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("student_no", sa.String(32), nullable=False),
    sa.Column("real_name", sa.String(100), nullable=False),
    sa.Column("major", sa.String(100), nullable=False),
    sa.Column("degree", sa.String(16), nullable=False),
    sa.Column("graduation_year", sa.Integer, nullable=False),
    sa.Column("imported_at", TS, nullable=False),
    sa.UniqueConstraint("school_id", "student_no", name="uq_roster_school_student_no"),
    sa.CheckConstraint(_in("degree", DEGREES), name="degree"),
)

student_profiles = sa.Table(
    "student_profiles",
    metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("student_no", sa.String(32), nullable=False),
    sa.Column("real_name", sa.String(100), nullable=False),
    sa.Column("major", sa.String(100), nullable=False),
    sa.Column("degree", sa.String(16), nullable=False),
    sa.Column("graduation_year", sa.Integer, nullable=False),
    sa.Column("phone", sa.String(32), nullable=False, server_default=""),
    sa.Column("resume", sa.Text, nullable=False, server_default=""),
    sa.Column("verified_at", TS, nullable=True),
    sa.UniqueConstraint("school_id", "student_no", name="uq_profile_school_student_no"),
    sa.CheckConstraint(_in("degree", DEGREES), name="degree"),
)

fairs = sa.Table(
    "fairs",
    metadata,
    _pk(),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
    # I1: interview slots can be booked only inside this window, set by the organiser
    # (both NULL: bookings are closed), so that slots do not sell out in seconds.
    sa.Column("booking_opens_at", TS, nullable=True),
    sa.Column("booking_closes_at", TS, nullable=True),
    _created(),
    sa.CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
    sa.CheckConstraint("ends_at > starts_at", name="window"),
    sa.CheckConstraint(
        "(booking_opens_at IS NULL) = (booking_closes_at IS NULL)"
        " AND (booking_closes_at IS NULL OR booking_closes_at > booking_opens_at)",
        name="booking_window",
    ),
)

# The schools whose verified students may enter a multi-school fair (the
# organising school is always included).
fair_schools = sa.Table(
    "fair_schools",
    metadata,
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), primary_key=True),
)

fair_halls = sa.Table(
    "fair_halls",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("fair_id", "kind", name="uq_hall_fair_kind"),
    sa.CheckConstraint(_in("kind", HALL_KINDS), name="kind"),
)

fair_companies = sa.Table(
    "fair_companies",
    metadata,
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.String(1000), nullable=False, server_default=""),
    _created(),
    sa.Column("decided_at", TS, nullable=True),
    sa.CheckConstraint(_in("status", PARTICIPATION), name="status"),
)

booths = sa.Table(
    "booths",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False, index=True),
    sa.Column("tagline", sa.String(200), nullable=False, server_default=""),
    sa.Column("description_md", sa.Text, nullable=False, server_default=""),
    sa.Column("video_url", sa.String(500), nullable=False, server_default=""),
    # A file name under the booths/ content directory or the uploads directory.
    sa.Column("logo", sa.String(200), nullable=False, server_default=""),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("fair_id", "company_id", name="uq_booth_fair_company"),
)

booth_documents = sa.Table(
    "booth_documents",
    metadata,
    _pk(),
    sa.Column(
        "booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _pk(),
    sa.Column(
        "booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    # Monthly, in yuan. Bands, not exact figures: that is what postings show.
    sa.Column("salary_min", sa.Integer, nullable=False),
    sa.Column("salary_max", sa.Integer, nullable=False),
    sa.Column("education", sa.String(16), nullable=False),
    sa.Column("headcount", sa.Integer, nullable=False),
    sa.Column("deadline", sa.Date, nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    # Lower-cased title, location, company and description: what job search
    # matches, through FTS5 (trigram) on SQLite and pg_trgm on PostgreSQL.
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    _created(),
    sa.CheckConstraint(_in("education", DEGREES), name="education"),
    sa.CheckConstraint("salary_min >= 0 AND salary_max >= salary_min", name="salary"),
    sa.CheckConstraint("headcount > 0", name="headcount"),
    sa.Index("ix_jobs_fair_created", "fair_id", "created_at"),
    sa.Index("ix_jobs_fair_salary", "fair_id", "salary_max"),
)

job_interests = sa.Table(
    "job_interests",
    metadata,
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    _created(),
)

briefings = sa.Table(
    "briefings",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="scheduled"),
    _created(),
    sa.CheckConstraint("ends_at > starts_at", name="window"),
    sa.CheckConstraint(_in("status", ("scheduled", "live", "ended", "cancelled")), name="status"),
)

briefing_presenters = sa.Table(
    "briefing_presenters",
    metadata,
    sa.Column("briefing_id", sa.ForeignKey("briefings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

# One row per visit: a person was present in a fair, booth, briefing or interview
# from joined_at to left_at. An open interval (left_at NULL) is a visit in
# progress; last_seen_at is the last heartbeat, which is where a crash closes it.
attendance = sa.Table(
    "attendance",
    metadata,
    _pk(),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    # booth, briefing or interview id; equal to fair_id for kind 'fair'.
    sa.Column("subject_id", sa.Integer, nullable=False),
    # Which connection opened it, so that one tab closing does not close another's.
    sa.Column("connection_id", sa.String(64), nullable=False),
    sa.Column("joined_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("left_at", TS, nullable=True),
    sa.Column("close_reason", sa.String(16), nullable=True),
    sa.CheckConstraint(_in("kind", ATTENDANCE_KINDS), name="kind"),
    sa.CheckConstraint("(left_at IS NULL) = (close_reason IS NULL)", name="closed_with_reason"),
    sa.CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="order"),
    sa.Index("ix_attendance_subject", "kind", "subject_id", "joined_at"),
    sa.Index("ix_attendance_user", "user_id", "joined_at"),
    sa.Index("ix_attendance_open", "left_at", "last_seen_at"),
)

# I1: a time a company offers for an interview, for its booth or one of its jobs. A
# booking is a conditional UPDATE of ``state`` (open -> booked), so two students racing for
# it leave one booking; ``held`` keeps it for a waitlisted student's offer until held_until.
interview_slots = sa.Table(
    "interview_slots",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True, index=True),
    # Who published it.
    sa.Column("recruiter_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    # Minutes kept free after the slot before the panel's next one.
    sa.Column("buffer_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("state", sa.String(16), nullable=False, server_default="open"),
    sa.Column("booked_by", sa.ForeignKey("users.id"), nullable=True),
    sa.Column("held_for", sa.ForeignKey("users.id"), nullable=True),
    sa.Column("held_until", TS, nullable=True),
    _created(),
    sa.CheckConstraint("ends_at > starts_at", name="window"),
    sa.CheckConstraint("buffer_minutes >= 0", name="buffer"),
    sa.CheckConstraint(_in("state", SLOT_STATES), name="state"),
    sa.CheckConstraint("(state = 'booked') = (booked_by IS NOT NULL)", name="booked_by"),
    sa.CheckConstraint(
        "(state = 'held') = (held_for IS NOT NULL AND held_until IS NOT NULL)", name="held"
    ),
    sa.Index("ix_slots_fair_starts", "fair_id", "starts_at"),
)

# The panel a slot was published with (up to four interviewers of its company).
slot_interviewers = sa.Table(
    "slot_interviewers",
    metadata,
    sa.Column("slot_id", sa.ForeignKey("interview_slots.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)

interviews = sa.Table(
    "interviews",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False, index=True),
    sa.Column("student_id", sa.ForeignKey("users.id"), nullable=False, index=True),
    # The booked slot, for origin 'slot'. Not unique: a slot freed by a no-show is offered
    # again, and the missed interview keeps its record.
    sa.Column("slot_id", sa.ForeignKey("interview_slots.id"), nullable=True, index=True),
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    # "Continue later" (I2): the interview this one follows up.
    sa.Column("follows_id", sa.ForeignKey("interviews.id"), nullable=True),
    # The recruiter responsible for it; a hand-off (I2) changes it.
    sa.Column("owner_id", sa.ForeignKey("users.id"), nullable=True),
    # How it came about: a booked slot, the booth queue, or an escalated chat.
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", TS, nullable=True),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.Column("outcome_at", TS, nullable=True),
    sa.Column("outcome_by", sa.ForeignKey("users.id"), nullable=True),
    # The student sees the outcome only once this is set.
    sa.Column("released_at", TS, nullable=True),
    sa.Column("student_message", sa.Text, nullable=False, server_default=""),
    # Once-only markers, set by a conditional UPDATE so that one worker sends each:
    # the student's reminder before a slot, the room's wrap-up warning before its end.
    sa.Column("reminded_at", TS, nullable=True),
    sa.Column("wrap_up_at", TS, nullable=True),
    _created(),
    sa.CheckConstraint(_in("origin", ("slot", "queue", "chat")), name="origin"),
    sa.CheckConstraint(_in("state", INTERVIEW_STATES), name="state"),
    sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
    sa.CheckConstraint("released_at IS NULL OR outcome IS NOT NULL", name="release_needs_outcome"),
)

interview_participants = sa.Table(
    "interview_participants",
    metadata,
    sa.Column("interview_id", sa.ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    # Waiting room (I2): interviewers are admitted when added, the candidate when an
    # interviewer lets them in. Only admitted participants publish and watch.
    sa.Column("admitted_at", TS, nullable=True),
    # Recording consent (I3): a recording runs only while every participant has one.
    sa.Column("consented_at", TS, nullable=True),
    sa.CheckConstraint(_in("role", ("candidate", "interviewer")), name="role"),
)

# Every change to an interview's booking, panel, scores, notes, outcome, release or
# agreements, kept as history (I4): who changed what, and when. ``detail`` is JSON.
# Written in the same transaction as the change; never updated or deleted.
interview_history = sa.Table(
    "interview_history",
    metadata,
    _pk(),
    sa.Column(
        "interview_id",
        sa.ForeignKey("interviews.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # NULL: the server did it (a no-show detected, an offer that lapsed).
    sa.Column("actor_id", sa.ForeignKey("users.id"), nullable=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
)

# I4: each company's scorecard criteria, rated 1..scale.
score_criteria = sa.Table(
    "score_criteria",
    metadata,
    _pk(),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scale", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    # Archived criteria keep the scores given with them but are not offered again.
    sa.Column("archived_at", TS, nullable=True),
    _created(),
    sa.UniqueConstraint("company_id", "name", name="uq_criteria_company_name"),
    sa.CheckConstraint("scale BETWEEN 2 AND 10", name="scale"),
)

# One scorecard per interviewer per interview: a rating per criterion.
interview_scores = sa.Table(
    "interview_scores",
    metadata,
    sa.Column("interview_id", sa.ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("author_id", sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("score_criteria.id"), primary_key=True),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.CheckConstraint("rating >= 1", name="rating"),
)

# Private to the company: never shown to the student, never in a student's export.
interview_notes = sa.Table(
    "interview_notes",
    metadata,
    _pk(),
    sa.Column(
        "interview_id",
        sa.ForeignKey("interviews.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("author_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    _created(),
)

# B2: a student applies to a job with their profile; the résumé is copied as it was then.
job_applications = sa.Table(
    "job_applications",
    metadata,
    _pk(),
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("student_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("resume", sa.Text, nullable=False, server_default=""),
    sa.Column("state", sa.String(16), nullable=False),
    _created(),
    # A recruiter invited the applicant to book one of the job's slots.
    sa.Column("invited_at", TS, nullable=True),
    sa.Column("invited_by", sa.ForeignKey("users.id"), nullable=True),
    sa.Column("withdrawn_at", TS, nullable=True),
    sa.UniqueConstraint("job_id", "student_id", name="uq_application_job_student"),
    sa.CheckConstraint(_in("state", APPLICATION_STATES), name="state"),
    sa.Index("ix_applications_company_job", "company_id", "job_id"),
)

# I1: a student waiting for a slot of a job (job_id) or of a booth (job_id NULL). A slot
# freed by a cancellation or a no-show is offered to the first one waiting, held for them
# until offer_expires_at; then the offer moves on. One active entry per student and scope.
waitlist_entries = sa.Table(
    "waitlist_entries",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=False),
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True),
    sa.Column("student_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("joined_at", TS, nullable=False),
    sa.Column("offered_slot_id", sa.ForeignKey("interview_slots.id"), nullable=True),
    sa.Column("offered_at", TS, nullable=True),
    sa.Column("offer_expires_at", TS, nullable=True),
    sa.Column("ended_at", TS, nullable=True),
    sa.CheckConstraint(_in("state", WAITLIST_STATES), name="state"),
    sa.CheckConstraint(
        "state <> 'offered' OR (offered_slot_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
        name="offer",
    ),
    sa.Index("ix_waitlist_scope", "booth_id", "job_id", "state", "joined_at"),
    sa.Index(
        "uq_waitlist_active",
        "booth_id",
        sa.text("coalesce(job_id, 0)"),
        "student_id",
        unique=True,
        sqlite_where=sa.text("state IN ('waiting', 'offered')"),
        postgresql_where=sa.text("state IN ('waiting', 'offered')"),
    ),
)

# I5: an intent agreement (网上签约) made from an offer. ``text`` is exactly what the student
# is shown and ``text_sha256`` its hash; neither changes once sent. A change is a new
# version (supersedes_id), never an edit.
agreements = sa.Table(
    "agreements",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("interview_id", sa.ForeignKey("interviews.id"), nullable=False, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False, index=True),
    sa.Column("student_id", sa.ForeignKey("users.id"), nullable=False, index=True),
    # The student's school: whose organisers countersign and see it.
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("job_id", sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("supersedes_id", sa.ForeignKey("agreements.id"), nullable=True, unique=True),
    sa.Column("position", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    # Monthly, in yuan.
    sa.Column("salary", sa.Integer, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("term_years", sa.Integer, nullable=False),
    sa.Column("subsidy_text", sa.Text, nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("sent_at", TS, nullable=False),
    sa.Column("sent_by", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("responded_at", TS, nullable=True),
    sa.Column("countersigned_at", TS, nullable=True),
    sa.Column("countersigned_by", sa.ForeignKey("users.id"), nullable=True),
    # X4: set when the student deleted the account and this agreement was kept anyway,
    # because the school must keep signed agreements (its text keeps the student's name).
    sa.Column("kept_at", TS, nullable=True),
    sa.CheckConstraint(_in("state", AGREEMENT_STATES), name="state"),
    sa.CheckConstraint("salary >= 0", name="salary"),
    sa.CheckConstraint("term_years BETWEEN 1 AND 10", name="term"),
    sa.CheckConstraint("version >= 1", name="version"),
)

# The immutable record of each party's answer to an agreement: one per party (a second
# accept from another tab fails on the unique constraint), with the hash of the text
# the signer was shown. Never updated or deleted.
agreement_signatures = sa.Table(
    "agreement_signatures",
    metadata,
    _pk(),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id"), nullable=False),
    sa.Column("party", sa.String(16), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint("agreement_id", "party", name="uq_signature_agreement_party"),
    sa.CheckConstraint(_in("party", SIGNATURE_PARTIES), name="party"),
    sa.CheckConstraint(_in("decision", SIGNATURE_DECISIONS), name="decision"),
)


# Real-time rooms ------------------------------------------------------------

# Per-room event counter. Incremented in the same transaction that stores the
# event, so event ids follow commit order and a reconnecting client that asks
# for "everything after n" can never miss one that committed late.
room_seqs = sa.Table(
    "room_seqs",
    metadata,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

# What a room broadcast, for replay after a reconnect.
room_events = sa.Table(
    "room_events",
    metadata,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    # Public to the room when both are unset; otherwise visible to this one user
    # (an asker's own pending question) and/or to the room's moderators.
    sa.Column("audience_user_id", sa.Integer, nullable=True),
    sa.Column("moderators_only", sa.Boolean, nullable=False, server_default=sa.false()),
    _created(),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    _pk(),
    sa.Column("room", sa.String(64), nullable=False),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # Private 1:1 messages name their recipient; room chat leaves it empty.
    sa.Column("recipient_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    # Chosen by the client, so that a retried send is stored once.
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    _created(),
    sa.Column("deleted_at", TS, nullable=True),
    sa.Column("deleted_by", sa.ForeignKey("users.id"), nullable=True),
    sa.UniqueConstraint("author_id", "client_id", name="uq_chat_author_client"),
    sa.Index("ix_chat_room_created", "room", "created_at"),
)

questions = sa.Table(
    "questions",
    metadata,
    _pk(),
    sa.Column(
        "briefing_id",
        sa.ForeignKey("briefings.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("author_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # Hidden from other students, never from moderators.
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("dismiss_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("votes", sa.Integer, nullable=False, server_default="0"),
    _created(),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("answered_at", TS, nullable=True),
    sa.UniqueConstraint("author_id", "client_id", name="uq_question_author_client"),
    sa.CheckConstraint(_in("state", QUESTION_STATES), name="state"),
    sa.CheckConstraint("votes >= 0", name="votes"),
)

question_votes = sa.Table(
    "question_votes",
    metadata,
    sa.Column("question_id", sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    _created(),
)

# Mutes and bans in a room (a briefing's chat, a booth lobby).
room_bans = sa.Table(
    "room_bans",
    metadata,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("until", TS, nullable=True),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("by_user_id", sa.ForeignKey("users.id"), nullable=False),
    _created(),
    sa.CheckConstraint(_in("kind", ("mute", "ban")), name="kind"),
)

# The booth queue's history: live positions are live state, but every entry's
# end (served, left, timed out, skipped, declined) is recorded for reports.
queue_entries = sa.Table(
    "queue_entries",
    metadata,
    _pk(),
    sa.Column("booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=False),
    sa.Column("student_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("joined_at", TS, nullable=False),
    sa.Column("called_at", TS, nullable=True),
    sa.Column("called_by", sa.ForeignKey("users.id"), nullable=True),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.CheckConstraint(
        f"outcome IS NULL OR {_in('outcome', QUEUE_OUTCOMES)}",
        name="outcome",
    ),
    sa.Index("ix_queue_booth_joined", "booth_id", "joined_at"),
    sa.Index("ix_queue_student", "student_id", "ended_at"),
)

# B7: after a chat the recruiter marks interest, notes, or hands over.
candidate_marks = sa.Table(
    "candidate_marks",
    metadata,
    _pk(),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("student_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("booth_id", sa.ForeignKey("booths.id", ondelete="CASCADE"), nullable=True),
    sa.Column("interest", sa.String(8), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("handed_to", sa.ForeignKey("users.id"), nullable=True),
    _created(),
    sa.CheckConstraint(
        f"interest IS NULL OR {_in('interest', ('yes', 'maybe', 'no'))}", name="interest"
    ),
    sa.Index("ix_marks_company_student", "company_id", "student_id"),
)

announcements = sa.Table(
    "announcements",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("author_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    _created(),
    sa.UniqueConstraint("author_id", "client_id", name="uq_announcement_author_client"),
)


# A recording of a briefing stage (P7, opt-in by a presenter) or of an interview room
# (I3, only while everyone consents). The file lives under FAIRSERVER_RECORDINGS_DIR;
# file_name is server-chosen and never user input.
recordings = sa.Table(
    "recordings",
    metadata,
    _pk(),
    sa.Column("fair_id", sa.ForeignKey("fairs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    # briefing id or interview id
    sa.Column("subject_id", sa.Integer, nullable=False),
    sa.Column("started_by", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("file_name", sa.String(200), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint(_in("kind", RECORDING_KINDS), name="kind"),
    sa.CheckConstraint(_in("state", RECORDING_STATES), name="state"),
    sa.Index("ix_recordings_subject", "kind", "subject_id", "started_at"),
)


# Integrations (X5) -----------------------------------------------------------

# A personal access token for the /api/v1 API, owned by a school (read its own students'
# records) or a company (read its own booths, slots and outcomes); exactly one of the two.
# Only the sha256 of the token is kept; ``prefix`` is its first characters, shown in lists
# so that an owner can tell tokens apart.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _pk(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=True, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=True, index=True),
    sa.Column("created_by", sa.ForeignKey("users.id"), nullable=False),
    _created(),
    sa.Column("last_used_at", TS, nullable=True),
    sa.Column("revoked_at", TS, nullable=True),
    sa.CheckConstraint("(school_id IS NULL) <> (company_id IS NULL)", name="one_owner"),
)

# Where a school or a company wants signed webhooks sent, and for which event types
# (space-separated). The secret signs each delivery (Standard Webhooks, "whsec_..."): it
# must be readable to sign, so it is stored as given to the owner once.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    _pk(),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=True, index=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=True, index=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("events", sa.String(500), nullable=False),
    sa.Column("created_by", sa.ForeignKey("users.id"), nullable=False),
    _created(),
    sa.Column("disabled_at", TS, nullable=True),
    sa.CheckConstraint("(school_id IS NULL) <> (company_id IS NULL)", name="one_owner"),
)

# The outbox and the delivery log in one: a row is written in the same transaction as
# the change it reports, so a committed outcome always gets its webhook, and a sender
# retries it with back-off (next_attempt_at) until delivered_at or failed_at is set.
# message_id is the webhook-id header, the same on every retry.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _pk(),
    sa.Column(
        "endpoint_id",
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    _created(),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS, nullable=True),
    sa.Column("last_attempt_at", TS, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
    sa.Column("delivered_at", TS, nullable=True),
    sa.Column("failed_at", TS, nullable=True),
    sa.CheckConstraint("attempts >= 0", name="attempts"),
    sa.Index("ix_webhook_deliveries_due", "next_attempt_at"),
)
