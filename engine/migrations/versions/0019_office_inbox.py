"""office inbox: the rounds of no school in the inbox's own order, a partial index

Revision ID: 0019
Revises: 0018

PostgreSQL does not take `school IS NULL` as an equality, so a branch of the inbox for the office's rounds
could not read ix_human_tasks_inbox in order: it sorted every ready task of the lane, or walked
ix_human_tasks_created_at backwards past every newer round (engine/read/indexes.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    office = sa.text("school IS NULL")
    op.create_index("ix_human_tasks_office_inbox", "human_tasks",
                    ["lane", "status", sa.text("created_at DESC"), "id"],
                    postgresql_where=office, sqlite_where=office)


def downgrade() -> None:
    op.drop_index("ix_human_tasks_office_inbox", table_name="human_tasks")
