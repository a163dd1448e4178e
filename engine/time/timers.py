"""An instance's timers as rows: after every write, the timer events its workflow waits at are
mirrored into `timers` (one pending row per waiting timer), as ready user tasks are into human_tasks.

The due time is SpiffWorkflow's own (the `event_value` it computed when the timer began to wait), so
a row comes due exactly when SpiffWorkflow would let the event fire.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..models import Event, HumanTask, Instance, Timer
from ..runner import fired_and_dropped
from ..thai_calendar import iso_time
from . import reminders

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"
# What a timer is for, as the timeline and the docs name it.
DEADLINE = "deadline"  # interrupting boundary timer on a task: the task is taken away (escalation)
REMINDER = "reminder"  # non-interrupting boundary timer: the task stays
WAIT = "wait"  # intermediate timer event: the flow waits until a date or for a duration
START = "start"  # timer start event: the procedure starts itself
TIMER_ACTOR = "timer"  # the actor of what timers do, on the timeline


@dataclass(frozen=True)
class WaitingTimer:
    spiff_task_id: str
    element: str
    name: str
    kind: str
    due_at: datetime


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def kind_of(spec: Any) -> str:
    if isinstance(spec, BoundaryEvent):
        return DEADLINE if spec.cancel_activity else REMINDER
    if isinstance(spec, StartEvent):
        return START
    return WAIT


def _due(task: Any, definition: TimerEventDefinition) -> datetime | None:
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return datetime.now(UTC)  # all cycles done: the next refresh ends the event
        return _utc(datetime.fromisoformat(value["next"]))
    parsed = TimerEventDefinition.parse_time_or_duration(value)
    return _utc(parsed) if isinstance(parsed, datetime) else None


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """The timer events the workflow waits at, with when each comes due."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if not isinstance(spec, CatchingEvent) or not isinstance(definition, TimerEventDefinition):
            continue
        due = _due(task, definition)
        if due is not None:
            found.append(WaitingTimer(str(task.id), spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id or "",
                                      kind_of(spec), due))
    return found


def find_task(workflow: BpmnWorkflow, spiff_task_id: str | None) -> Any | None:
    """The workflow's task of that id, or None: a task dropped from the tree (a boundary event of a
    step that was returned and run again) is gone, and SpiffWorkflow raises for it."""
    try:
        return workflow.get_task_from_id(uuid.UUID(spiff_task_id or ""))
    except (ValueError, TaskNotFoundException):
        return None


def _fired(workflow: BpmnWorkflow, row: Timer, still: WaitingTimer | None) -> bool:
    """Did the row's timer fire? SpiffWorkflow fires every due timer of a workflow on any engine run
    (a firing, a completion), so a row is accounted fired by what its event did, not by who ran it."""
    if still is not None:
        return still.due_at > _utc(row.due_at)  # a cycle moved on to its next time
    if row.spiff_task_id in fired_and_dropped(workflow):  # it fired, then a loop back dropped its round
        return True
    task = find_task(workflow, row.spiff_task_id)
    # A fired catch event runs (READY, then COMPLETED; it resets event_fired as it goes); one whose
    # task was done first is CANCELLED, one dropped with a returned round is gone from the tree.
    return task is not None and (task.state in (TaskState.READY, TaskState.STARTED, TaskState.COMPLETED)
                                 or bool(task._get_internal_data("event_fired", False)))


def _timeline(session: Session, instance: Instance, workflow: BpmnWorkflow, row: Timer) -> None:
    """A `timer` event, naming the user task a boundary timer sits on."""
    task_row = None
    task = find_task(workflow, row.spiff_task_id)
    siblings = [str(t.id) for t in task.parent.children if t is not task] if task and task.parent else []
    if siblings and row.kind in (DEADLINE, REMINDER):
        task_row = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.spiff_task_id.in_(siblings))).first()
    session.add(Event(instance_id=instance.id, actor=TIMER_ACTOR, kind="timer",
                      task_id=task_row.id if task_row else None, task_spec=task_row.task_spec if task_row else None,
                      task_name=task_row.name if task_row else None, lane=task_row.lane if task_row else None,
                      data={"element": row.element, "name": row.name, "kind": row.kind,
                            "due_at": iso_time(row.due_at)}))
    if row.kind == REMINDER and task_row is not None and task_row.status == "ready":
        reminders.notify(session, task_row, row, datetime.now(UTC))


def mark_fired(session: Session, instance: Instance, workflow: BpmnWorkflow, row: Timer) -> None:
    """The row fired: so marked, with its `timer` event on the timeline."""
    row.status, row.fired_at, row.fired_by = FIRED, datetime.now(UTC), row.fired_by or "engine"
    _timeline(session, instance, workflow, row)


# Built once, run on every write of an instance (building a statement costs more than running it).
_PENDING_OF_INSTANCE = select(Timer).where(Timer.instance_id == bindparam("instance_id"), Timer.status == PENDING)


def sync(session: Session, instance: Instance, workflow: BpmnWorkflow) -> None:
    """Mirror the workflow's waiting timers into pending rows: a timer that fired is marked fired (with
    its timeline event), one no longer waited for is cancelled, a new one is added. Called with every
    write of the instance (instances._sync)."""
    waiting = {t.spiff_task_id: t for t in waiting_timers(workflow)} if instance.status == "running" else {}
    rows = session.scalars(_PENDING_OF_INSTANCE, {"instance_id": instance.id}).all()
    for row in rows:
        still = waiting.get(row.spiff_task_id or "")
        if still is not None and not _fired(workflow, row, still):
            waiting.pop(row.spiff_task_id or "")
        elif _fired(workflow, row, still):
            mark_fired(session, instance, workflow, row)
        else:
            row.status = CANCELLED
    for timer in waiting.values():
        session.add(Timer(id=str(uuid.uuid4()), instance_id=instance.id, process_key=instance.process_key,
                          element=timer.element, name=timer.name[:300], kind=timer.kind,
                          spiff_task_id=timer.spiff_task_id, due_at=timer.due_at, status=PENDING))
