"""What a database failure means for the person who met it, so the web can answer it plainly.

Every write runs in one transaction that engine.db rolls back on any error, so whichever of these
happened, nothing of the request was stored; what differs is what the person should do:

- BUSY: a lock held past the busy timeout (SQLite) or lock_timeout (PostgreSQL): try again now.
- UNAVAILABLE: the database is out of reach (connection refused or lost, the file unreadable): try
  again in a while; the pool reconnects by itself (pool_pre_ping) when the database is back.
- FULL: the disk (or the file's size limit) is full: no retry helps until the operator frees space.

None: anything else (a broken schema, "no such table"), a fault for the operator to see (HTTP 500).
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from sqlalchemy.exc import DBAPIError, OperationalError

Fault = Literal["busy", "unavailable", "full"]
BUSY: Fault = "busy"
UNAVAILABLE: Fault = "unavailable"
FULL: Fault = "full"

# SQLite's primary result codes (the low byte of an extended code), https://sqlite.org/rescode.html
_SQLITE: dict[int, Fault] = {5: BUSY, 6: BUSY, 13: FULL, 10: UNAVAILABLE, 14: UNAVAILABLE}
# PostgreSQL's SQLSTATEs: lock_not_available, query_canceled (statement timeout), disk_full
_POSTGRES: dict[str, Fault] = {"55P03": BUSY, "57014": BUSY, "53100": FULL}


def classify(err: DBAPIError) -> Fault | None:
    """The kind of database failure `err` is, or None when it is not a passing one."""
    orig = err.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return _SQLITE.get(code & 0xFF)
        text = str(orig).lower()  # an error raised without a code (older Pythons)
        if "locked" in text or "busy" in text:
            return BUSY
        return FULL if "disk is full" in text else None
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _POSTGRES:
        return _POSTGRES[state]
    if isinstance(err, OperationalError) or err.connection_invalidated:
        return UNAVAILABLE  # psycopg: refused, lost or timed-out connections (schema errors are others)
    return None
