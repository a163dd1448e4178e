"""The audit trail: an append-only record of who changed what about people and access.

General on purpose (action, target, detail): a later issue records every action here. Nothing
updates or deletes a row; `record` is the only writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import origin
from ..models import AuditEntry, utcnow

MAX_ADDRESS = 64


@dataclass(frozen=True)
class Who:
    """The person acting and the address their request came from (None from the command line)."""

    username: str
    address: str | None = None


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    address: str | None
    action: str
    target: str
    detail: dict[str, Any]


def record(session: Session, who: Who, action: str, target: str = "", **detail: Any) -> None:
    """Append one entry, in the caller's transaction: the change and its record stand or fall together. The
    address is the Who's, else the running request's (engine.origin), else None (the command line)."""
    address = who.address or origin.current()
    session.add(AuditEntry(at=utcnow(), actor=who.username[:64], address=address and address[:MAX_ADDRESS],
                           action=action, target=target[:200], detail=detail or None))


def page(session: Session, limit: int = 50, offset: int = 0, target: str | None = None) -> tuple[list[Entry], int]:
    """Entries newest first, one page of them, and how many there are (of `target`, when given)."""
    query = select(AuditEntry)
    count = select(func.count(AuditEntry.id))
    if target:
        query, count = query.where(AuditEntry.target == target), count.where(AuditEntry.target == target)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    # SQLite hands back naive datetimes (kept in UTC): the read model's are aware on both databases.
    entries = [Entry(r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), r.actor, r.address, r.action, r.target,
                     r.detail or {}) for r in rows]
    return entries, session.scalar(count) or 0
