"""media rooms and recordings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:43:39.894138
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("kind IN ('briefing', 'interview')", name=op.f("ck_recordings_kind")),
        sa.CheckConstraint(
            "state IN ('recording', 'complete', 'failed')", name=op.f("ck_recordings_state")
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"], ["fairs.id"], name=op.f("fk_recordings_fair_id_fairs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["users.id"], name=op.f("fk_recordings_started_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("file_name", name=op.f("uq_recordings_file_name")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordings_subject", ["kind", "subject_id", "started_at"], unique=False
        )
    with op.batch_alter_table("interview_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admitted_at", TS, nullable=True))
        batch_op.add_column(sa.Column("consented_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interview_participants", schema=None) as batch_op:
        batch_op.drop_column("consented_at")
        batch_op.drop_column("admitted_at")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_subject")
    op.drop_table("recordings")
