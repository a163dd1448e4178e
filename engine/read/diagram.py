"""What the instance page's diagram marks: per process (the procedure and each process it calls), the
elements done, the current ones, the overdue ones, and the sequence flows taken (as source/target pairs).

The live state is one round deep (returned rounds are collapsed, runner.py): the rounds done before a
return are added from human_tasks, so a step done once and returned still shows as done.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import state
from ..models import Event, HumanTask, Instance, ProcessVersion, TaskReturn
from ..runtime import versions

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class ProcessMarks:
    key: str
    name: str
    xml: str
    completed: set[str] = field(default_factory=set)
    current: set[str] = field(default_factory=set)
    overdue: set[str] = field(default_factory=set)
    flows: set[tuple[str, str]] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "xml": self.xml,
                "completed": sorted(self.completed - self.current), "current": sorted(self.current),
                "overdue": sorted(self.overdue), "flows": sorted([a, b] for a, b in self.flows)}


def _bpmn_ancestor(task: Any) -> Any:
    """The nearest ancestor in the same process that is a BPMN element (not an engine-internal task)."""
    parent = task.parent
    while parent is not None and parent.workflow is task.workflow and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent if parent is not None and parent.workflow is task.workflow else None


def _process_of(meta: dict[str, Any], step: str, default: str) -> str:
    for key, process in meta.get("processes", {}).items():
        if step in process.get("tasks", {}):
            return str(key)
    return default


def marks(session: Session, instance: Instance, now: datetime | None = None) -> list[ProcessMarks]:
    """The procedure first, then each called process the instance reached or may reach."""
    now = now or datetime.now(UTC)
    row = session.get(ProcessVersion, instance.version_id)
    assert row is not None
    version = versions.compiled(session, instance.version_id)
    called = [k for k in row.meta.get("processes", {}) if k != row.key]
    latest = dict(session.execute(select(ProcessVersion.key, func.max(ProcessVersion.id))
                                  .where(ProcessVersion.key.in_(called)).group_by(ProcessVersion.key)).all())
    found = [ProcessMarks(row.key, row.name, row.bpmn_xml)]
    for key in called:
        if key in latest:
            other = session.get(ProcessVersion, latest[key])
            assert other is not None
            found.append(ProcessMarks(key, other.name, other.bpmn_xml))
    by_key = {m.key: m for m in found}
    flows: dict[str, set[tuple[str, str]]] = defaultdict(set)
    workflow = state.load(version, instance.state)
    for task in workflow.get_tasks():
        spec_id = task.task_spec.bpmn_id
        target = by_key.get(task.workflow.spec.name)
        if not spec_id or target is None:
            continue
        if task.state == TaskState.COMPLETED:
            target.completed.add(spec_id)
        elif task.state & ACTIVE and instance.status in ("running", "suspended", "error"):
            target.current.add(spec_id)
        else:
            continue
        before = _bpmn_ancestor(task)
        if before is not None and before.state == TaskState.COMPLETED:
            flows[target.key].add((before.task_spec.bpmn_id, spec_id))
    for key, pairs in flows.items():
        by_key[key].flows |= pairs
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.status.in_(("ready", "completed")))):
        target = by_key.get(_process_of(row.meta, task.task_spec, row.key))
        if target is None:
            continue
        if task.status == "completed":
            target.completed.add(task.task_spec)
        else:
            target.current.add(task.task_spec)
            due = task.due_at
            if due is not None and (due if due.tzinfo else due.replace(tzinfo=UTC)) < now:
                target.overdue.add(task.task_spec)
    returns = session.execute(select(Event.task_spec, HumanTask.task_spec)
                              .join(TaskReturn, TaskReturn.event_id == Event.id)
                              .join(HumanTask, HumanTask.id == TaskReturn.task_id)
                              .where(Event.instance_id == instance.id)).all()
    for returned_at, again in returns:  # the way back: drawn through the gateway between them (diagram JS)
        target = by_key.get(_process_of(row.meta, again, row.key))
        if returned_at and target is not None:
            target.flows.add((returned_at, again))
    return found
