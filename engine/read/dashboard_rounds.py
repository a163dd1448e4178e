"""The dashboard's figures that read every round of a procedure and year (engine/read/dashboard.py):
how long each step's rounds took and each lane's waited (count, median, 90th percentile), and the
rounds counted by status, lateness, holder, who did it and school.

Two ways, each the faster on its database (measured at 10,000 instances, 30,000 rounds, the same run):
SQLite reads the rounds once, the database working out each round's seconds and Python sorting them
per step and per lane (its window functions sorted the same rounds twice more, ~30% slower); PostgreSQL
ranks in SQL and returns only the ranks the percentiles need, and counts with a GROUP BY (streaming
30,000 rows to Python was ~25% slower there). Both give the same figures (tests/test_dashboard.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..models import HumanTask, Instance

CHUNK = 10_000  # rounds fetched at a time (SQLite's way)
MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)

Spreads = dict[str, tuple[int, float, float]]  # key -> (rounds, median, p90) in seconds
Groups = Counter[tuple[str, bool, str | None, str | None, str | None]]  # status, late, holder, done by, school

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


def _spread(durations: dict[str, list[int]]) -> Spreads:
    """key -> (rounds, median, p90) of each key's durations."""
    found = {}
    for key, values in durations.items():
        values.sort()
        ranked = dict(enumerate(values))
        found[key] = (len(values), percentile(ranked, len(values), MEDIAN), percentile(ranked, len(values), P90))
    return found


def _read_once(session: Session, scope: list[ColumnElement[bool]], late: ColumnElement[bool],
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
    counted: Counter[tuple[Any, ...]] = Counter()  # lateness as the database gives it: 0, 1, NULL or a bool
    result = session.connection().execute(query.execution_options(stream_results=True, max_row_buffer=CHUNK))
    for status, spec, lane, step_seconds, lane_seconds, *group in result:  # seconds: integers (CAST in SQL)
        if status == "completed":
            steps[spec].append(step_seconds)
        lanes[lane].append(lane_seconds)
        counted[(status, *group)] += 1
    groups: Groups = Counter()
    for (status, is_late, holder, done_by, school), count in counted.items():
        groups[(status, bool(is_late), holder, done_by, school)] += count
    return steps, lanes, groups


def _ranked(session: Session, key: Any, seconds: ColumnElement[int], where: list[ColumnElement[bool]]) -> Spreads:
    """key -> (rounds, median, p90), ranked in SQL, reading only the ranks the two percentiles need."""
    durations = (select(key.label("k"), seconds.label("d")).select_from(Instance)
                 .join(HumanTask, Instance.id == HumanTask.instance_id).where(*where).subquery())
    k, d = durations.c.k, durations.c.d  # each duration computed once, then ranked
    ranked = select(k, d, (func.row_number().over(partition_by=k, order_by=d) - 1).label("r"),
                    func.count().over(partition_by=k).label("n")).subquery()
    r, n = ranked.c.r, ranked.c.n
    wanted = ((r == (n - 1) // 2) | (r == n // 2) | (r == (9 * (n - 1)) // 10) | (r == (9 * (n - 1) + 9) // 10))
    values: dict[str, dict[int, int]] = defaultdict(dict)
    counts: dict[str, int] = {}
    for row in session.execute(select(ranked.c.k, ranked.c.d, r, n).where(wanted)):
        values[row.k][int(row.r)] = int(row.d)
        counts[row.k] = int(row.n)
    return {k: (counts[k], percentile(v, counts[k], MEDIAN), percentile(v, counts[k], P90))
            for k, v in values.items()}


def _read_in_sql(session: Session, scope: list[ColumnElement[bool]], late: ColumnElement[bool],
                 now: datetime) -> tuple[Spreads, Spreads, Groups]:
    at_now = func.coalesce(HumanTask.completed_at, literal(now, DateTime(timezone=True)))
    steps = _ranked(session, HumanTask.task_spec, seconds_between(HumanTask.completed_at, HumanTask.created_at),
                    [*scope, ROUND_STATUS == "completed"])
    lanes = _ranked(session, HumanTask.lane, seconds_between(at_now, HumanTask.created_at),
                    [*scope, ROUND_STATUS.in_(("ready", "completed"))])
    groups: Groups = Counter()
    for status, is_late, holder, done_by, school, count in session.execute(
            select(HumanTask.status, late, HumanTask.assignee, HumanTask.completed_by, HumanTask.school, func.count())
            .select_from(Instance).join(HumanTask, Instance.id == HumanTask.instance_id)
            .where(*scope, ROUND_STATUS.in_(("ready", "completed")))
            .group_by(HumanTask.status, late, HumanTask.assignee, HumanTask.completed_by, HumanTask.school)):
        groups[(status, bool(is_late), holder, done_by, school)] += count
    return steps, lanes, groups


def read_rounds(session: Session, scope: list[ColumnElement[bool]], late: ColumnElement[bool],
                now: datetime) -> tuple[Spreads, Spreads, Groups]:
    """(per step, per lane, counted groups) of the rounds in `scope`, the way the database is faster at."""
    if session.get_bind().dialect.name == "sqlite":
        steps, lanes, groups = _read_once(session, scope, late, now)
        return _spread(steps), _spread(lanes), groups
    return _read_in_sql(session, scope, late, now)
