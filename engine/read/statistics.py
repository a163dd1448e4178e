"""SQLite's planner statistics, kept current while the application runs.

Measured on Debian 12's SQLite 3.40: `PRAGMA optimize` analyzes nothing in a database that was never
analyzed, and otherwise only tables the same connection has queried since it opened — run right after
connecting (engine/db.py does) it finds nothing to do, so a file that grew to 100,000 instances keeps
no statistics at all. Here, when a connection goes back to the pool after its work, at most once every
INTERVAL_S per connection: ANALYZE (bounded by analysis_limit) if there are no statistics yet, else
PRAGMA optimize, which re-analyzes the tables that connection used once they grew enough to matter.
The inbox and lists do not depend on it (engine/read/inbox.py); other queries may. PostgreSQL's
autovacuum keeps its own statistics.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import event

from ..db import Database

INTERVAL_S = 600.0
ANALYSIS_LIMIT = 400  # rows read per index: statistics good enough for the planner, in milliseconds


def keep_current(db: Database) -> None:
    if not db.is_sqlite:
        return

    @event.listens_for(db.engine, "connect")
    def _opened(_dbapi_connection: Any, record: Any) -> None:
        record.info["statistics_at"] = time.monotonic()

    @event.listens_for(db.engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is None or time.monotonic() - record.info.get("statistics_at", 0.0) < INTERVAL_S:
            return
        record.info["statistics_at"] = time.monotonic()
        refresh(dbapi_connection)


def refresh(dbapi_connection: Any) -> None:
    """ANALYZE once if the file has no statistics yet, else PRAGMA optimize; never fails the request."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        analyzed = cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
        cursor.execute("PRAGMA optimize" if analyzed else "ANALYZE")
    except sqlite3.Error:  # busy, or a read-only file: statistics can wait for the next time
        pass
    finally:
        cursor.close()
