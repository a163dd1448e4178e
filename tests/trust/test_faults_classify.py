"""How engine.faults tells database failures apart: the answer a person gets depends on it (web/errors.py)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from engine import faults


def _sqlite(code: int, text: str) -> OperationalError:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]  # as the sqlite3 module sets it
    return OperationalError("statement", {}, error)


class _Postgres(Exception):
    """What classify reads of a psycopg error: its SQLSTATE (None when the connection itself failed)."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("failed")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("error", "fault"), [
    (_sqlite(5, "database is locked"), faults.BUSY),
    (_sqlite(6, "database table is locked"), faults.BUSY),
    (_sqlite(13, "database or disk is full"), faults.FULL),
    (_sqlite(14, "unable to open database file"), faults.UNAVAILABLE),
    (_sqlite(10 | (4 << 8), "disk I/O error"), faults.UNAVAILABLE),  # an extended code: its low byte counts
    (_sqlite(1, "no such table: instances"), None),  # a broken schema is a 500 for the operator
    (OperationalError("statement", {}, _Postgres("55P03")), faults.BUSY),  # lock_timeout
    (OperationalError("statement", {}, _Postgres("53100")), faults.FULL),  # disk_full
    (OperationalError("statement", {}, _Postgres(None)), faults.UNAVAILABLE),  # connection refused or lost
    (IntegrityError("statement", {}, psycopg.IntegrityError("duplicate")), None),
])
def test_each_database_failure_is_told_apart(error: OperationalError, fault: str | None) -> None:
    assert faults.classify(error) == fault
