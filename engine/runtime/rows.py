"""A completion's rows read and written with few, cheap statements (issue 14, the write path): the task
and its instance in one read, and the completion's events in one Core INSERT."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from ..models import Event, HumanTask, Instance
from ..search import index as search_index

# The task and its instance in one statement (they were two).
_TASK_AND_INSTANCE = (select(HumanTask, Instance).select_from(Instance)
                      .join(HumanTask, HumanTask.instance_id == Instance.id)
                      .where(HumanTask.id == bindparam("task_id")))


def task_and_instance(session: Session, task_id: str) -> tuple[HumanTask | None, Instance | None]:
    """The task and its instance, without a statement for the task when the session holds it already."""
    held = session.identity_map.get(session.identity_key(HumanTask, task_id))
    if isinstance(held, HumanTask):
        return held, session.get(Instance, held.instance_id)
    found = session.execute(_TASK_AND_INSTANCE, {"task_id": task_id}).first()
    return (found[0], found[1]) if found is not None else (None, None)


def event_values(instance_id: str, actor: str, kind: str, task: HumanTask | None = None,
                 data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event's columns, for an `Event` or a Core INSERT alike; the columns' defaults fill the rest
    (`at`, and `address` from engine/origin.py), in both."""
    return {"instance_id": instance_id, "actor": actor, "kind": kind, "data": data,
            "task_id": task.id if task else None, "task_spec": task.task_spec if task else None,
            "task_name": task.name if task else None, "lane": task.lane if task else None}


# Written at once in one INSERT (a Core one: the session's unit of work has no object to track), their
# ids handed back in the order given.
_EVENTS: Table = Event.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def insert_events(session: Session, instance_id: str, rows: list[dict[str, Any]]) -> list[int]:
    """Append events of one instance (values as event_values gives them); their ids, in order. The search
    index learns of the instance as it would of an Event object flushed (engine/search/index.py reads
    session.info)."""
    ids = list(session.scalars(_INSERT_EVENTS, rows))
    session.info.setdefault(search_index.TOUCHED, set()).add(instance_id)
    return ids
