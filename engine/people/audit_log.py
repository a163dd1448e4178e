"""The whole audit log as an admin reads it: people, access and definitions (audit_entries) together with
every instance action (events), newest first, filtered, a page at a time or all of it for an export.

Two tables, one log: instance actions already write an event in the same transaction as the change (with
its actor, time and, from a request, address: engine.origin), so a second row per completion would only
double the writes. Both tables are append-only (migration 0017's triggers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from ..models import AuditEntry, Event

PEOPLE, INSTANCES = "people", "instances"  # where an entry comes from: audit_entries, events
EXPORT_CHUNK = 500
COUNT_CAP = 1000  # the admin's page says "more than 1,000" and pages on, as the inbox does


@dataclass(frozen=True)
class Filter:
    """What the admin asked for; every field optional. `until` is inclusive (the whole day)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    source: str = ""  # PEOPLE, INSTANCES or "" for both
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class LogEntry:
    source: str
    at: datetime
    actor: str
    address: str | None
    action: str
    target: str
    task: str | None
    detail: dict[str, Any]


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(at: Any, actor: Any, action: Any, target: Any, wanted: Filter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if wanted.actor:
        where.append(actor == wanted.actor)
    if wanted.action:
        where.append(action == wanted.action)
    if wanted.target:
        where.append(target == wanted.target)
    if wanted.since:
        where.append(at >= _start(wanted.since))
    if wanted.until:
        where.append(at < _start(wanted.until + timedelta(days=1)))
    return where


def _query(wanted: Filter) -> Select[Any]:
    parts: list[Select[Any]] = []
    if wanted.source in ("", PEOPLE):
        a = AuditEntry
        parts.append(select(literal(PEOPLE).label("source"), a.id.label("id"), a.at.label("at"),
                            a.actor.label("actor"), a.address.label("address"), a.action.label("action"),
                            a.target.label("target"), literal(None, type_=Event.task_name.type).label("task"),
                            a.detail.label("detail"))
                     .where(*_conditions(a.at, a.actor, a.action, a.target, wanted)))
    if wanted.source in ("", INSTANCES):
        e = Event
        parts.append(select(literal(INSTANCES).label("source"), e.id.label("id"), e.at.label("at"),
                            e.actor.label("actor"), e.address.label("address"), e.kind.label("action"),
                            e.instance_id.label("target"), e.task_name.label("task"),
                            e.data.label("detail"))
                     .where(*_conditions(e.at, e.actor, e.kind, e.instance_id, wanted)))
    if not parts:
        parts.append(select(literal(PEOPLE).label("source")).where(literal(False)))
    return parts[0] if len(parts) == 1 else union_all(*parts).subquery().select()


def _entry(row: Any) -> LogEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite hands back naive UTC times
    detail = row.detail if isinstance(row.detail, dict) else {}
    return LogEntry(row.source, at, row.actor, row.address, row.action, row.target or "", row.task, detail)


def _ordered(query: Any) -> Select[Any]:
    return select(query).order_by(query.c.at.desc(), query.c.source, query.c.id.desc())


def page(session: Session, wanted: Filter, limit: int = 50, offset: int = 0,
         cap: int | None = None) -> tuple[list[LogEntry], int]:
    """One page, newest first, and how many entries match: all, or with `cap` at most cap + 1 (more than
    `cap`), so that a page of a log of a million events does not count them all (as the inbox's count)."""
    if wanted.source not in ("", PEOPLE, INSTANCES):
        return [], 0
    query = _query(wanted).subquery()
    counted = query if cap is None else select(query.c.id).limit(cap + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    rows = session.execute(_ordered(query).limit(limit).offset(offset))
    return [_entry(row) for row in rows], total


def everything(session: Session, wanted: Filter) -> Iterator[list[LogEntry]]:
    """Every matching entry, newest first, a chunk at a time (for the CSV export). Each chunk starts
    after the last one's final entry (at, source, id), so the export reads each row once and counts
    nothing: with OFFSET, the millionth row's chunk read the 999,500 before it again."""
    if wanted.source not in ("", PEOPLE, INSTANCES):
        return
    query = _query(wanted).subquery()
    after: Any = None
    while True:
        chunk = _ordered(query).limit(EXPORT_CHUNK)
        if after is not None:
            at, source, row_id = after
            chunk = chunk.where(or_(query.c.at < at, and_(query.c.at == at, query.c.source > source),
                                    and_(query.c.at == at, query.c.source == source, query.c.id < row_id)))
        rows = list(session.execute(chunk))
        if not rows:
            return
        yield [_entry(row) for row in rows]
        after = (rows[-1].at, rows[-1].source, rows[-1].id)
