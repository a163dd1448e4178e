"""versions: a note on each published version (what changed and why, from the analyst who published it)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=1000), nullable=False, server_default=""))


def downgrade() -> None:
    # In place, not batch_alter_table: re-creating process_versions DROPs it, which the instances that
    # point at its rows refuse (SQLite: FOREIGN KEY constraint failed). SQLite >= 3.35 drops a column
    # (tests/trust/test_migrations_down_up.py).
    op.drop_column("process_versions", "note")
