"""Every procedure, every path, end to end through the HTTP API (scenarios in tests/scenarios/)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import World
from tests.drive import SCENARIOS, attach_signed, data_for, user_for


def _cases() -> list[Any]:
    cases = []
    for path in sorted(SCENARIOS.glob("*.json")):
        scenario = json.loads(path.read_text(encoding="utf-8"))
        for route in scenario["paths"]:
            cases.append(pytest.param(path.stem, scenario, route, id=f"{path.stem}: {route['name']}"))
    return cases


def walk(world: World, key: str, scenario: dict[str, Any], route: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Drive one path: fill each ready task, choose decisions as the path says, until the end."""
    start = {**scenario.get("start", {}), **route.get("start", {})}
    steps = {**scenario.get("steps", {}), **route.get("steps", {})}
    decisions = {task: list(values) for task, values in route.get("decisions", {}).items()}
    response = world.api("officer").post("/instances", json={"process": key, "data": start})
    assert response.status_code == 201, response.get_json()
    instance = response.get_json()
    visits: list[str] = []
    for _ in range(200):
        if not instance["ready_tasks"]:
            break
        summary = instance["ready_tasks"][0]
        api = world.api(user_for(summary))
        task = api.get(f"/tasks/{summary['id']}").get_json()
        step = task["step"]
        queue = decisions.get(step, [])
        data = data_for(task, steps, queue.pop(0) if queue else None)
        attach_signed(world, user_for(summary), task)
        response = api.post(f"/tasks/{summary['id']}/complete", json={"data": data})
        assert response.status_code == 200, (step, response.get_json())
        visits.append(step)
        # A school reads only its own round: the next ready tasks as the officer who started it sees them.
        instance = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    return instance, visits


@pytest.mark.parametrize(("key", "scenario", "route"), _cases())
def test_procedure_path(world: World, key: str, scenario: dict[str, Any], route: dict[str, Any]) -> None:
    instance, visits = walk(world, key, scenario, route)
    assert instance["status"] == route["end_status"], visits
    if "visits" in route:
        assert visits == route["visits"]
    timeline = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    kinds = [event["kind"] for event in timeline]
    assert kinds[0] == "started"
    assert kinds[-1] == ("rejected" if route["end_status"] == "rejected" else "finished")
    assert kinds.count("completed") == len(visits)
