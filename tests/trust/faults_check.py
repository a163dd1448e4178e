"""What "every instance before or after each step, never between" means, checked on the database itself.

Used by the fault tests after a crash: for every instance, the stored workflow state, its task rows, its
events and its search row must tell one story; a check returns the problems it found, one line each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import state
from engine.db import Database
from engine.models import Attachment, Event, HumanTask, Instance, InstanceSearch
from engine.runner import ready_user_tasks
from engine.runtime import versions
from engine.search.index import text_of


@dataclass
class Acknowledged:
    """What the server answered 200/201 to: each must be in the database afterwards."""

    starts: set[str] = field(default_factory=set)  # instance ids
    completions: dict[str, str] = field(default_factory=dict)  # task id → instance id
    uploads: dict[str, str] = field(default_factory=dict)  # attachment id → task id


def _instance_problems(session: Session, instance: Instance) -> list[str]:
    where = f"instance {instance.id}"
    try:
        workflow = state.load(versions.compiled(session, instance.version_id), instance.state)
    except Exception as err:  # noqa: BLE001 - an unreadable state is exactly what this reports
        return [f"{where}: its state cannot be loaded: {type(err).__name__}: {err}"]
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    events = session.scalars(select(Event).where(Event.instance_id == instance.id)).all()
    problems: list[str] = []
    ready_in_state = {str(task.id) for task in ready_user_tasks(workflow)}
    ready_rows = {row.spiff_task_id for row in rows if row.status == "ready"}
    if ready_in_state != ready_rows:
        problems.append(f"{where}: ready in the state {sorted(ready_in_state)} but as rows {sorted(ready_rows)}")
    in_state = {str(task.id): task.state for task in workflow.get_tasks()}
    completed = {row.id: row for row in rows if row.status == "completed"}
    for row in completed.values():
        if in_state.get(row.spiff_task_id) != TaskState.COMPLETED:
            problems.append(f"{where}: task {row.id} ({row.task_spec}) completed as a row, "
                            f"{in_state.get(row.spiff_task_id, 'absent')} in the state")
    per_task = Counter(event.task_id for event in events if event.kind == "completed")
    for task_id, count in per_task.items():
        if task_id not in completed:
            problems.append(f"{where}: a completion event for task {task_id}, which is not completed")
        elif count != 1:
            problems.append(f"{where}: task {task_id} has {count} completion events")
    for task_id in completed:
        if per_task[task_id] == 0:
            problems.append(f"{where}: task {task_id} completed without its event")
    starts = sum(1 for event in events if event.kind == "started")
    if starts != 1:
        problems.append(f"{where}: {starts} start events")
    if instance.revision != 1 + len(per_task):
        problems.append(f"{where}: revision {instance.revision} after {len(per_task)} completions")
    search = session.get(InstanceSearch, instance.id)
    if search is None or search.text != text_of(session, instance):
        problems.append(f"{where}: its search row is missing or stale")
    return problems


def problems(url: str) -> tuple[int, list[str]]:
    """The instances checked and every inconsistency found among them."""
    db = Database(url)
    found: list[str] = []
    try:
        with db.transaction(read_only=True) as session:
            instances = session.scalars(select(Instance).order_by(Instance.id)).all()
            for instance in instances:
                found += _instance_problems(session, instance)
            return len(instances), found
    finally:
        db.dispose()


def instance_ids(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.transaction(read_only=True) as session:
            return list(session.scalars(select(Instance.id).order_by(Instance.id)))
    finally:
        db.dispose()


def missing(url: str, acked: Acknowledged) -> list[str]:
    """Every acknowledged start, completion and upload that is not in the database."""
    db = Database(url)
    try:
        with db.transaction(read_only=True) as session:
            instances = set(session.scalars(select(Instance.id)))
            done = {row.id: row.instance_id for row in session.scalars(
                select(HumanTask).where(HumanTask.status == "completed"))}
            attachments = set(session.scalars(select(Attachment.id)))
    finally:
        db.dispose()
    lost = [f"start of {i}" for i in sorted(acked.starts - instances)]
    lost += [f"completion of {t}" for t, i in sorted(acked.completions.items()) if done.get(t) != i]
    lost += [f"upload {a}" for a in sorted(set(acked.uploads) - attachments)]
    return lost
