"""read side at scale: each user's lanes as rows of user_lanes; indexes the inbox and lists read in order

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _lanes(value: object) -> list[str]:
    """The JSON list as stored (SQLite hands back text, PostgreSQL a list)."""
    items = json.loads(value) if isinstance(value, str) else value
    return sorted({lane for lane in items if isinstance(lane, str) and lane}) if isinstance(items, list) else []


def upgrade() -> None:
    op.create_table(
        "user_lanes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "lane"),
    )
    op.create_index("ix_user_lanes_lane", "user_lanes", ["lane"], unique=False)
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("lanes", sa.JSON()))
    rows = [{"user_id": uid, "lane": lane}
            for uid, lanes in connection.execute(sa.select(users.c.id, users.c.lanes)) for lane in _lanes(lanes)]
    if rows:
        connection.execute(sa.table("user_lanes", sa.column("user_id"), sa.column("lane")).insert(), rows)
    # Native DROP COLUMN (SQLite >= 3.35): batch mode would copy and drop the users table, and with
    # foreign keys on, dropping it deletes every row that cascades from users (tokens, these lanes).
    op.execute("ALTER TABLE users DROP COLUMN lanes")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_ready_lane")
        batch_op.drop_index("ix_human_tasks_lane_status_created")
        batch_op.create_index("ix_human_tasks_inbox", ["lane", "status", "school", "created_at", "id"], unique=False)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_actor")
        batch_op.create_index("ix_events_actor_instance", ["actor", "instance_id"], unique=False)
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index("ix_instances_started_by", ["started_by", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index("ix_instances_started_by")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_actor_instance")
        batch_op.create_index("ix_events_actor", ["actor"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_inbox")
        batch_op.create_index("ix_human_tasks_lane_status_created", ["lane", "status", "created_at"], unique=False)
        batch_op.create_index("ix_human_tasks_ready_lane", ["status", "lane"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lanes", sa.JSON(), nullable=False, server_default="[]"))
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("lanes", sa.JSON()))
    lanes: dict[int, list[str]] = {}
    for uid, lane in connection.execute(sa.text("select user_id, lane from user_lanes order by lane")):
        lanes.setdefault(uid, []).append(lane)
    for uid, names in lanes.items():
        connection.execute(users.update().where(users.c.id == uid).values(lanes=names))
    op.drop_index("ix_user_lanes_lane", table_name="user_lanes")
    op.drop_table("user_lanes")
