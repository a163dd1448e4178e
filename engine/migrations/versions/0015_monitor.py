"""monitor: indexes for the supervisor's list: sorted by last move, filtered by procedure, status, overdue

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = {  # name: (table, columns) — one per sort of the list (engine/read/monitor.py SORTS)
    "ix_instances_monitor_started": ("instances", ["started_at", "id"]),
    "ix_instances_monitor_updated": ("instances", ["updated_at", "id"]),
    "ix_instances_monitor_process": ("instances", ["process_key", "started_at", "id"]),
    "ix_instances_monitor_status": ("instances", ["status", "started_at", "id"]),
    "ix_instances_monitor_year": ("instances", ["fiscal_year", "started_at", "id"]),
    "ix_instances_monitor_title": ("instances", ["title", "started_at", "id"]),
    # "overdue": tasks past their due time (a range of due_at; few are)
    "ix_human_tasks_monitor_due": ("human_tasks", ["due_at", "instance_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
