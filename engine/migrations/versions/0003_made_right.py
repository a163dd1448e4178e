"""made right: schools, a school per user and per round, server-side sign-in sessions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_school"), ["school"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_human_tasks_school"), ["school"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_username"), ["username"], unique=False)


def downgrade() -> None:
    op.drop_table("web_sessions")
    # Columns dropped in place, not with batch_alter_table: re-creating a table DROPs it, and with foreign
    # keys on SQLite that deletes the rows pointing at it (ON DELETE CASCADE) or refuses. SQLite >= 3.35
    # drops a column that has no index, key or constraint (tests/trust/test_migrations_down_up.py).
    op.drop_index("ix_human_tasks_school", table_name="human_tasks")
    op.drop_column("human_tasks", "school")
    op.drop_index("ix_users_school", table_name="users")
    op.drop_column("users", "school")
    op.drop_table("schools")
