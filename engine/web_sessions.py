"""Signed-in browser sessions kept on the server, so that signing out ends them for good.

A browser's cookie carries a random key; the table keeps only its SHA-256 (as API tokens are kept),
so a copy of the database yields no key that a cookie could carry. A session counts while its row
exists, has not ended, and its person is still active.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .accounts import Actor
from .models import User, WebSession

MAX_KEY = 128  # a cookie is the browser's to forge: a longer key is no key of ours


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def begin(session: Session, username: str, lifetime: timedelta) -> str:
    """A new session for `username`: the key for the browser's cookie. The person's sessions that
    ended, or outlived `lifetime`, are deleted on the way, so the table stays the size of who is in."""
    now = datetime.now(UTC)
    session.execute(delete(WebSession).where(WebSession.username == username, or_(
        WebSession.ended_at.is_not(None), WebSession.created_at < now - lifetime)))
    key = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(key), username=username, created_at=now))
    return key


def actor(session: Session, key: str, lifetime: timedelta) -> Actor | None:
    """The person of a live session, or None when it ended, is older than `lifetime`, never was, or
    its person is inactive."""
    if not key or len(key) > MAX_KEY:
        return None
    user = session.scalar(select(User).join(WebSession, WebSession.username == User.username).where(
        WebSession.id == _digest(key), WebSession.ended_at.is_(None),
        WebSession.created_at >= datetime.now(UTC) - lifetime, User.active.is_(True)))
    return Actor.of(user) if user is not None else None


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
