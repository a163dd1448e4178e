"""The supervisor's list (/monitor): every instance, where it stands and who holds it, filtered, sorted
and paged — SQL over instances, human_tasks and events, never an instance's state or data.

A page costs the same few statements whatever the page size or the number of instances: the count,
the page of instances, the ready tasks of just those instances with their holders' and schools' names,
the error events of those instances, and the names the filters offer (procedures, lanes, schools).
Filters on the current work: a lane (much work) is checked per instance (EXISTS on
ix_human_tasks_instance_status) while the sort's index is read; a school or overdue work (little)
is a set of instance ids read from ix_human_tasks_school and ix_human_tasks_monitor_due. The sorts read
ix_instances_monitor_* (migration 0015_monitor).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session

from ..accounts import Actor
from ..errors import Forbidden
from ..models import Event, HumanTask, Instance, ProcessVersion, School, User
from ..people import lanes as lane_table
from ..thai_calendar import BANGKOK
from .procedures import names as procedure_names
from .rows import Count

MAX_PAGE = 200
MAX_PAGE_NUMBER = 10_000
COUNT_CAP = 1_000  # as the inbox counts (engine/read/inbox.py)
EXPORT_MAX = 100_000  # an export stops here (and says so): a bounded file, read in chunks
EXPORT_CHUNK = 500
STATUSES = ("running", "completed", "rejected", "terminated", "suspended", "error")
# ?sort= key -> the columns it orders by, each sort an index of its own (migration 0015_monitor), so a
# page is read in index order and stops after the page instead of sorting every match
SORTS: dict[str, tuple[Any, ...]] = {
    "started": (Instance.started_at, Instance.id), "moved": (Instance.updated_at, Instance.id),
    "process": (Instance.process_key, Instance.started_at, Instance.id),
    "status": (Instance.status, Instance.started_at, Instance.id),
    "year": (Instance.fiscal_year, Instance.started_at, Instance.id),
    "title": (Instance.title, Instance.started_at, Instance.id)}
# Filters an index of their own could serve, and the sorts whose index serves them in order too.
SERVED_BY = {"process": {"started", "process"}, "status": {"started", "status"}, "year": {"started", "year"}}


def may_monitor(actor: Actor) -> bool:
    """Supervisors and admins read every instance (and, as supervisors, change nothing)."""
    return actor.reads_all


def reads_only(actor: Actor) -> bool:
    """A person whose roles only read (a supervisor who is no officer, analyst or admin): every
    request of theirs that would change something is refused."""
    return "supervisor" in actor.roles and not actor.roles & {"officer", "analyst", "admin"}


@dataclass(frozen=True)
class MonitorFilter:
    """What the supervisor asked for; every field comes from the URL, already checked by the caller."""

    process: str | None = None
    status: str | None = None
    fiscal_year: int | None = None
    lane: str | None = None  # a current step waits in this lane
    school: str | None = None  # a current step is this school's round
    overdue: bool = False  # a current step is past its due time
    started_from: date | None = None  # started on or after this day (Bangkok)
    started_to: date | None = None  # started on or before this day (Bangkok)
    sort: str = "started"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")


@dataclass(frozen=True)
class Step:
    """A current step of an instance and who holds it."""

    name: str
    lane: str
    holder: str  # the claimed holder's name, else the school's, else the lane's Thai name
    claimed: bool
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class MonitorRow:
    id: str
    process: str
    process_name: str
    title: str
    status: str
    fiscal_year: int | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    steps: list[Step] = field(default_factory=list)
    error: str | None = None  # an instance in `error`: what stopped it, in words

    @cached_property  # the page asks each twice per row
    def due_at(self) -> datetime | None:
        dues = [s.due_at for s in self.steps if s.due_at is not None]
        return min(dues) if dues else None

    @cached_property
    def overdue(self) -> bool:
        return any(s.overdue for s in self.steps)


@dataclass(frozen=True)
class MonitorPage:
    """A page, whether another follows, and how many instances the filter selects — exactly up to
    COUNT_CAP, beyond it "more than" (counting 100,000 rows on every page would cost more than the page)."""

    rows: list[MonitorRow]
    has_next: bool
    total: Count
    page: int
    page_size: int
    procedures: list[tuple[str, str]]
    lanes: dict[str, str]
    schools: list[tuple[str, str]]

    @property
    def pages(self) -> int | None:
        """The number of pages, when the total is known exactly."""
        return None if self.total.more else max(1, -(-self.total.n // self.page_size))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), BANGKOK).astimezone(UTC)


def _column(f: MonitorFilter, name: str, column: Any, planned: bool) -> Any:
    """The column as a filter compares it: as an expression (`status || ''`) when the sort's index is
    to be read instead of the filter's, so that SQLite (which plans without statistics) walks the
    sort's index and stops after a page rather than sorting every instance the filter lets through.
    Not on PostgreSQL (`planned`): it plans by statistics, and takes an expression to match one row
    in 40,000 — so it read every instance and sorted them (EXPLAIN ANALYZE: 170 ms at 10,000 instances,
    against 0.6 ms walking ix_instances_monitor_updated with the plain columns)."""
    if planned or f.sort in SERVED_BY[name]:
        return column
    return column + (0 if name == "year" else "")


def _planned(session: Session) -> bool:
    """Whether the database plans by statistics of its own (PostgreSQL; SQLite here has none)."""
    return session.get_bind().dialect.name != "sqlite"


def _conditions(f: MonitorFilter, now: datetime, planned: bool = False) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.process:
        where.append(_column(f, "process", Instance.process_key, planned) == f.process)
    if f.status:
        where.append(_column(f, "status", Instance.status, planned) == f.status)
    if f.fiscal_year:
        where.append(_column(f, "year", Instance.fiscal_year, planned) == f.fiscal_year)
    if f.started_from:
        where.append(Instance.started_at >= _day_start(f.started_from))
    if f.started_to:
        where.append(Instance.started_at < _day_start(f.started_to + timedelta(days=1)))
    if f.lane:  # a lane holds much of the work: checked per instance as the sort's index is read
        where.append(exists().where(HumanTask.instance_id == Instance.id, HumanTask.status == "ready",
                                    HumanTask.lane == f.lane))
    few: list[ColumnElement[bool]] = []  # a school's rounds and overdue work are few: the set of their ids
    if f.school:
        few.append(HumanTask.school == f.school)
    if f.overdue:
        few.append(HumanTask.due_at < now)
    if few:
        where.append(Instance.id.in_(select(HumanTask.instance_id).where(HumanTask.status == "ready", *few)))
    return where


def _listed(f: MonitorFilter, now: datetime, planned: bool = False) -> Select[*tuple[Any, ...]]:
    order = [c.desc() if f.descending else c.asc() for c in SORTS[f.sort]]
    return (select(Instance.id, Instance.process_key, ProcessVersion.name, Instance.title, Instance.status,
                   Instance.fiscal_year, Instance.started_by, Instance.started_at, Instance.updated_at)
            .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
            .where(*_conditions(f, now, planned)).order_by(*order))


def _window(f: MonitorFilter, now: datetime, planned: bool, limit: int, offset: int) -> Select[*tuple[Any, ...]]:
    """`_listed`'s rows `offset` to `offset + limit`. Past the first page the page's ids are found first,
    from the sort's index alone (it holds the sort's columns and the id), and only those rows are then
    read and joined to their version: `_listed` with an offset reads every skipped instance row (~6 KB
    of state each, the listed columns stored after it) and joins its version — page 40 at 10,000
    instances took 4.9 ms for that statement on SQLite, 0.5 ms so (its few rows sorted again)."""
    if not offset:
        return _listed(f, now, planned).limit(limit)
    sort = SORTS[f.sort]
    page = (select(*sort).where(*_conditions(f, now, planned))
            .order_by(*(c.desc() if f.descending else c.asc() for c in sort)).limit(limit).offset(offset)
            .subquery())
    return (select(Instance.id, Instance.process_key, ProcessVersion.name, Instance.title, Instance.status,
                   Instance.fiscal_year, Instance.started_by, Instance.started_at, Instance.updated_at)
            .select_from(page).join(Instance, Instance.id == page.c.id)
            .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
            .order_by(*(page.c[c.key].desc() if f.descending else page.c[c.key].asc() for c in sort)))


def _check(actor: Actor) -> None:
    if not may_monitor(actor):
        raise Forbidden("หน้าติดตามงานสำหรับผู้กำกับติดตามและผู้ดูแลระบบเท่านั้น")


# Built once (a page's ids are an expanding parameter): building them cost about what running them does.
_STEPS = (select(HumanTask.instance_id, HumanTask.name, HumanTask.lane, HumanTask.assignee, HumanTask.school,
                 HumanTask.due_at, User.display_name, School.name.label("school_name"))
          .outerjoin(User, User.username == HumanTask.assignee).outerjoin(School, School.code == HumanTask.school)
          .where(HumanTask.instance_id.in_(bindparam("ids", expanding=True)), HumanTask.status == "ready")
          .order_by(HumanTask.created_at, HumanTask.id))
_ERRORS = (select(Event.instance_id, Event.data, Event.task_name)
           .where(Event.instance_id.in_(bindparam("ids", expanding=True)), Event.kind == "error").order_by(Event.id))


def _rows(session: Session, found: list[Any], now: datetime, lane_names: dict[str, str]) -> list[MonitorRow]:
    """The page's instances with their current steps, holders and errors: two statements, always."""
    ids = [r.id for r in found]
    if not ids:
        return []
    tasks = list(session.execute(_STEPS, {"ids": ids}))
    errors: dict[str, str] = {}
    # Only instances in error have one to show: a page of running ones reads no event (the statement still
    # runs, so a page costs the same statements whatever it holds).
    stopped = [r.id for r in found if r.status == "error"]
    for instance_id, data, task_name in session.execute(_ERRORS, {"ids": stopped}):
        message = data.get("message") if isinstance(data, dict) else None
        errors[instance_id] = f"{task_name}: {message}" if task_name and message else str(message or task_name or "")
    steps: dict[str, list[Step]] = {}
    for t in tasks:
        if t.assignee:
            holder, claimed = t.display_name or t.assignee, True
        elif t.school:
            holder, claimed = t.school_name or t.school, False
        else:
            holder, claimed = lane_names.get(t.lane, t.lane), False
        due = _aware(t.due_at) if t.due_at else None
        steps.setdefault(t.instance_id, []).append(
            Step(t.name, t.lane, holder, claimed, due, due is not None and due < now))
    return [MonitorRow(r.id, r.process_key, r.name, r.title, r.status, r.fiscal_year, r.started_by,
                       _aware(r.started_at), _aware(r.updated_at), steps.get(r.id, []),
                       (errors.get(r.id) or "ขัดข้อง (ไม่มีรายละเอียด)") if r.status == "error" else None)
            for r in found]


def page(session: Session, actor: Actor, f: MonitorFilter, number: int, size: int = 50,
         now: datetime | None = None) -> MonitorPage:
    """One page of the list (one row more than asked tells whether another follows), the count of what
    the filter selects (capped), and what the filters offer."""
    _check(actor)
    now = now or datetime.now(UTC)
    size = max(1, min(size, MAX_PAGE))
    number = max(1, min(number, MAX_PAGE_NUMBER))
    planned = _planned(session)
    where = _conditions(f, now, planned)
    counted = select(Instance.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = Count.capped(session.scalar(select(func.count()).select_from(counted)) or 0, COUNT_CAP)
    if not total.more:  # past the last page: the last page
        number = min(number, max(1, -(-total.n // size)))
    lane_names = lane_table.names(session)
    found = list(session.execute(_window(f, now, planned, size + 1, (number - 1) * size)))
    schools = [(c, n) for c, n in session.execute(select(School.code, School.name).order_by(School.code).limit(2000))]
    return MonitorPage(_rows(session, found[:size], now, lane_names), len(found) > size, total, number, size,
                       procedure_names(session), lane_names, schools)


def export_chunks(session: Session, actor: Actor, f: MonitorFilter, now: datetime | None = None,
                  limit: int = EXPORT_MAX, chunk: int = EXPORT_CHUNK) -> Iterator[list[MonitorRow]]:
    """Everything the filter selects, in the page's order, a chunk at a time (never all in memory)."""
    _check(actor)
    now = now or datetime.now(UTC)
    planned = _planned(session)
    lane_names = lane_table.names(session)
    done = 0
    while done < limit:
        found = list(session.execute(_window(f, now, planned, min(chunk, limit - done), done)))
        if not found:
            return
        yield _rows(session, found, now, lane_names)
        done += len(found)
        if len(found) < chunk:
            return
