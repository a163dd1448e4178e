"""What no completion can go below while SpiffWorkflow runs each step: its own part alone, measured in
the same run as the figures it bounds. A completion restores the instance's task tree onto the
version's spec, sets the form's data, runs the step and the automatic steps after it, and dumps the tree
again; this times exactly that (engine.state and engine.runner, as a completion calls them) on the
cycle's ready task, with no database, no validation, no HTTP. Each sample starts from the same stored
state, so nothing is written."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from engine import state
from engine.models import HumanTask, Instance
from engine.runner import run_engine
from engine.runtime import versions
from tests.bench_cycle import Cycle
from tests.bench_stats import line, ms_line, ratio, repeat


def spiff_steps(cycle: Cycle, count: int) -> list[float]:
    """`count` timings of SpiffWorkflow's own part of completing the cycle's ready task."""
    _user, task_id, data = cycle.next_task()
    with cycle.world.khanton.db.transaction(read_only=True) as session:
        row = session.get(HumanTask, task_id)
        assert row is not None
        instance = session.get(Instance, row.instance_id)
        assert instance is not None
        version = versions.compiled(session, instance.version_id)
        stored = json.dumps(instance.state)
        spiff_id = uuid.UUID(row.spiff_task_id)

    def step() -> None:
        workflow = state.load(version, json.loads(stored))
        task = workflow.get_task_from_id(spiff_id)
        assert task is not None
        task.set_data(**copy.deepcopy(data))
        task.run()
        assert run_engine(workflow) is None, "the step halted"
        json.dumps(state.dump(workflow))

    return repeat(step, count)


def run(cycle: Cycle, count: int, trivial: list[float], raw: list[float] | None) -> dict[str, Any]:
    steps = spiff_steps(cycle, count)
    print(ms_line("SpiffWorkflow's own step (restore, run, dump)", steps))
    results: dict[str, Any] = {"spiff_step_per_trivial_get": ratio(steps, trivial)}
    print(line("SpiffWorkflow's step ÷ trivial GET (floor)", results["spiff_step_per_trivial_get"]))
    if raw is not None:
        results["spiff_step_per_raw_commit"] = ratio(steps, raw)
        print(line("SpiffWorkflow's step ÷ raw durable commit (floor)", results["spiff_step_per_raw_commit"]))
    results["_steps"] = steps
    return results
