"""audit: the address each instance action came from (events.address); audit_entries and events append-only

Revision ID: 0017
Revises: 0016

The application cannot alter its own record: triggers on both databases refuse UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE) of audit_entries and events, whoever sends them through the application's connection.
Nothing in Khanton updates or deletes either table (tests/trust/test_audit.py); instances are never deleted,
so the events' ON DELETE CASCADE never fires. The triggers are not in the models (SQLAlchemy's metadata
knows no triggers): tests/trust/test_audit.py checks they exist after `khanton init`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_entries", "events")
PG_FUNCTION = "khanton_append_only"


def upgrade() -> None:
    op.add_column("events", sa.Column("address", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END")
        return
    op.execute(f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{'no_' + verb}")
        # Not batch_alter_table: re-creating `events` would DROP it, and with foreign keys on that deletes
        # the task_returns that point at its rows. SQLite >= 3.35 drops a column in place.
        op.execute("ALTER TABLE events DROP COLUMN address")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION {PG_FUNCTION}()")
    op.drop_column("events", "address")
