"""APScheduler runs the polling job: in `khanton serve` (a background thread) or `khanton worker`.

The scheduler holds nothing but the interval: what is due lives in the `timers` table, so a restart
loses nothing, and the first poll runs at once, firing what came due while nothing ran.
"""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ..db import Database
from .firing import Poller

POLL_SECONDS = 10.0  # a deadline in days fires within seconds; a poll that finds nothing is one cheap read
log = logging.getLogger("khanton.timers")


def _add_job(scheduler: BaseScheduler, db: Database, seconds: float) -> Poller:
    poller = Poller(db)

    def job() -> None:
        fired = poller()
        if fired:
            log.info("fired %d timer(s)", fired)

    # One poll at a time per process (max_instances=1); a missed interval is not made up twice (coalesce).
    scheduler.add_job(job, "interval", seconds=seconds, id="khanton-timers", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC))
    return poller


def start_background(db: Database, seconds: float = POLL_SECONDS) -> BackgroundScheduler:
    """For `khanton serve`: the polling job in a thread of the web process."""
    scheduler = BackgroundScheduler(timezone=UTC)
    _add_job(scheduler, db, seconds)
    scheduler.start()
    return scheduler


def run_blocking(db: Database, seconds: float = POLL_SECONDS) -> None:
    """For `khanton worker`: poll until stopped (SIGTERM or Ctrl-C). Stopping ends the pass in progress
    after the firing it is in (each firing is its own transaction), so the process ends within seconds
    however much was due, and a service manager never has to kill it halfway."""
    scheduler = BlockingScheduler(timezone=UTC)
    poller = _add_job(scheduler, db, seconds)

    def stop(_signum: int, _frame: object) -> None:
        poller.stop.set()
        if scheduler.running:  # a second Ctrl-C while the pass ends changes nothing
            scheduler.shutdown(wait=False)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    scheduler.start()
