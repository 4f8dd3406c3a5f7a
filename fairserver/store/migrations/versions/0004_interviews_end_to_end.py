"""interviews end to end: slots, waitlists, applications, scorecards, history, agreements

The first schema had placeholder tables for slots, scores and agreements that no code ever
wrote; they are dropped and made again in their real shape. ``interviews`` loses its unique
``slot_id`` (a slot freed by a no-show is booked again), which on SQLite means rebuilding the
table: Database.migrate runs migrations with SQLite's foreign keys off, and checks them after.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 21:46:53.830842
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("interview_scores")
    op.drop_table("agreements")  # its indexes go with it
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_interviews_slot_id_interview_slots"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_interviews_slot_id"), type_="unique")
    op.drop_table("interview_slots")
    op.create_table(
        "score_criteria",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("archived_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("scale BETWEEN 2 AND 10", name=op.f("ck_score_criteria_scale")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_score_criteria_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_criteria")),
        sa.UniqueConstraint("company_id", "name", name="uq_criteria_company_name"),
    )
    with op.batch_alter_table("score_criteria", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_criteria_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "interview_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("booth_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("recruiter_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("booked_by", sa.Integer(), nullable=True),
        sa.Column("held_for", sa.Integer(), nullable=True),
        sa.Column("held_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "(state = 'booked') = (booked_by IS NOT NULL)",
            name=op.f("ck_interview_slots_booked_by"),
        ),
        sa.CheckConstraint(
            "(state = 'held') = (held_for IS NOT NULL AND held_until IS NOT NULL)",
            name=op.f("ck_interview_slots_held"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'held', 'booked', 'withdrawn')",
            name=op.f("ck_interview_slots_state"),
        ),
        sa.CheckConstraint("buffer_minutes >= 0", name=op.f("ck_interview_slots_buffer")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_interview_slots_window")),
        sa.ForeignKeyConstraint(
            ["booked_by"], ["users.id"], name=op.f("fk_interview_slots_booked_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["booth_id"],
            ["booths.id"],
            name=op.f("fk_interview_slots_booth_id_booths"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_interview_slots_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fairs.id"],
            name=op.f("fk_interview_slots_fair_id_fairs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["held_for"], ["users.id"], name=op.f("fk_interview_slots_held_for_users")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_interview_slots_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recruiter_id"], ["users.id"], name=op.f("fk_interview_slots_recruiter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_slots")),
    )
    with op.batch_alter_table("interview_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interview_slots_booth_id"), ["booth_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interview_slots_job_id"), ["job_id"], unique=False)
        batch_op.create_index("ix_slots_fair_starts", ["fair_id", "starts_at"], unique=False)

    op.create_table(
        "job_applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("resume", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("invited_at", TS, nullable=True),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", TS, nullable=True),
        sa.CheckConstraint(
            "state IN ('applied', 'invited', 'withdrawn')", name=op.f("ck_job_applications_state")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_job_applications_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fairs.id"],
            name=op.f("fk_job_applications_fair_id_fairs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_job_applications_invited_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_job_applications_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["users.id"],
            name=op.f("fk_job_applications_student_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_applications")),
        sa.UniqueConstraint("job_id", "student_id", name="uq_application_job_student"),
    )
    with op.batch_alter_table("job_applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_company_job", ["company_id", "job_id"], unique=False)

    op.create_table(
        "slot_interviewers",
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["interview_slots.id"],
            name=op.f("fk_slot_interviewers_slot_id_interview_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_slot_interviewers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("slot_id", "user_id", name=op.f("pk_slot_interviewers")),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("booth_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("offered_slot_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", TS, nullable=True),
        sa.Column("offer_expires_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=True),
        sa.CheckConstraint(
            "state <> 'offered' OR (offered_slot_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
            name=op.f("ck_waitlist_entries_offer"),
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'offered', 'booked', 'expired', 'left')",
            name=op.f("ck_waitlist_entries_state"),
        ),
        sa.ForeignKeyConstraint(
            ["booth_id"],
            ["booths.id"],
            name=op.f("fk_waitlist_entries_booth_id_booths"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fairs.id"],
            name=op.f("fk_waitlist_entries_fair_id_fairs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_waitlist_entries_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offered_slot_id"],
            ["interview_slots.id"],
            name=op.f("fk_waitlist_entries_offered_slot_id_interview_slots"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["users.id"],
            name=op.f("fk_waitlist_entries_student_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlist_scope", ["booth_id", "job_id", "state", "joined_at"], unique=False
        )

    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("salary", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("subsidy_text", sa.Text(), server_default="", nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=False),
        sa.Column("responded_at", TS, nullable=True),
        sa.Column("countersigned_at", TS, nullable=True),
        sa.Column("countersigned_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('sent', 'accepted', 'declined', 'withdrawn', 'superseded')",
            name=op.f("ck_agreements_state"),
        ),
        sa.CheckConstraint("salary >= 0", name=op.f("ck_agreements_salary")),
        sa.CheckConstraint("term_years BETWEEN 1 AND 10", name=op.f("ck_agreements_term")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_agreements_version")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_agreements_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["countersigned_by"], ["users.id"], name=op.f("fk_agreements_countersigned_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"], ["fairs.id"], name=op.f("fk_agreements_fair_id_fairs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"], ["interviews.id"], name=op.f("fk_agreements_interview_id_interviews")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_agreements_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_agreements_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["users.id"], name=op.f("fk_agreements_sent_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_agreements_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["agreements.id"],
            name=op.f("fk_agreements_supersedes_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_agreements_supersedes_id")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_company_id"), ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agreements_interview_id"), ["interview_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agreements_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_student_id"), ["student_id"], unique=False)

    op.create_table(
        "interview_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_interview_history_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_history_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_history")),
    )
    with op.batch_alter_table("interview_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_history_interview_id"), ["interview_id"], unique=False
        )

    op.create_table(
        "interview_scores",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("rating >= 1", name=op.f("ck_interview_scores_rating")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_interview_scores_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["score_criteria.id"],
            name=op.f("fk_interview_scores_criterion_id_score_criteria"),
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_scores_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "interview_id", "author_id", "criterion_id", name=op.f("pk_interview_scores")
        ),
    )
    op.create_table(
        "agreement_signatures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "decision IN ('accept', 'decline', 'countersign')",
            name=op.f("ck_agreement_signatures_decision"),
        ),
        sa.CheckConstraint(
            "party IN ('student', 'school')", name=op.f("ck_agreement_signatures_party")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_signatures_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agreement_signatures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signatures")),
        sa.UniqueConstraint("agreement_id", "party", name="uq_signature_agreement_party"),
    )
    op.create_index(
        "uq_waitlist_active",
        "waitlist_entries",
        ["booth_id", sa.text("coalesce(job_id, 0)"), "student_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('waiting', 'offered')"),
        postgresql_where=sa.text("state IN ('waiting', 'offered')"),
    )
    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_opens_at", TS, nullable=True))
        batch_op.add_column(sa.Column("booking_closes_at", TS, nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_fairs_booking_window"),
            "(booking_opens_at IS NULL) = (booking_closes_at IS NULL)"
            " AND (booking_closes_at IS NULL OR booking_closes_at > booking_opens_at)",
        )

    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("follows_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", TS, nullable=True))
        batch_op.add_column(sa.Column("wrap_up_at", TS, nullable=True))
        batch_op.create_index(batch_op.f("ix_interviews_slot_id"), ["slot_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_interviews_slot_id_interview_slots"),
            "interview_slots",
            ["slot_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interviews_follows_id_interviews"), "interviews", ["follows_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interviews_owner_id_users"), "users", ["owner_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interviews_job_id_jobs"), "jobs", ["job_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_interviews_slot_id_interview_slots"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_interviews_job_id_jobs"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_interviews_owner_id_users"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_interviews_follows_id_interviews"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_interviews_slot_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_interviews_slot_id"), ["slot_id"])
        batch_op.drop_column("wrap_up_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("follows_id")
        batch_op.drop_column("job_id")

    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_fairs_booking_window"), type_="check")
        batch_op.drop_column("booking_closes_at")
        batch_op.drop_column("booking_opens_at")

    op.drop_index("uq_waitlist_active", table_name="waitlist_entries")
    op.drop_table("agreement_signatures")
    op.drop_table("interview_scores")
    with op.batch_alter_table("interview_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_history_interview_id"))

    op.drop_table("interview_history")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_student_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_school_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_interview_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_company_id"))

    op.drop_table("agreements")
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_scope")

    op.drop_table("waitlist_entries")
    op.drop_table("slot_interviewers")
    with op.batch_alter_table("job_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_company_job")

    op.drop_table("job_applications")
    with op.batch_alter_table("interview_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_slots_fair_starts")
        batch_op.drop_index(batch_op.f("ix_interview_slots_job_id"))
        batch_op.drop_index(batch_op.f("ix_interview_slots_booth_id"))

    op.drop_table("interview_slots")
    with op.batch_alter_table("score_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_criteria_company_id"))

    op.drop_table("score_criteria")
    _placeholders()
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_interviews_slot_id_interview_slots"),
            "interview_slots",
            ["slot_id"],
            ["id"],
        )


def _placeholders() -> None:
    """The first schema's unused tables, as 0001 made them."""
    op.create_table(
        "interview_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booth_id", sa.Integer(), nullable=False),
        sa.Column("recruiter_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("opens_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_interview_slots_window")),
        sa.ForeignKeyConstraint(
            ["booth_id"],
            ["booths.id"],
            name=op.f("fk_interview_slots_booth_id_booths"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recruiter_id"], ["users.id"], name=op.f("fk_interview_slots_recruiter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_slots")),
    )
    op.create_table(
        "interview_scores",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(100), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("interview_id", "author_id", "criterion"),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=False),
        sa.Column("responded_at", TS, nullable=True),
        sa.Column("countersigned_at", TS, nullable=True),
        sa.Column("countersigned_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
