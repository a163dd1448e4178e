"""The e-mail part of the polling job (engine.time.firing.Poller calls run() after the timers and the
in-app notices): queue today's digests, then send what waits in the outbox. Nothing at all while no
SMTP server is set; a failure is logged and left for the next poll, never raised into the scheduler."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..db import Database
from . import digest, mail, outbox

log = logging.getLogger("khanton.mail")
_digests_done: dict[int, str] = {}  # id(db) -> the Bangkok day whose digests this process has queued


def queue_digests(db: Database, config: mail.Settings, now: datetime) -> int:
    day = digest.day_of(config, now)
    if day is None or _digests_done.get(id(db)) == day:
        return 0
    with db.transaction(read_only=True) as session:
        if not digest.missing(session, config, now):
            _digests_done[id(db)] = day
            return 0
    try:
        with db.transaction() as session:
            letters = digest.missing(session, config, now)
            session.add_all(letters)
    except IntegrityError:
        return 0  # another worker queued some first: look again on the next poll
    _digests_done[id(db)] = day
    return len(letters)


def run(db: Database, worker: str, now: datetime | None = None, config: mail.Settings | None = None) -> int:
    """One pass; how many letters were sent."""
    config = config or mail.settings()
    if not config.enabled:
        return 0
    now = now or datetime.now(UTC)
    try:
        queue_digests(db, config, now)
        return outbox.send_due(db, config, worker, now)
    except SQLAlchemyError:
        log.exception("the e-mail pass failed; it is tried again on the next poll")
        return 0
