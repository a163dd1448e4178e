"""The officers' inbox: ready tasks of their lanes (and of those they act for), newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from . import school_scope
from .accounts import Actor, names
from .assignments import acting_lanes, effective_actor
from .models import HumanTask, Instance, ProcessVersion
from .people import lanes as lane_table
from .rounds import returned


def _conditions(working: Actor, lane: str | None, process: str | None) -> list[ColumnElement[bool]]:
    lanes = working.works_lanes
    if lane:
        lanes = lanes & {lane}
    # A school's round only for its own school's users.
    conditions = [HumanTask.status == "ready", HumanTask.lane.in_(sorted(lanes)), school_scope.open_to(working)]
    if process:
        conditions.append(Instance.process_key == process)
    return conditions


def inbox(session: Session, actor: Actor, lane: str | None = None, process: str | None = None,
          limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of the inbox and the number of tasks in it in all."""
    working = effective_actor(session, actor)
    acting = acting_lanes(session, actor)
    base = (select(HumanTask, Instance, ProcessVersion.name)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .join(ProcessVersion, ProcessVersion.id == Instance.version_id))
    query = base.where(*_conditions(working, lane, process))
    query = query.order_by(HumanTask.created_at.desc(), HumanTask.id).limit(max(1, limit)).offset(max(0, offset))
    total_query = select(func.count(HumanTask.id)).join(Instance, Instance.id == HumanTask.instance_id).where(
        *_conditions(working, lane, process))
    total = session.scalar(total_query) or 0
    found = session.execute(query).all()
    lane_names = lane_table.names(session)
    who = names(session, [i.started_by for _, i, _ in found] + [t.assignee for t, _, _ in found]
                + list(acting.values()))
    returns = returned.of_tasks(session, [task.id for task, _, _ in found])
    rows = []
    for task, instance, process_name in found:
        rows.append({
            "id": task.id, "instance": instance.id, "name": task.name, "step": task.task_spec,
            "lane": task.lane, "lane_name": lane_names.get(task.lane, task.lane),
            "process": instance.process_key, "process_name": process_name, "title": instance.title,
            "fiscal_year": instance.fiscal_year, "started_by": instance.started_by,
            "started_by_name": who.get(instance.started_by, instance.started_by),
            "created_at": task.created_at, "due_at": task.due_at,
            "assignee": task.assignee, "assignee_name": who.get(task.assignee or "", task.assignee),
            "acting_for": acting.get(task.lane),
            "acting_for_name": who.get(acting.get(task.lane) or "", acting.get(task.lane)),
            "returned": returns.get(task.id),
        })
    return rows, total


def count_waiting(session: Session, actor: Actor) -> int:
    """Ready tasks the actor may do now: their lanes', not held by somebody else."""
    working = effective_actor(session, actor)
    query = select(func.count(HumanTask.id)).join(Instance, Instance.id == HumanTask.instance_id).where(
        *_conditions(working, None, None))
    query = query.where((HumanTask.assignee.is_(None)) | (HumanTask.assignee == actor.username))
    return session.scalar(query) or 0
