"""Completion and step cost after 0, 10, 100, 1,000 (10,000) return-for-revision loops: flat expected."""

from __future__ import annotations

import time
from typing import Any

from tests.bench_cycle import Cycle
from tests.bench_round_trip import completions
from tests.bench_stats import line, ms_line, ratio
from tests.conftest import World

CHECKPOINTS = (0, 10, 100, 1_000, 10_000)
BUDGET_SECONDS = 900  # a checkpoint estimated to take longer (at scale 1) is skipped, saying why


def deepest(scale: float, sqlite: bool) -> int:
    """The deepest checkpoint run: 10,000 at scale 1 on both databases. A loop costs the same at any
    depth now (the search text of a completion once read every event and round of the instance, so the
    10,000-loop run grew quadratically); PostgreSQL's loop costs more here (a network round trip per
    statement) and is still bounded by BUDGET_SECONDS, skipped with the estimate if it would not fit."""
    del sqlite  # both alike since the loop cost is flat
    return int(10_000 * max(scale, 0.001))


def run(world: World, scale: float, samples: int, sqlite: bool = True) -> dict[str, Any]:
    cycle = Cycle(world)
    limit = deepest(scale, sqlite)
    loops = 0
    per_loop_ms = 0.0
    results: dict[str, Any] = {"checkpoints": {}, "skipped": {}}
    first: tuple[list[float], list[float]] | None = None
    for target in CHECKPOINTS:
        remaining = target - loops
        estimate = remaining * per_loop_ms / 1000
        if target > limit or estimate > BUDGET_SECONDS * max(scale, 0.01):
            why = (f"scale {scale}: loops above {limit} not run" if target > limit
                   else f"estimated {estimate:.0f} s > budget of {BUDGET_SECONDS * max(scale, 0.01):.0f} s")
            print(f"  {target:>6} loops: skipped ({why})", flush=True)
            results["skipped"][str(target)] = why
            continue
        began = time.perf_counter()
        for _ in range(remaining):  # one loop = the director's return + the committee's revision (engine level)
            cycle.loop_once()
        if remaining:
            per_loop_ms = (time.perf_counter() - began) * 1000 / remaining
        loops = target
        http = completions(cycle, samples)
        step = completions(cycle, samples, engine=True)
        loops += samples + 1  # the 2 × (samples + 1) measured completions went round the loop too
        if first is None:
            first = (http, step)
        entry: dict[str, Any] = {"completion_ms": http, "step_ms": step,
                 "completion_vs_0": ratio(http, first[0]), "step_vs_0": ratio(step, first[1])}
        results["checkpoints"][str(target)] = entry
        print(ms_line(f"{target:>6} loops: HTTP completion", http))
        print(ms_line(f"{target:>6} loops: engine step", step))
        print(line(f"{target:>6} loops: completion ÷ at 0 loops", entry["completion_vs_0"]), flush=True)
    status = cycle.instance.get("status")
    results["instance_status_after"] = status
    results["ready_after"] = len(cycle.instance.get("ready_tasks", []))
    print(f"  after {loops} loops the instance is {status} with {results['ready_after']} ready task(s) "
          f"(running with 1 is right); last stretch {per_loop_ms:.1f} ms per loop", flush=True)
    return results
