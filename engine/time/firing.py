"""Claim one due timer row and fire it, in one transaction: exactly once, whatever else runs.

The claim: on PostgreSQL `FOR UPDATE SKIP LOCKED` (several workers on several hosts each take a
different row, none waits), then the instance's row without waiting either (a completion or another
timer of the same instance holds it: the row is left for the next pass). On SQLite every write
transaction holds the database's write lock (BEGIN IMMEDIATE, engine.db), so firings take turns.
The firing is written with the instance's revision check, as a completion is; if the process dies
before the commit, nothing of it was written and the row is still pending for the next worker.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import instances, state
from ..db import Database
from ..errors import WorkflowFailure
from ..models import Instance, ProcessVersion, Timer
from ..notify import inbox
from ..notify import job as mail_job
from ..runner import Halted, run_engine
from ..runtime import versions
from . import starts, timers
from .timers import CANCELLED, FIRED, PENDING, TIMER_ACTOR

MAX_PER_PASS = 10_000  # a pass ends when nothing is due; this only bounds a pathological backlog


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _fire_in_instance(session: Session, row: Timer, now: datetime, worker: str) -> bool:
    """Fire an instance's timer; False when the instance is busy (left pending for the next pass)."""
    instance = session.get(Instance, row.instance_id, populate_existing=True,
                           with_for_update={"key_share": True, "skip_locked": True})
    if instance is None:
        return False
    if instance.status == "suspended":  # an admin suspended it (engine/repair): the timer waits for the resume
        return False
    if instance.status != instances.RUNNING:
        row.status = CANCELLED
        return True
    version = versions.compiled(session, instance.version_id)
    workflow = state.load(version, instance.state)
    task = timers.find_task(workflow, row.spiff_task_id)
    if task is None or task.state != TaskState.WAITING:
        row.status = CANCELLED  # the workflow moved on (the task was completed first)
        return True
    row.fired_by = worker  # the row is marked fired by the sync below, with its timeline event
    halted: Halted | None
    try:
        # A timer that leads back to an earlier step is dropped from the live state with the finished
        # round by this run; the run notes it (runner.fired_and_dropped), so the sync below marks its
        # row fired, not cancelled (tests/trust/test_timer_loop.py).
        workflow.refresh_timers()
        halted = run_engine(workflow)
    except WorkflowFailure as err:  # what follows the timer failed: the instance stops, as on a completion
        workflow = state.load(version, instance.state)
        halted = Halted(err.element or row.element, err.message)
        row.status, row.fired_at = FIRED, now
    instances._sync(session, instance, version, workflow, TIMER_ACTOR)  # noqa: SLF001
    if halted:
        instances._halt(session, instance, halted, TIMER_ACTOR)  # noqa: SLF001
    instances._save(session, instance, workflow, instance.revision)  # noqa: SLF001
    return True


def _due_query(now: datetime, skipped: Collection[str]) -> Any:
    query = select(Timer).where(Timer.status == PENDING, Timer.due_at <= now)
    return query.where(Timer.id.not_in(skipped)) if skipped else query


def fire_next(db: Database, worker: str, skipped: set[str], now: datetime | None = None,
              peek: bool = True) -> bool | None:
    """Claim and fire the earliest due row not in `skipped`: True when it fired, False when it was passed
    over (its instance busy: added to `skipped`) or found stale (cancelled), None when nothing is due."""
    now = now or datetime.now(UTC)
    if peek:  # SQLite: no write lock while nothing is due
        with db.transaction(read_only=True) as session:
            if not session.scalar(select(exists(_due_query(now, skipped)))):
                return None
    with db.transaction() as session:
        row: Timer | None = session.scalars(_due_query(now, skipped).order_by(Timer.due_at).limit(1)
                                            .with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        if row.instance_id is None:
            starts.fire(session, row, now, worker)
            return True
        if not _fire_in_instance(session, row, now, worker):
            skipped.add(row.id)  # its instance is busy: the next pass takes it
            return False
        session.flush()
        return row.status == FIRED


def fire_due(db: Database, worker: str | None = None, now: datetime | None = None,
             stop: threading.Event | None = None) -> int:
    """Fire every row due now; how many rows this worker claimed and fired (a firing may also fire
    other due timers of the same instance: their rows are marked fired too, see timers.sync). `stop`
    set (the worker is asked to end) ends the pass between two firings: each is its own transaction."""
    worker = worker or worker_name()
    skipped: set[str] = set()
    fired = 0
    outcome: bool | None = None
    for _ in range(MAX_PER_PASS):
        if stop is not None and stop.is_set():
            break
        outcome = fire_next(db, worker, skipped, now, peek=outcome is None)  # after a firing, more are likely
        if outcome is None:
            break
        fired += outcome
    return fired


class Poller:
    """The scheduler's job: bring scheduled starts up to date when a version was published, then fire
    what is due. The versions already looked at are remembered (versions never change once published)."""

    def __init__(self, db: Database, worker: str | None = None) -> None:
        self.db = db
        self.worker = worker or worker_name()
        self._latest: set[int] = set()
        self.stop = threading.Event()  # set when the process is asked to end: the pass ends at the next step

    def __call__(self) -> int:
        with self.db.transaction(read_only=True) as session:
            latest = set(session.scalars(select(func.max(ProcessVersion.id)).group_by(ProcessVersion.key)))
        if latest != self._latest:
            try:
                with self.db.transaction() as session:
                    starts.ensure(session)
                self._latest = latest
            except IntegrityError:
                pass  # another worker added the same schedule first: look again next time
        fired = fire_due(self.db, self.worker, stop=self.stop)
        if not self.stop.is_set():  # what is left is made by the next poll, in this process or another
            self._notify()
        if not self.stop.is_set():
            mail_job.run(self.db, self.worker)  # e-mail: digests, then the outbox (engine.notify.job)
        return fired

    def _notify(self) -> None:
        """Make the in-app notices due now (engine.notify.inbox); nothing is written when none is due."""
        with self.db.transaction(read_only=True) as session:
            if not inbox.missing(session):
                return
        try:
            with self.db.transaction() as session:
                session.add_all(inbox.missing(session))
        except IntegrityError:
            pass  # another worker made some of them first: the rest follow on the next poll
