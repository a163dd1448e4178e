"""monitor: indexes for the supervisor's list, sorted by last move and filtered by procedure or status

Revision ID: 0015_monitor
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0015_monitor"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_instances_monitor_updated": ["updated_at", "id"],
    "ix_instances_monitor_process": ["process_key", "started_at", "id"],
    "ix_instances_monitor_status": ["status", "started_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "instances", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="instances")
