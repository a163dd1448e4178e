"""The migrations make exactly the schema the models describe, on SQLite and PostgreSQL, and SQLite is
set up to keep what it acknowledged."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from engine.models import Base
from tests.conftest import make_khanton


def test_migrations_make_the_models_schema(database_url: str) -> None:
    khanton = make_khanton(database_url)
    try:
        with khanton.db.engine.connect() as connection:
            # Triggers are not in SQLAlchemy's metadata (0017's append-only audit_entries and events):
            # tests/trust/test_audit.py checks they exist.
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        khanton.db.dispose()


def test_sqlite_is_durable_by_default(sqlite_url: str) -> None:
    """WAL with synchronous=FULL: an acknowledged completion survives a power cut (NORMAL may lose it)."""
    khanton = make_khanton(sqlite_url)
    try:
        with khanton.db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    finally:
        khanton.db.dispose()


def test_no_index_is_a_leading_part_of_another() -> None:
    """Every index is written on every insert, and on PostgreSQL on every update of its row that is not
    HOT (an instance's is not: its updated_at is indexed for /monitor), so one whose columns begin another
    index on the same table (or its primary key) only costs: the longer one serves the same look-ups."""
    # Kept on purpose: every completion and every /monitor page reads an instance's ready rounds, and
    # PostgreSQL, expecting thousands of rounds of an instance that went round 10,000 loops, costs the
    # ten-column ix_human_tasks_dashboard above a scan of the table (23 ms for /monitor's page, 0.4 here).
    narrow_on_purpose = {"ix_human_tasks_instance_status"}
    redundant = []
    for table in Base.metadata.sorted_tables:
        keys = [(f"{table.name} primary key", tuple(c.name for c in table.primary_key.columns))]
        for index in table.indexes:
            plain = all(hasattr(e, "name") and getattr(e, "table", None) is table for e in index.expressions)
            partial = any(opts.get("where") is not None for opts in index.dialect_options.values())
            if plain and not partial:
                keys.append((str(index.name), tuple(c.name for c in index.columns)))
        for name, columns in keys:
            for other, longer in keys:
                if other != name and len(longer) > len(columns) and longer[:len(columns)] == columns \
                        and "primary key" not in name and name not in narrow_on_purpose:
                    redundant.append(f"{name} {columns} begins {other} {longer}")
    assert redundant == []
