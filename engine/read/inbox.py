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
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from ..accounts import Actor
from ..models import HumanTask, Instance, ProcessVersion
from .rows import Count, TaskSummary

COUNT_CAP = 1000  # the inbox says "more than 1,000" rather than count 100,000 tasks on every page
WAITING_CAP = 99  # the badge beside the inbox link: 99+


def branches(actor: Actor, lane: str | None = None) -> list[tuple[str, str | None]]:
    """(lane, school) pairs whose ready tasks the actor sees: every lane's tasks of no school, and for a
    school's user also their own school's rounds (school_scope.open_to, split into equalities)."""
    lanes = actor.works_lanes & {lane} if lane else actor.works_lanes
    schools: list[str | None] = [None] if actor.school is None else [None, actor.school]
    return [(name, school) for name in sorted(lanes) for school in schools]


def _branch(lane: str, school: str | None, process: str | None,
            extra: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    conditions = [HumanTask.lane == lane, HumanTask.status == "ready",
                  HumanTask.school.is_(None) if school is None else HumanTask.school == school, *extra]
    if process:  # checked per task read, by the instance's key: stops at the page like the rest
        conditions.append(exists().where(Instance.id == HumanTask.instance_id, Instance.process_key == process))
    return conditions


def _newest_ids(actor: Actor, lane: str | None, process: str | None, upto: int) -> Select[*tuple[Any, ...]] | None:
    """The ids and creation times of the newest `upto` ready tasks of each branch, merged (unsorted)."""
    parts = []
    for name, school in branches(actor, lane):
        inner = (select(HumanTask.id, HumanTask.created_at).where(*_branch(name, school, process, []))
                 .order_by(HumanTask.created_at.desc(), HumanTask.id).limit(upto).subquery())
        parts.append(select(inner.c.id, inner.c.created_at))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else select(*union_all(*parts).subquery().c)


COLUMNS = (HumanTask.id, HumanTask.instance_id, HumanTask.name, HumanTask.task_spec, HumanTask.lane,
           HumanTask.status, HumanTask.school, HumanTask.created_at, HumanTask.due_at, HumanTask.assignee,
           Instance.process_key, Instance.title, Instance.fiscal_year, Instance.started_by,
           ProcessVersion.name.label("process_name"))


def page_query(actor: Actor, lane: str | None, process: str | None, limit: int,
               offset: int) -> Select[*tuple[Any, ...]] | None:
    """COLUMNS of one page of ready tasks, newest first (ties by id); None when the actor has no lanes."""
    newest = _newest_ids(actor, lane, process, offset + limit)
    if newest is None:
        return None
    ids = newest.subquery()
    return (select(*COLUMNS).select_from(ids).join(HumanTask, HumanTask.id == ids.c.id)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
            .order_by(ids.c.created_at.desc(), ids.c.id).limit(limit).offset(offset))


def page(session: Session, actor: Actor, lane: str | None, process: str | None, limit: int,
         offset: int) -> Sequence[Row[*tuple[Any, ...]]]:
    query = page_query(actor, lane, process, limit, offset)
    return [] if query is None else session.execute(query).all()


def summaries(session: Session, actor: Actor, lane: str | None, process: str | None, limit: int,
              offset: int) -> list[TaskSummary]:
    """The API's task list (GET /tasks)."""
    return [TaskSummary(id=r.id, instance=r.instance_id, name=r.name, lane=r.lane, process=r.process_key,
                        status=r.status, school=r.school, created_at=r.created_at, due_at=r.due_at)
            for r in page(session, actor, lane, process, limit, offset)]


def count_query(actor: Actor, lane: str | None = None, process: str | None = None, cap: int | None = None,
                waiting_for: str | None = None) -> Select[int] | None:
    """How many ready tasks, reading at most `cap` + 1 per branch; None when the actor has no lanes."""
    cap = COUNT_CAP if cap is None else cap
    extra: list[ColumnElement[bool]] = []
    if waiting_for is not None:
        extra.append((HumanTask.assignee.is_(None)) | (HumanTask.assignee == waiting_for))
    parts = [select(literal(1).label("one")).where(*_branch(name, school, process, extra)).limit(cap + 1).subquery()
             for name, school in branches(actor, lane)]
    if not parts:
        return None
    counted = union_all(*(select(part.c.one) for part in parts)).subquery()
    return select(func.count()).select_from(counted)


def count(session: Session, actor: Actor, lane: str | None = None, process: str | None = None,
          cap: int | None = None, waiting_for: str | None = None) -> Count:
    """Ready tasks in all, up to `cap` (COUNT_CAP; one more read tells "more"); with `waiting_for`, only
    those free or held by that person."""
    cap = COUNT_CAP if cap is None else cap
    query = count_query(actor, lane, process, cap, waiting_for)
    return Count.capped(session.scalar(query) or 0 if query is not None else 0, cap)
