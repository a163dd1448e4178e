"""Stored state round-trips: after every step, load and dump again and nothing changes."""

from __future__ import annotations

from engine import state
from engine.models import Instance, ProcessVersion
from engine.spiff import SERIALIZER_VERSION
from tests.conftest import World
from tests.drive import start, step


def _round_trip(world: World, instance_id: str) -> None:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        version = session.get(ProcessVersion, row.version_id)
        assert version is not None
        assert row.state[state.VERSION_KEY] == SERIALIZER_VERSION
        assert "spec" not in row.state and "subprocess_specs" not in row.state  # stored once per version
        again = state.dump(state.load(version, row.state))
        assert again == row.state


def test_every_step_of_a_procedure_round_trips_through_the_database(world: World) -> None:
    instance = start(world, "budget-transfer")
    decisions = iter(["returned"])  # the first decision sends the work back once; every later one approves
    for _ in range(40):
        _round_trip(world, instance["id"])
        if not instance["ready_tasks"]:
            break
        task = world.api("supervisor").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
        _, instance = step(world, instance, decision=next(decisions, "approved") if "decision" in task["form"].get(
            "properties", {}) else None)
    assert instance["status"] == "completed"
