"""people and access: lanes as data, the audit trail, password resets, token expiry, failures by address

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lanes",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor"), ["actor"], unique=False)
    op.create_table(
        "password_resets",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reset_by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_login_failures_address"), ["address"], unique=False)


def downgrade() -> None:
    # Columns dropped in place, not with batch_alter_table: re-creating a table DROPs it, and with foreign
    # keys on SQLite that deletes the rows pointing at it (ON DELETE CASCADE) or refuses. SQLite >= 3.35
    # drops a column that has no index, key or constraint (tests/trust/test_migrations_down_up.py).
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_column("login_failures", "address")
    op.drop_column("api_tokens", "expires_at")
    op.drop_table("password_resets")
    op.drop_table("audit_entries")
    op.drop_table("lanes")
