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
