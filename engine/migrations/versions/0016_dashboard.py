"""dashboard: indexes for the supervisor's figures per procedure and fiscal year

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ROUND_COLUMNS = ["instance_id", "status", "lane", "task_spec", "created_at", "completed_at", "due_at", "assignee",
                 "school", "completed_by"]


def upgrade() -> None:
    op.create_index("ix_instances_dashboard", "instances", ["process_key", "fiscal_year", "status", "id"])
    op.create_index("ix_human_tasks_dashboard", "human_tasks", ROUND_COLUMNS)
    op.create_index("ix_human_tasks_due", "human_tasks", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_human_tasks_due", table_name="human_tasks")
    op.drop_index("ix_human_tasks_dashboard", table_name="human_tasks")
    op.drop_index("ix_instances_dashboard", table_name="instances")
