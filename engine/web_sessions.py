"""Signed-in browser sessions kept on the server, so that signing out ends them for good.

A browser's cookie carries a random key; the table keeps only its SHA-256 (as API tokens are kept),
so a copy of the database yields no key that a cookie could carry. A session counts while its row
exists, has not ended, its person is still active, and it was used within the idle time (sliding:
each request counts, noted at most once a minute so that reading pages does not write on every one).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from .accounts import Actor
from .models import User, WebSession

MAX_KEY = 128  # a cookie is the browser's to forge: a longer key is no key of ours
NOTE_EVERY = timedelta(minutes=1)  # how stale `seen_at` may get before a request writes it again


def _last_seen() -> Any:
    return func.coalesce(WebSession.seen_at, WebSession.created_at)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def begin(session: Session, username: str, idle: timedelta) -> str:
    """A new session for `username`: the key for the browser's cookie. The person's sessions that
    ended, or were idle longer than `idle`, are deleted on the way, so the table stays the size of who
    is in."""
    now = datetime.now(UTC)
    session.execute(delete(WebSession).where(WebSession.username == username, or_(
        WebSession.ended_at.is_not(None), _last_seen() < now - idle)))
    key = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(key), username=username, created_at=now, seen_at=now))
    return key


@dataclass(frozen=True)
class Live:
    """A live session's person, and whether this request should note that the session was used."""

    actor: Actor
    note_use: bool


# Every signed-in page request runs this: built once (building a statement costs more than running it),
# the person's lanes joined in the same statement rather than read by a second one (the relationship's
# selectin load), as the API's token look-up does (accounts._WITH_LANES).
_LIVE = (select(User, _last_seen()).join(WebSession, WebSession.username == User.username)
         .options(joinedload(User.lane_rows))
         .where(WebSession.id == bindparam("digest"), WebSession.ended_at.is_(None),
                _last_seen() >= bindparam("since"), User.active.is_(True)))


def live(session: Session, key: str, idle: timedelta) -> Live | None:
    """The person of a live session, or None when it ended, was idle longer than `idle`, never was,
    or its person is inactive."""
    if not key or len(key) > MAX_KEY:
        return None
    now = datetime.now(UTC)
    found = session.execute(_LIVE, {"digest": _digest(key), "since": now - idle}).unique().first()
    if found is None:
        return None
    user, seen = found
    seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return Live(Actor.of(user), now - seen >= min(NOTE_EVERY, idle / 10))


def actor(session: Session, key: str, idle: timedelta) -> Actor | None:
    found = live(session, key, idle)
    return found.actor if found else None


def note_use(session: Session, key: str) -> None:
    """The session was used now: its idle time starts again."""
    if key and len(key) <= MAX_KEY:
        session.execute(update(WebSession).where(WebSession.id == _digest(key), WebSession.ended_at.is_(None))
                        .values(seen_at=datetime.now(UTC)))


def end(session: Session, key: str) -> None:
    """End one session (signing out); ending an ended or unknown one does nothing."""
    if key and len(key) <= MAX_KEY:
        session.execute(update(WebSession).where(WebSession.id == _digest(key), WebSession.ended_at.is_(None))
                        .values(ended_at=datetime.now(UTC)))


def end_all(session: Session, username: str) -> int:
    """End every session of a person (a new password): how many were live."""
    result = session.execute(update(WebSession).where(WebSession.username == username,
                                                      WebSession.ended_at.is_(None))
                             .values(ended_at=datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)
