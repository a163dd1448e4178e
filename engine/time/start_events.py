"""A new instance passes its timer start event at once.

Whether the scheduler started it (engine.time.starts: the schedule is ours to count) or an officer
started it by hand, the instance is one run of the procedure: left to SpiffWorkflow, a cycle timer
start event would wait, and then repeat the whole flow inside this one instance at every cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow


def start_now(workflow: BpmnWorkflow, at: datetime | None = None, element: str | None = None) -> None:
    """Before the first engine run: each timer start event (or only `element`) fires once, as of `at`."""
    at = at or datetime.now(UTC)
    for task in workflow.get_tasks():
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if not isinstance(spec, StartEvent) or not isinstance(definition, TimerEventDefinition):
            continue
        if element is not None and spec.bpmn_id != element:
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            task._set_internal_data(event_value={"cycles": 1, "next": at.isoformat(), "duration": 1.0})
        else:
            task._set_internal_data(event_value=at.isoformat())
