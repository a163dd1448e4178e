"""Two people complete the same task at the same moment: exactly one wins, on both databases."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from engine.errors import Conflict
from engine.models import Event, HumanTask
from tests.conftest import World
from tests.drive import LANE_USER, advance_to, data_for, scenario, start


def test_two_concurrent_completions_of_one_task_exactly_one_wins(any_world: World) -> None:
    world = any_world
    for _ in range(3):  # several rounds, to give a race more than one chance to show
        instance = advance_to(world, start(world, "budget-transfer"), "study_spending")  # one task, one lane
        summary = instance["ready_tasks"][0]
        api = world.api(LANE_USER[summary["lane"]])
        task = api.get(f"/tasks/{summary['id']}").get_json()
        data = data_for(task, scenario("budget-transfer")["steps"])
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def complete(lane: str, task_id: str, data: dict[str, Any], barrier: threading.Barrier,
                     results: list[Any]) -> None:
            client_api = world.api(LANE_USER[lane])
            barrier.wait()
            response = client_api.post(f"/tasks/{task_id}/complete", json={"data": data})
            results.append((response.status_code, response.get_json()))

        args = (summary["lane"], summary["id"], data, barrier, results)
        threads = [threading.Thread(target=complete, args=args) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        codes = sorted(code for code, _ in results)
        assert codes == [200, 409], results
        loser = next(body for code, body in results if code == 409)
        assert loser["error"]["code"] == "conflict" and loser["error"]["message"]
        with world.khanton.db.transaction(read_only=True) as session:
            completed = session.scalar(select(func.count()).select_from(Event).where(
                Event.task_id == summary["id"], Event.kind == "completed"))
        assert completed == 1
        after = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
        assert len(after["ready_tasks"]) == 1 and after["ready_tasks"][0]["id"] != summary["id"]


def test_two_concurrent_claims_of_one_task_exactly_one_wins(any_world: World) -> None:
    """Two colleagues press "claim" together: one holds the task, the other is told it is taken."""
    world = any_world
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    people = [world.khanton.actor("officer"), world.khanton.actor("officer2")]
    for _ in range(5):
        task_id = start(world, "budget-transfer")["ready_tasks"][0]["id"]
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(actor: Any, task_id: str = task_id, barrier: threading.Barrier = barrier,
                  outcomes: dict[str, str] = outcomes) -> None:
            barrier.wait()
            try:
                world.khanton.claim(task_id, actor)
                outcomes[actor.username] = "won"
            except Conflict as err:
                outcomes[actor.username] = err.message

        threads = [threading.Thread(target=claim, args=(person,)) for person in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        with world.khanton.db.transaction(read_only=True) as session:
            holder = session.scalar(select(HumanTask.assignee).where(HumanTask.id == task_id))
            claims = session.scalar(select(func.count()).select_from(Event).where(
                Event.task_id == task_id, Event.kind == "claimed"))
        assert holder == winners[0] and claims == 1
