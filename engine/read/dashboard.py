"""The supervisor's dashboard for one procedure and fiscal year, computed by the database.

Time in a step is a round's ready → completed (human_tasks.created_at → completed_at): a step done
twice (a return for revision) counts as two rounds. Waiting in a lane is a round's ready → completed,
or ready → now for a round still waiting. Median and 90th percentile are percentile_cont's (linear
between the two nearest ranks), computed without percentile_cont (SQLite has none) in
engine/read/dashboard_rounds.py, which reads the rounds the way each database is faster at. Counts of
instances are a GROUP BY; nothing loads an instance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..accounts import names as user_names
from ..models import HumanTask, Instance, ProcessVersion, School
from ..people import lanes as lane_table
from .dashboard_rounds import MEDIAN, P90, ROUND_STATUS, percentile, read_rounds, seconds_between

__all__ = ["MEDIAN", "P90", "ROUND_STATUS", "percentile", "seconds_between", "build", "years"]

OVERDUE_SHOWN = 20
PEOPLE_SHOWN = 30
SCHOOLS_SHOWN = 50


@dataclass(frozen=True)
class Spread:
    """How long rounds of one step (or in one lane) took: count, median and 90th percentile in seconds."""

    key: str
    name: str
    rounds: int
    median: float
    p90: float


@dataclass(frozen=True)
class OverdueTask:
    task_id: str
    instance_id: str
    title: str
    step: str
    lane: str
    lane_name: str
    holder: str | None
    holder_name: str | None
    school: str | None
    ready_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Load:
    """Work of one person or school: rounds done, rounds waiting (held by them / of their school), overdue."""

    key: str
    name: str
    done: int
    waiting: int
    overdue: int


@dataclass(frozen=True)
class Dashboard:
    process: str
    process_name: str
    fiscal_year: int | None
    now: datetime
    statuses: dict[str, int]
    steps: list[Spread]
    lanes: list[Spread]
    overdue: list[OverdueTask]
    overdue_count: int
    people: list[Load]
    schools: list[Load]

    @property
    def instances(self) -> int:
        return sum(self.statuses.values())


def years(session: Session, process: str) -> list[int]:
    """The fiscal years this procedure has instances in, newest first."""
    return [y for y in session.scalars(select(Instance.fiscal_year).where(
        Instance.process_key == process, Instance.fiscal_year.is_not(None)).distinct()
        .order_by(Instance.fiscal_year.desc())) if y is not None]


def _step_names(session: Session, process: str) -> dict[str, str]:
    meta = session.scalars(select(ProcessVersion.meta).where(ProcessVersion.key == process)
                           .order_by(ProcessVersion.version.desc()).limit(1)).first() or {}
    found: dict[str, str] = {}
    for described in meta.get("processes", {}).values():
        for spec, task in described.get("tasks", {}).items():
            if isinstance(task, dict) and task.get("name"):
                found.setdefault(spec, str(task["name"]))
    return found


def build(session: Session, process: str, fiscal_year: int | None, now: datetime | None = None) -> Dashboard:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    scope = [Instance.process_key == process]
    if fiscal_year is not None:
        scope.append(Instance.fiscal_year == fiscal_year)
    statuses = {status: int(count) for status, count in session.execute(
        select(Instance.status, func.count()).where(*scope).group_by(Instance.status))}
    late = and_(HumanTask.status == "ready", HumanTask.due_at < now)
    steps, lanes, counts = read_rounds(session, scope, late, now)
    step_names, lane_names = _step_names(session, process), lane_table.names(session)
    in_scope = select().select_from(HumanTask).join(Instance, Instance.id == HumanTask.instance_id).where(*scope)
    overdue_rows = session.execute(in_scope.add_columns(
        HumanTask.id, HumanTask.instance_id, Instance.title, HumanTask.name, HumanTask.lane, HumanTask.assignee,
        HumanTask.school, HumanTask.created_at, HumanTask.due_at).where(late)
        .order_by(HumanTask.due_at, HumanTask.id).limit(OVERDUE_SHOWN)).all()
    overdue_count = 0
    by_person: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_school: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (status, is_late, holder, done_by, school), count in counts.items():
        ready, overdue = status == "ready", bool(is_late)
        overdue_count += count if overdue else 0
        person = holder if ready else done_by
        for key, table in ((person, by_person), (school, by_school)):
            if key is not None:
                row = table[key]
                row[1 if ready else 0] += count
                row[2] += count if overdue else 0
    who = user_names(session, [*by_person, *(r.assignee for r in overdue_rows)])
    school_names = dict(session.execute(select(School.code, School.name).where(
        School.code.in_(sorted({*by_school, *(r.school for r in overdue_rows if r.school)})))).all())
    process_name = session.scalars(select(ProcessVersion.name).where(ProcessVersion.key == process)
                                   .order_by(ProcessVersion.version.desc()).limit(1)).first() or process

    def spread_list(found: dict[str, tuple[int, float, float]], named: dict[str, str]) -> list[Spread]:
        spreads = [Spread(k, named.get(k, k), *v) for k, v in found.items()]
        return sorted(spreads, key=lambda s: (-s.median, -s.p90, s.key))

    people = sorted((Load(k, who.get(k, k), *v) for k, v in by_person.items()),
                    key=lambda p: (-p.waiting - p.done, p.key))[:PEOPLE_SHOWN]
    schools = sorted((Load(k, school_names.get(k, k), *v) for k, v in by_school.items()),
                     key=lambda s: (-s.overdue, -s.waiting, s.key))
    return Dashboard(
        process=process, process_name=process_name, fiscal_year=fiscal_year, now=now, statuses=statuses,
        steps=spread_list(steps, step_names), lanes=spread_list(lanes, lane_names),
        overdue=[OverdueTask(r.id, r.instance_id, r.title, r.name, r.lane, lane_names.get(r.lane, r.lane),
                             r.assignee, who.get(r.assignee or "", r.assignee), r.school, r.created_at, r.due_at)
                 for r in overdue_rows],
        overdue_count=int(overdue_count), people=people, schools=schools[:SCHOOLS_SHOWN])
