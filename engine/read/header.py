"""The two counts in every signed-in page's header: the ready tasks waiting for the person (the badge
beside the inbox link) and their unread notices. Read in one statement, inside the page's own unit of
work, rather than one statement each (a round trip each, and SQLAlchemy's cost per statement, which on
a trivial page is most of what the page costs)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from ..accounts import Actor
from ..models import Notification
from . import inbox
from .rows import Count

# Built once (engine/read/inbox.py's reason): the values are bound parameters.
_UNREAD = (select(func.count()).select_from(Notification)
           .where(Notification.username == bindparam("unread_for"), Notification.shown,
                  Notification.read_at.is_(None)))


@dataclass(frozen=True)
class HeaderCounts:
    waiting: Count  # up to inbox.WAITING_CAP, then "99+"
    unread: int


@lru_cache(maxsize=256)
def _both(waiting: Select[int]) -> Select[tuple[Any, Any]]:
    """The waiting count (one statement per shape, cached by inbox) and the unread count, side by side."""
    return select(waiting.scalar_subquery().label("waiting"), _UNREAD.scalar_subquery().label("unread"))


def unread_query(username: str) -> tuple[Select[int], dict[str, Any]]:
    """The unread count as a query inbox.counts() can put beside others (the inbox page's counts)."""
    return _UNREAD, {"unread_for": username}


def unread(session: Session, username: str) -> int:
    return int(session.scalar(_UNREAD, {"unread_for": username}) or 0)


def counts(session: Session, working: Actor, username: str) -> HeaderCounts:
    """`working`: the person with the lanes of those they act for today (assignments.effective_actor);
    the waiting tasks are those free or held by `username`, as worklist.count_waiting counts them."""
    query = inbox.count_query(working, cap=inbox.WAITING_CAP, waiting_for=username)
    if query is None:  # no lanes (not an officer): nothing waits for them
        return HeaderCounts(Count(0), unread(session, username))
    statement, params = query
    row = session.execute(_both(statement), params | {"unread_for": username}).one()
    return HeaderCounts(Count.capped(int(row.waiting or 0), inbox.WAITING_CAP), int(row.unread or 0))
