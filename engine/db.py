"""Database connection: one engine per URL, transactions that always roll back on error.

SQLite runs in WAL mode with synchronous=FULL (an acknowledged write survives a power cut; NORMAL,
measured +0.3 ms cheaper, may lose the last ones) and a busy timeout, and every write transaction starts with
BEGIN IMMEDIATE: with pysqlite's defaults a transaction that read first and writes later can fail
to upgrade its lock (SQLITE_BUSY) instead of waiting, and a failed COMMIT leaves the transaction
open so its writes land later with someone else's commit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .runtime.versions import CACHE_KEY as VERSIONS_KEY
from .runtime.versions import VersionCache
from .search import index as search_index

DEFAULT_URL = "sqlite:///khanton.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY_OPTION = "khanton_read_only"
# A PostgreSQL host that vanished (no refusal, no answer) would hold a connect, its request and the timers'
# poll forever; past this a request answers "unavailable" (web/errors.py) and the next one tries again.
POSTGRES_CONNECT_TIMEOUT_S = 5


def database_url(explicit: str | None = None) -> str:
    """The database to use: the argument, else DATABASE_URL, else khanton.db in the working folder."""
    url = explicit or os.environ.get("DATABASE_URL") or DEFAULT_URL
    # Accept the common short forms and use the psycopg 3 driver we ship.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str | None = None, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S})
    _configure_postgresql(engine, busy_timeout_ms)
    return engine


def _configure_postgresql(engine: Engine, lock_timeout_ms: int) -> None:
    """A write that waits for a row lock gives up after the same time as SQLite's busy timeout, so a
    person sees "busy, try again" (web/errors.py) instead of a page that never answers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is deferred and skips SELECTs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a power cut
        # Statistics for the query planner (without them the inbox scans every ready task): as SQLite
        # recommends for a new connection, with a bounded analysis so it stays cheap on a large file.
        cursor.execute("PRAGMA analysis_limit=400")
        cursor.execute("PRAGMA optimize=0x10002")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Reads take no write lock, so pages and the inbox never wait behind a writer.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class UnitOfWork:
    """One session for everything a caller (a web request) does, opened lazily, closed by `close`.

    flaskr keeps one connection in `g`; the engine cannot import Flask, so the web opens a unit at the
    start of a request and every `Database.transaction` inside it joins the unit's session. Reads share
    one transaction (a page is one consistent snapshot); a write block commits when it ends, before the
    answer is sent, so an acknowledged write is durable and a failed commit is an error the caller sees.
    On PostgreSQL a request's reads and its write are one transaction. On SQLite a read transaction
    cannot safely become a write one (see the module's docstring), so a write block after reads ends
    the read snapshot (keeping what it loaded: the conditional writes check it is still current) and
    begins its own with BEGIN IMMEDIATE; the engine's automatic steps therefore run before SQLite's
    one write lock is taken (tests/test_expressions.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.transactions = 0  # begun so far
        self._wrote = False  # a write block ran in the open transaction
        self._session: Session | None = None
        self._writing = False  # the open transaction began as a write one
        self._depth = 0

    def _begin(self, write: bool) -> Session:
        session = self._session
        if session is None:
            session = self._session = self.db.new_session()
            _hold_loaded_rows(session)
        elif session.in_transaction():
            if not write or self._writing or not self.db.is_sqlite:
                return session
            if self._depth:
                raise RuntimeError("a write block inside a read block: open the write one outside it")
            session.commit()  # only read: ends the snapshot, keeps what it loaded
        try:
            session.connection(execution_options={READ_ONLY_OPTION: not write})
        except BaseException:
            session.rollback()  # BEGIN itself failed (SQLite busy): the next block starts clean
            raise
        self._writing = write
        self.transactions += 1
        return session

    @contextmanager
    def transaction(self, read_only: bool) -> Iterator[Session]:
        session = self._begin(write=not read_only)
        self._depth += 1
        self._wrote = self._wrote or not read_only
        try:
            yield session
            if self._depth == 1 and self._wrote:  # the outermost block: its writes are durable now
                self._wrote = False
                session.commit()
        except BaseException:
            self._wrote = False
            session.rollback()
            raise
        finally:
            self._depth -= 1

    def close(self) -> None:
        """End the unit: an open transaction here only ever read (writes commit as their block ends)."""
        if self._session is not None:
            self._session.close()
            self._session = None


HELD_ROWS = 256  # a request's first rows: its user, task, instance, version; a long list is not kept


def _hold_loaded_rows(session: Session) -> None:
    """Keep the first rows the unit loads until it closes (SQLAlchemy's "strong reference" recipe): the
    identity map holds rows weakly, so a row one engine call read would be read again by the next call
    of the same request; held, `session.get` finds it without a statement. Bounded: holding every row
    of a 10,000-row list doubled that page's time (the garbage collector walks them all)."""
    held: list[object] = []
    session.info["held_rows"] = held

    def hold(_session: Session, row: object) -> None:
        if len(held) < HELD_ROWS:
            held.append(row)

    for name in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
        event.listen(session, name, hold)


_unit: ContextVar[UnitOfWork | None] = ContextVar("khanton_unit_of_work", default=None)


class Database:
    """The engine's handle on one database: sessions and transactions."""

    def __init__(self, url: str | None = None, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url, busy_timeout_ms)
        # Published versions compiled once per process for this database (runtime.versions).
        self.versions = VersionCache()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={VERSIONS_KEY: self.versions})
        search_index.keep_current(self._sessions)  # every write keeps the search table current

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def new_session(self) -> Session:
        return self._sessions()

    def open_unit(self) -> Token[UnitOfWork | None]:
        """Begin a unit of work in the current context (thread); `close_unit` with the token ends it."""
        return _unit.set(UnitOfWork(self))

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """The open unit of work of this database, or a new one for the block."""
        unit = _unit.get()
        if unit is not None and unit.db is self:
            yield unit
            return
        token = self.open_unit()
        try:
            yield _unit.get()  # type: ignore[misc]
        finally:
            self.close_unit(token)

    @staticmethod
    def current_unit() -> UnitOfWork | None:
        return _unit.get()

    @staticmethod
    def close_unit(token: Token[UnitOfWork | None]) -> None:
        unit = _unit.get()
        _unit.reset(token)
        if unit is not None:
            unit.close()

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error. Inside an open
        UnitOfWork of this database, the unit's session (see UnitOfWork)."""
        unit = _unit.get()
        if unit is not None and unit.db is self:
            with unit.transaction(read_only) as session:
                yield session
            return
        session = self._sessions()
        try:
            if read_only:
                session.connection(execution_options={READ_ONLY_OPTION: True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
