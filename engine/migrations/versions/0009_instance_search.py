"""search: one row of searchable text per instance (filled by khanton init, kept current on writes)

Revision ID: 0009
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_search",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    with op.batch_alter_table("instance_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_search_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instance_search", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_search_started_at"))
    op.drop_table("instance_search")
