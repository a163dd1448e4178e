"""Ready tasks of a person's lanes, newest first, read the way the index holds them.

One branch per (lane, school) the person may see: `lane = ? AND status = 'ready' AND school IS NULL`
(and `school = ?` for a school's user) is an equality prefix of ix_human_tasks_inbox, so each branch
reads its newest rows in index order and stops at the page; the branches are merged and only then
joined to the few instance rows shown, for their columns only (an instance row carries ~6 KB of state).
A single `lane IN (...)` query would sort every ready task of those lanes first (EXPLAIN QUERY PLAN:
USE TEMP B-TREE FOR ORDER BY), and `school IS NULL` alone lets SQLite without statistics pick the
school index and scan every task. Counts stop at a cap for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from ..accounts import Actor
from ..models import HumanTask, Instance, ProcessVersion, TaskReturn, User
from .rows import Count, TaskSummary

COUNT_CAP = 1000  # the inbox says "more than 1,000" rather than count 100,000 tasks on every page
WAITING_CAP = 99  # the badge beside the inbox link: 99+


# The statements are built once per shape — (number of lanes, a school's user or not, filtered by
# procedure or not, ...) — with every value a bound parameter: building a union of SQLAlchemy
# constructs costs more than running it. They are immutable, so caching them per process is safe.
Shape = tuple[int, bool, bool]


def _shape(actor: Actor, lane: str | None, process: str | None) -> tuple[Shape, dict[str, Any]]:
    lanes = sorted(actor.works_lanes & {lane} if lane else actor.works_lanes)
    params: dict[str, Any] = {f"lane_{n}": name for n, name in enumerate(lanes)}
    params.update(school=actor.school, process=process)
    return (len(lanes), actor.school is not None, bool(process)), params


def _branches(shape: Shape, extra: tuple[ColumnElement[bool], ...] = (),
              prefix: str = "") -> list[list[ColumnElement[bool]]]:
    """`prefix` names the parameters apart when two counts share a statement (counts_query)."""
    lanes, with_school, by_process = shape
    found = []
    for n in range(lanes):
        schools = [HumanTask.school.is_(None)] + (
            [HumanTask.school == bindparam(f"{prefix}school")] if with_school else [])
        for school in schools:
            conditions = [HumanTask.lane == bindparam(f"{prefix}lane_{n}"), HumanTask.status == "ready", school,
                          *extra]
            if by_process:  # checked per task read, by the instance's key: stops at the page like the rest
                conditions.append(exists().where(Instance.id == HumanTask.instance_id,
                                                 Instance.process_key == bindparam(f"{prefix}process")))
            found.append(conditions)
    return found


COLUMNS = (HumanTask.id, HumanTask.instance_id, HumanTask.name, HumanTask.task_spec, HumanTask.lane,
           HumanTask.status, HumanTask.school, HumanTask.created_at, HumanTask.due_at, HumanTask.assignee,
           Instance.process_key, Instance.title, Instance.fiscal_year, Instance.started_by,
           ProcessVersion.name.label("process_name"))


_STARTER, _HOLDER = aliased(User), aliased(User)
# The HTML inbox's page also names the starter and the holder and tells which rows follow a return for
# revision: outer joins on the page's rows only (users.username and task_returns.task_id are unique), so
# the page is one statement where it was three. A missing user is NULL (named by their username).
NAMED = (_STARTER.display_name.label("started_by_name"), _HOLDER.display_name.label("assignee_name"),
         TaskReturn.event_id.label("returned_event"))


@lru_cache(maxsize=256)
def _page_statement(shape: Shape, named: bool = False) -> Select[*tuple[Any, ...]]:
    """Each branch's newest `upto` ready tasks in index order, merged, then joined for COLUMNS (and, when
    `named`, for NAMED)."""
    parts = []
    for conditions in _branches(shape):
        inner = (select(HumanTask.id, HumanTask.created_at).where(*conditions)
                 .order_by(HumanTask.created_at.desc(), HumanTask.id).limit(bindparam("upto")).subquery())
        parts.append(select(inner.c.id, inner.c.created_at))
    ids = (parts[0] if len(parts) == 1 else select(*union_all(*parts).subquery().c)).subquery()
    found = (select(*COLUMNS).select_from(ids).join(HumanTask, HumanTask.id == ids.c.id)
             .join(Instance, Instance.id == HumanTask.instance_id)
             .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
             .order_by(ids.c.created_at.desc(), ids.c.id).limit(bindparam("limit")).offset(bindparam("offset")))
    if not named:
        return found
    # Joined to the page's rows after its LIMIT, not beside the rest: PostgreSQL planned the seven-way join
    # on every request (3.4 ms of planning for 0.6 of work; the page alone plans in 0.8).
    page = found.subquery()
    return (select(page, *NAMED).outerjoin(_STARTER, _STARTER.username == page.c.started_by)
            .outerjoin(_HOLDER, _HOLDER.username == page.c.assignee)
            .outerjoin(TaskReturn, TaskReturn.task_id == page.c.id)
            .order_by(page.c.created_at.desc(), page.c.id))


def page_query(actor: Actor, lane: str | None, process: str | None, limit: int, offset: int,
               named: bool = False) -> tuple[Select[*tuple[Any, ...]], dict[str, Any]] | None:
    """COLUMNS (and NAMED when `named`) of one page of ready tasks, newest first (ties by id), and its
    parameters; None when the actor has no lanes."""
    shape, params = _shape(actor, lane, process)
    if not shape[0]:
        return None
    return _page_statement(shape, named), params | {"upto": offset + limit, "limit": limit, "offset": offset}


def page(session: Session, actor: Actor, lane: str | None, process: str | None, limit: int,
         offset: int, named: bool = False) -> Sequence[Row[*tuple[Any, ...]]]:
    query = page_query(actor, lane, process, limit, offset, named)
    return [] if query is None else session.execute(*query).all()


def summaries(session: Session, actor: Actor, lane: str | None, process: str | None, limit: int,
              offset: int) -> list[TaskSummary]:
    """The API's task list (GET /tasks)."""
    return [TaskSummary(id=r.id, instance=r.instance_id, name=r.name, lane=r.lane, process=r.process_key,
                        status=r.status, school=r.school, created_at=r.created_at, due_at=r.due_at)
            for r in page(session, actor, lane, process, limit, offset)]


@lru_cache(maxsize=256)
def _count_statement(shape: Shape, waiting: bool, prefix: str = "") -> Select[int]:
    extra = ((HumanTask.assignee.is_(None)) | (HumanTask.assignee == bindparam(f"{prefix}waiting_for")),) \
        if waiting else ()
    parts = [select(literal(1).label("one")).where(*conditions).limit(bindparam(f"{prefix}cap")).subquery()
             for conditions in _branches(shape, extra, prefix)]
    counted = union_all(*(select(part.c.one) for part in parts)).subquery()
    return select(func.count()).select_from(counted)


def count_query(actor: Actor, lane: str | None = None, process: str | None = None, cap: int | None = None,
                waiting_for: str | None = None, prefix: str = "") -> tuple[Select[int], dict[str, Any]] | None:
    """How many ready tasks, reading at most `cap` + 1 per branch, and its parameters; None when the
    actor has no lanes. `prefix`: the parameters' names begin with it."""
    shape, params = _shape(actor, lane, process)
    if not shape[0]:
        return None
    cap = COUNT_CAP if cap is None else cap
    params |= {"cap": cap + 1, "waiting_for": waiting_for}
    return _count_statement(shape, waiting_for is not None, prefix), {prefix + k: v for k, v in params.items()}


@lru_cache(maxsize=256)
def _side_by_side(statements: tuple[Select[int], ...]) -> Select[tuple[int, ...]]:
    return select(*(s.scalar_subquery() for s in statements))


def counts(session: Session, queries: list[tuple[Select[int], dict[str, Any]] | None]) -> list[int]:
    """Several count_query()s (their parameters named apart by their prefixes) in one statement: what
    each found, 0 for a None (no lanes)."""
    asked = [q for q in queries if q is not None]
    found = iter(session.execute(_side_by_side(tuple(s for s, _ in asked)),
                                 {k: v for _, p in asked for k, v in p.items()}).one() if asked else ())
    return [int(next(found) or 0) if q is not None else 0 for q in queries]


def count(session: Session, actor: Actor, lane: str | None = None, process: str | None = None,
          cap: int | None = None, waiting_for: str | None = None) -> Count:
    """Ready tasks in all, up to `cap` (COUNT_CAP; one more read tells "more"); with `waiting_for`, only
    those free or held by that person."""
    cap = COUNT_CAP if cap is None else cap
    query = count_query(actor, lane, process, cap, waiting_for)
    return Count.capped((session.scalar(*query) or 0) if query is not None else 0, cap)
