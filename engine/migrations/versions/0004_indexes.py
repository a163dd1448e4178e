"""indexes for the inbox, completions, the instance list and timelines

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_human_tasks_lane_status_created", ["lane", "status", "created_at"], unique=False)
        batch_op.create_index("ix_human_tasks_instance_status", ["instance_id", "status"], unique=False)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_actor", ["actor"], unique=False)
        batch_op.create_index("ix_events_instance_at", ["instance_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_instance_at")
        batch_op.drop_index("ix_events_actor")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_instance_status")
        batch_op.drop_index("ix_human_tasks_lane_status_created")
