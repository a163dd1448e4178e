"""What no completion can go below while SpiffWorkflow runs each step: its own part alone, measured in
the same run as the figures it bounds. A completion restores the instance's task tree onto the
version's spec, sets the form's data, runs the step and the automatic steps after it, and dumps the tree
again; this times exactly that (engine.state and engine.runner, as a completion calls them) on the
cycle's ready task, with no database, no validation, no HTTP. Each sample starts from the same stored
state, so nothing is written.

Two more parts no completion can skip are timed beside it: the form's validation of the submitted data
(engine.forms.validate_data with the version's validator, as a completion calls it) and, on SQLite, one
durable commit (the raw commit the round trip measured). Their sum bounds the engine's ratio from below,
and added to the trivial GET (which a completion also does: the token's sign-in, an indexed look-up, a
JSON answer) it bounds the HTTP one."""

from __future__ import annotations

import copy
import json
import statistics
import uuid
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine import state
from engine.forms import validate_data
from engine.instances import version_validator
from engine.models import HumanTask, Instance
from engine.runner import run_engine
from engine.runtime import versions
from engine.runtime.versions import CompiledVersion
from tests.bench_cycle import Cycle
from tests.bench_stats import line, ms_line, ratio, repeat


@dataclass(frozen=True)
class _Ready:
    """The cycle's ready task as a completion finds it: its row, the compiled version, the stored
    state, and the data the cycle submits."""

    row: HumanTask
    version: CompiledVersion
    stored: str
    data: dict[str, Any]

    def task(self, workflow: BpmnWorkflow) -> Any:
        task = workflow.get_task_from_id(uuid.UUID(self.row.spiff_task_id))
        assert task is not None
        return task


def _ready(cycle: Cycle) -> _Ready:
    _user, task_id, data = cycle.next_task()
    with cycle.world.khanton.db.transaction(read_only=True) as session:
        row = session.get(HumanTask, task_id)
        assert row is not None
        instance = session.get(Instance, row.instance_id)
        assert instance is not None
        return _Ready(row, versions.compiled(session, instance.version_id), json.dumps(instance.state), data)


def spiff_steps(cycle: Cycle, count: int) -> list[float]:
    """`count` timings of SpiffWorkflow's own part of completing the cycle's ready task."""
    ready = _ready(cycle)

    def step() -> None:
        workflow = state.load(ready.version, json.loads(ready.stored))
        task = ready.task(workflow)
        task.set_data(**copy.deepcopy(ready.data))
        task.run()
        assert run_engine(workflow) is None, "the step halted"
        json.dumps(state.dump(workflow))

    return repeat(step, count)


def validations(cycle: Cycle, count: int) -> list[float]:
    """`count` timings of validating the data the cycle submits to its ready task against its form."""
    ready = _ready(cycle)
    schema = ready.version.form(ready.row.form) or {"type": "object"}
    validator = version_validator(ready.version, ready.row.form, schema)
    context = dict(ready.task(state.load(ready.version, json.loads(ready.stored))).data)
    copies = [copy.deepcopy(ready.data) for _ in range(count + 1)]  # filled in place (computed figures)
    return repeat(lambda: validate_data(schema, copies.pop(), context=context, validator=validator), count)


def run(cycle: Cycle, count: int, trivial: list[float], raw: list[float] | None) -> dict[str, Any]:
    steps = spiff_steps(cycle, count)
    print(ms_line("SpiffWorkflow's own step (restore, run, dump)", steps))
    results: dict[str, Any] = {"spiff_step_per_trivial_get": ratio(steps, trivial)}
    print(line("SpiffWorkflow's step ÷ trivial GET (floor)", results["spiff_step_per_trivial_get"]))
    checks = validations(cycle, count)
    print(ms_line("the form's validation of the data", checks))
    # What every completion does at least: the step and the validation (and on SQLite one durable commit).
    commit = statistics.median(raw) if raw is not None else 0.0
    least = [step + check + commit for step, check in zip(steps, checks, strict=True)]
    get = statistics.median(trivial)
    results["unskippable_http_per_trivial_get"] = ratio([get + value for value in least], trivial, goal=2.0)
    print(line("trivial GET + step + validation ÷ trivial GET", results["unskippable_http_per_trivial_get"]))
    if raw is not None:
        results["spiff_step_per_raw_commit"] = ratio(steps, raw)
        print(line("SpiffWorkflow's step ÷ raw durable commit (floor)", results["spiff_step_per_raw_commit"]))
        results["unskippable_per_raw_commit"] = ratio(least, raw, goal=10.0)
        print(line("step + validation + one commit ÷ raw commit", results["unskippable_per_raw_commit"]))
    results["_steps"] = steps
    return results
