"""SQLite's planner statistics, kept current while the application runs.

Measured on Debian 12's SQLite 3.40: `PRAGMA optimize` analyzes nothing in a database that was never
analyzed, and otherwise only tables the same connection has queried since it opened — run right after
connecting (engine/db.py does) it finds nothing to do. Worse than none are statistics taken when the file
was small: a file analyzed in its first minutes and grown to 1,000,000 events still told the planner
that `events` held 10 rows, so the supervisor's list read every event to find a page's errors (715 ms
instead of 0.3; make bench at scale 1). So, when a connection goes back to the pool after its work, at
most once every INTERVAL_S per connection, it runs ANALYZE bounded by analysis_limit: a few milliseconds
on a 2 GB file, and the statistics follow the file as it grows. It waits at most BUSY_MS for the write
lock (statistics can wait for the next time; a writer should not). The inbox and lists do not depend on
it (engine/read/inbox.py); other queries do. PostgreSQL's autovacuum keeps its own statistics.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import event

from ..db import Database

INTERVAL_S = 600.0
ANALYSIS_LIMIT = 400  # rows read per index: statistics good enough for the planner, in milliseconds
BUSY_MS = 200


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
    """ANALYZE within analysis_limit, waiting BUSY_MS at most for the lock; never fails the request."""
    cursor = dbapi_connection.cursor()
    try:
        waited = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        try:
            cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            cursor.execute("ANALYZE")
            if dbapi_connection.in_transaction:
                dbapi_connection.commit()
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(waited)}")
    except sqlite3.Error:  # busy, or a read-only file: statistics can wait for the next time
        if dbapi_connection.in_transaction:
            dbapi_connection.rollback()
    finally:
        cursor.close()
