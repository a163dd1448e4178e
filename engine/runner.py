"""Running a workflow's automatic steps, bounded in steps, time and depth, with returned rounds collapsed.

Scripts and conditions come from analysts' edits: a loop of scripts and gateways, or a call activity
that calls itself, must stop with a reason (the instance goes to `error`), never run on or end the
instance as `completed` without reaching an end event.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import expressions
from .errors import KhantonError, WorkflowFailure

MAX_ENGINE_STEPS = 500  # per run of automatic steps; the procedures need a few dozen at most
MAX_RUN_SECONDS = 2.0
MAX_TREE_DEPTH = 600  # SpiffWorkflow stops searching the task tree at 1000


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Any]:
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


# Timers that fired in a round the run then dropped (below), by workflow: the timer rows' sync asks
# (engine.time.timers), since their tasks are no longer in the tree to say so. Weak: they go with the run.
_FIRED_AND_DROPPED: WeakKeyDictionary[BpmnWorkflow, set[str]] = WeakKeyDictionary()


def fired_and_dropped(workflow: BpmnWorkflow) -> set[str]:
    """Ids of the timer tasks that fired in a round this workflow's runs dropped from the live state."""
    return _FIRED_AND_DROPPED.get(workflow, set())


def _collapse_returned_rounds(workflow: BpmnWorkflow, ready: list[Any]) -> bool:
    """Keep the live state one round deep (design.md, "History out of the live state").

    When a returned step becomes ready again, its earlier round is an ancestor in the task tree;
    resetting the workflow to that earlier task drops the finished round from the live state (the
    events table keeps it) and carries the current data forward. A timer that fired in that round
    is noted (fired_and_dropped), so that its row is recorded fired, not cancelled. `ready`: the
    workflow's ready user tasks (as _engine_steps left them).
    """
    for task in ready:
        earlier = task.parent
        while earlier is not None and earlier.workflow is task.workflow:
            if earlier.task_spec is task.task_spec and earlier.state == TaskState.COMPLETED:
                fired = {str(t.id) for t in earlier if t.state == TaskState.COMPLETED
                         and isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)}
                _FIRED_AND_DROPPED.setdefault(workflow, set()).update(fired)
                workflow.reset_from_task_id(earlier.id, data=copy.deepcopy(task.data))
                return True
            earlier = earlier.parent
    return False


def _engine_steps(workflow: BpmnWorkflow, guard: Callable[[Any], None]) -> list[Any]:
    """SpiffWorkflow's engine steps, again while any automatic task is ready: a run ends by refreshing
    the timers, and a timer already due becomes ready there without being run; left so, the instance
    waited at nothing (tests/trust/test_timer_migration.py). The guard bounds the steps in all.
    The ready user tasks it stopped at (ready_user_tasks, from the same walk of the tree)."""
    for _ in range(100):
        workflow.do_engine_steps(will_complete_task=guard)
        ready = workflow.get_tasks(state=TaskState.READY)
        if not any(not t.task_spec.manual for t in ready):
            return [t for t in ready if t.task_spec.manual]
    return ready_user_tasks(workflow)


@dataclass
class Halted:
    """Why a run of automatic steps was stopped: the instance goes to `error`, never `completed`."""

    element: str | None
    message: str


class _Bound(Exception):
    def __init__(self, task: Any, message: str) -> None:
        super().__init__(message)
        self.halted = Halted(getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name, message)


def _guard(deadline: float) -> Callable[[Any], None]:
    """Checked before each automatic step: a loop of scripts and gateways, or a call activity that
    calls itself, would otherwise run until SpiffWorkflow's task search, past a depth of 1000, loses
    the ready task and calls the instance completed (design.md, "History out of the live state")."""
    steps = 0

    def check(task: Any) -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_ENGINE_STEPS:
            raise _Bound(task, f"ขั้นตอนอัตโนมัติทำงานต่อกันเกิน {MAX_ENGINE_STEPS} ขั้นโดยไม่ถึงงานของผู้ใช้ "
                               "(อาจวนซ้ำไม่รู้จบ) ระบบหยุดกระบวนงานนี้ไว้")
        if time.monotonic() > deadline:
            raise _Bound(task, f"ขั้นตอนอัตโนมัติทำงานนานเกิน {MAX_RUN_SECONDS:g} วินาที ระบบหยุดกระบวนงานนี้ไว้")
        if task.depth > MAX_TREE_DEPTH:
            raise _Bound(task, f"ประวัติการทำงานต่อเนื่องลึกเกิน {MAX_TREE_DEPTH} ขั้น ระบบหยุดกระบวนงานนี้ไว้")

    return check


def run_engine(workflow: BpmnWorkflow) -> Halted | None:
    """Run automatic steps, bounded in steps, time and depth; a bound reached is returned, not raised,
    so the caller keeps the instance (status `error`) and its timeline says where and why."""
    with expressions.time_limit(MAX_RUN_SECONDS) as deadline:
        guard = _guard(deadline)
        try:
            ready = _engine_steps(workflow, guard)
            for _ in range(100):  # each pass removes one finished round; 100 is far beyond any real flow
                if not _collapse_returned_rounds(workflow, ready):
                    break
                ready = _engine_steps(workflow, guard)
        except _Bound as bound:
            return bound.halted
        except WorkflowException as err:
            element = getattr(getattr(err, "task_spec", None), "bpmn_id", None)
            if time.monotonic() > deadline:  # an evaluation cut short by the run's deadline
                return Halted(element, f"ขั้นตอนอัตโนมัติทำงานนานเกิน {MAX_RUN_SECONDS:g} วินาที "
                                       "ระบบหยุดกระบวนงานนี้ไว้")
            raise WorkflowFailure(f"ขั้นตอนอัตโนมัติทำงานไม่สำเร็จ: {_reason(err)}", element) from err
        except KhantonError:
            raise
        except Exception as err:  # noqa: BLE001 - a failing condition or script is a workflow error
            raise WorkflowFailure(f"ขั้นตอนอัตโนมัติทำงานไม่สำเร็จ: {type(err).__name__}: {err}") from err
    return None


def _reason(err: WorkflowException) -> str:
    """The evaluator's own Thai reason when there is one, else SpiffWorkflow's message."""
    cause: BaseException | None = err
    while cause is not None and not isinstance(cause, expressions.ExpressionRefused):
        cause = cause.__cause__ or cause.__context__  # SpiffWorkflow re-raises inside its except blocks
    if isinstance(cause, expressions.ExpressionRefused):
        return cause.message + (f" (บรรทัด {cause.line})" if cause.line else "")
    return str(err)
