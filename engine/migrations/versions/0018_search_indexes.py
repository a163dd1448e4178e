"""search indexes: who acted on an instance, who holds its rounds and their schools, read by skipping

Revision ID: 0018
Revises: 0017

The search row's refresh (engine/search/index.py) runs on every write of an instance. It read every event
and round of the instance to find the distinct people and schools, so a completion after 10,000
return-for-revision loops cost four times one at the start. It now skips through these indexes, one seek
per distinct value. Each begins with instance_id, so the single-column indexes on events.instance_id and
human_tasks.instance_id that they make redundant are dropped (each write then keeps one index more in
all, not three).
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_instance_actor", "events", ["instance_id", "actor"])
    op.create_index("ix_human_tasks_instance_assignee", "human_tasks", ["instance_id", "assignee"])
    op.create_index("ix_human_tasks_instance_school", "human_tasks", ["instance_id", "school"])
    op.drop_index("ix_events_instance_id", table_name="events")
    op.drop_index("ix_human_tasks_instance_id", table_name="human_tasks")


def downgrade() -> None:
    op.create_index("ix_human_tasks_instance_id", "human_tasks", ["instance_id"])
    op.create_index("ix_events_instance_id", "events", ["instance_id"])
    op.drop_index("ix_human_tasks_instance_school", table_name="human_tasks")
    op.drop_index("ix_human_tasks_instance_assignee", table_name="human_tasks")
    op.drop_index("ix_events_instance_actor", table_name="events")
