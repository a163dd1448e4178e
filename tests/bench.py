"""`make bench`: figures, not assertions. Cost per step must not grow with an instance's history.

Prints, for the budget transfer on SQLite (and PostgreSQL when it runs): the time of one
return-and-revise round and the live state's size as the number of returns grows, and the inbox
query time with many instances.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from engine.models import Instance
from tests.conftest import POSTGRES_ADMIN_URL, World, _fresh_postgres, _postgres_available
from tests.drive import advance_to, start, step

CHECKPOINTS = (1, 50, 100, 250, 500)


def _state_size(world: World, instance_id: str) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return len(json.dumps(row.state))


def bench_returns(world: World, label: str) -> None:
    print(f"\n[{label}] budget transfer: one return at the board + the committee's revision")
    print(f"{'returns':>8} {'ms/round (median of last 10)':>30} {'live state bytes':>18}")
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    timings: list[float] = []
    for n in range(1, max(CHECKPOINTS) + 1):
        began = time.perf_counter()
        _, instance = step(world, instance, decision="returned")
        _, instance = step(world, instance)
        timings.append((time.perf_counter() - began) * 1000)
        if n in CHECKPOINTS:
            recent = statistics.median(timings[-10:])
            print(f"{n:>8} {recent:>30.1f} {_state_size(world, instance['id']):>18}")
    for _ in range(20):
        if not instance["ready_tasks"]:
            break
        _, instance = step(world, instance)
    print(f"after {max(CHECKPOINTS)} returns the instance ends as: {instance['status']}")


def bench_inbox(world: World, label: str, instances: int = 300) -> None:
    for _ in range(instances):
        start(world, "budget-transfer")
    api = world.api("officer")
    timings = []
    for _ in range(20):
        began = time.perf_counter()
        assert api.get("/tasks?limit=50").status_code == 200
        timings.append((time.perf_counter() - began) * 1000)
    print(f"[{label}] inbox of 50 among {instances} ready tasks: median {statistics.median(timings):.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(f"sqlite:///{Path(tmp) / 'bench.db'}")
        bench_returns(world, "sqlite")
        bench_inbox(world, "sqlite")
        world.close()
    reason = _postgres_available()
    if reason:
        print(f"\n[postgresql] skipped: {reason}")
        return
    url, drop = _fresh_postgres(POSTGRES_ADMIN_URL)
    world = World(url)
    bench_returns(world, "postgresql")
    bench_inbox(world, "postgresql")
    world.close()
    drop()


if __name__ == "__main__":
    main()
