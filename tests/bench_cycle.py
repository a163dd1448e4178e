"""The workload every bench section times: one budget transfer going round its return-for-revision loop
(the director returns the proposal to the board, the committee revises it, the director returns it
again…), so completions can go on for ever on one instance and each one is a real completion through the
API or the engine. (The board's own step needs its signed resolution attached each round: the director's
sign-off is the same two-task loop without the upload.)"""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.drive import advance_to, data_for, scenario, start, user_for

RETURNING_STEP = "sign_board_proposal"


class Cycle:
    def __init__(self, world: World) -> None:
        self.world = world
        self.steps = scenario("budget-transfer").get("steps", {})
        self.instance = advance_to(world, start(world, "budget-transfer"), RETURNING_STEP)
        self._data: dict[str, tuple[str, dict[str, Any]]] = {}  # task name -> (user, data): same each round
        self._actors: dict[str, Any] = {}

    def next_task(self) -> tuple[str, str, dict[str, Any]]:
        """(user, task id, data) for the ready task: a return at the sign-off, else the revision."""
        summary = self.instance["ready_tasks"][0]
        user = user_for(summary)
        task = self.world.api(user).get(f"/tasks/{summary['id']}").get_json()
        decision = "returned" if task["step"] == RETURNING_STEP else None
        return user, summary["id"], data_for(task, self.steps, decision)

    def complete_http(self, user: str, task_id: str, data: dict[str, Any]) -> None:
        response = self.world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data})
        assert response.status_code == 200, response.get_json()
        self.instance = response.get_json()

    def complete_engine(self, user: str, task_id: str, data: dict[str, Any]) -> None:
        khanton = self.world.khanton
        self.instance = khanton.complete(task_id, data, khanton.actor(user))

    def loop_once(self) -> None:
        """One return-for-revision loop at engine level, as fast as the driver can: each step's form
        and data are read once (they are the same every round), so the loop costs two completions."""
        for _ in range(2):
            summary = self.instance["ready_tasks"][0]
            if summary["name"] not in self._data:
                user, _, data = self.next_task()
                self._data[summary["name"]] = (user, data)
            user, data = self._data[summary["name"]]
            if user not in self._actors:
                self._actors[user] = self.world.khanton.actor(user)
            self.instance = self.world.khanton.complete(summary["id"], data, self._actors[user])
