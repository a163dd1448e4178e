"""Returns for revision do not pile history into the live state (design.md)."""

from __future__ import annotations

import json

from engine.models import Instance
from tests.conftest import World
from tests.drive import advance_to, start, step


def _live_state(world: World, instance_id: str) -> tuple[int, int]:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return len(json.dumps(row.state)), len(row.state["tasks"])


def test_state_stays_one_round_deep_through_many_returns(world: World) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    sizes = []
    for _ in range(40):
        name, instance = step(world, instance, decision="returned")
        assert name == "board_approval"
        name, instance = step(world, instance)  # the committee revises the allocation
        assert name == "allocate_leftover"
        name, instance = step(world, instance)  # the director signs the proposal again
        assert name == "sign_board_proposal"
        sizes.append(_live_state(world, instance["id"]))
    first_bytes, first_tasks = sizes[0]
    last_bytes, last_tasks = sizes[-1]
    assert last_tasks == first_tasks
    assert last_bytes < first_bytes * 1.05
    # And it still finishes properly: approve everything to the end.
    for _ in range(20):
        if not instance["ready_tasks"]:
            break
        _, instance = step(world, instance)
    assert instance["status"] == "completed"
    timeline = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    assert sum(1 for e in timeline if e["kind"] == "returned") == 40
