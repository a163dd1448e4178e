"""The supervisor's dashboard for one procedure and fiscal year, computed by the database.

Time in a step is a round's ready → completed (human_tasks.created_at → completed_at): a step done
twice (a return for revision) counts as two rounds. Waiting in a lane is a round's ready → completed,
or ready → now for a round still waiting. Median and 90th percentile are percentile_cont's (linear
between the two nearest ranks), computed in Python from one read of the rounds (SQLite has no
percentile_cont): the database works out each round's seconds, Python sorts them per step and per lane.
Counts of instances are a GROUP BY; rounds are counted in the same read; nothing loads an instance.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, and_, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..accounts import names as user_names
from ..models import HumanTask, Instance, ProcessVersion, School
from ..people import lanes as lane_table

OVERDUE_SHOWN = 20
PEOPLE_SHOWN = 30
SCHOOLS_SHOWN = 50
CHUNK = 10_000  # rounds fetched at a time


class seconds_between(FunctionElement[int]):  # noqa: N801 - an SQL function's name
    """Whole seconds from the second moment to the first, in SQL, on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, begin = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND((julianday({end}) - julianday({begin})) * 86400) AS INTEGER)"


@compiles(seconds_between)
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, begin = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end}) - ({begin})) AS BIGINT)"


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


def percentile(ranked: dict[int, int], count: int, p: Fraction) -> float:
    """percentile_cont(p) from the values at 0-based ranks (only the two it needs are required)."""
    position = p * (count - 1)
    low = position.numerator // position.denominator
    high = low + (1 if position.denominator > 1 else 0)
    value = ranked[low] + (ranked[high] - ranked[low]) * (position - low)
    return float(value)


MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)

# A round's status as the figures filter it: an expression, not the column, so that no index on status
# can be chosen to drive the join. SQLite plans without statistics until it has run a while
# (engine/read/statistics.py) and then walked every ready or completed round of every procedure through
# ix_human_tasks_due, reading each one's ~6 KB instance row to check its procedure and year (EXPLAIN QUERY
# PLAN; 190 ms at 10,000 instances); this way it reads the procedure's instances from ix_instances_dashboard
# and their rounds from ix_human_tasks_dashboard, both covering. PostgreSQL plans by its statistics either way.
ROUND_STATUS = HumanTask.status + ""


def spread(durations: dict[str, list[int]]) -> dict[str, tuple[int, float, float]]:
    """key -> (rounds, median, p90) of each key's durations."""
    found = {}
    for key, values in durations.items():
        values.sort()
        ranked = dict(enumerate(values))
        found[key] = (len(values), percentile(ranked, len(values), MEDIAN), percentile(ranked, len(values), P90))
    return found


Groups = Counter[tuple[str, bool, str | None, str | None, str | None]]


def _rounds(session: Session, scope: list[ColumnElement[bool]], late: ColumnElement[bool],
            now: datetime) -> tuple[dict[str, list[int]], dict[str, list[int]], Groups]:
    """One read of the procedure's rounds (ready or completed) for all the figures that need them:
    each step's completed durations, each lane's durations up to now, and the rounds counted by
    status, lateness, holder, who did it and school. It was three statements, each reading every
    round again, two of them ranking with window functions: 240 ms of SQL at 10,000 instances on
    SQLite, most of it the windows' sorts. What reaches Python is two integers per round, in chunks."""
    at_now = func.coalesce(HumanTask.completed_at, literal(now, DateTime(timezone=True)))
    query = (select(HumanTask.status, HumanTask.task_spec, HumanTask.lane,
                    seconds_between(HumanTask.completed_at, HumanTask.created_at),
                    seconds_between(at_now, HumanTask.created_at), late, HumanTask.assignee,
                    HumanTask.completed_by, HumanTask.school)
             .select_from(Instance).join(HumanTask, Instance.id == HumanTask.instance_id)
             .where(*scope, ROUND_STATUS.in_(("ready", "completed"))))
    steps: dict[str, list[int]] = defaultdict(list)
    lanes: dict[str, list[int]] = defaultdict(list)
    groups: Groups = Counter()
    result = session.connection().execute(query.execution_options(stream_results=True, max_row_buffer=CHUNK))
    for status, spec, lane, step_seconds, lane_seconds, is_late, holder, done_by, school in result:
        if status == "completed":
            steps[spec].append(int(step_seconds))
        lanes[lane].append(int(lane_seconds))
        groups[(status, bool(is_late), holder, done_by, school)] += 1
    return steps, lanes, groups


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
    step_durations, lane_durations, counts = _rounds(session, scope, late, now)
    steps, lanes = spread(step_durations), spread(lane_durations)
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
