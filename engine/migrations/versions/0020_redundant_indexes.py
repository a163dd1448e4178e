"""redundant indexes: those whose columns begin a longer index on the same table

Revision ID: 0020
Revises: 0019

Each index is written on every insert, and on PostgreSQL on every update that is not HOT (an instance's
never is: its updated_at is indexed for /monitor's sort), so each completion wrote four index entries
that no read needed: the longer indexes of 0015_monitor and 0016_dashboard serve the same look-ups.
tests/test_schema.py keeps it so.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

DROPPED = (("instances", "ix_instances_process_key", ["process_key"]),
           ("instances", "ix_instances_status", ["status"]),
           ("instances", "ix_instances_fiscal_year", ["fiscal_year"]),
           ("instances", "ix_instances_started_at", ["started_at"]))


def upgrade() -> None:
    for table, name, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in DROPPED:
        op.create_index(name, table, columns)
