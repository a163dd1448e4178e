"""A timer that leads back to an earlier step fires on the record, on SQLite and PostgreSQL.

Found by tests/trust/test_concurrency_battery.py (only 1 `timer` event after 38 one-second waits had
passed): when a fired timer takes the instance back to a step it did before, the engine drops the
finished round from the live state (runner._collapse_returned_rounds), the timer's task with it, and
the firing then took the row for a timer nobody waited for any more: `cancelled`, and no `timer`
event on the timeline, although the timer had fired and the instance had moved on because of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import Event, HumanTask, Timer
from engine.time import firing
from tests import battery
from tests.conftest import World
from tests.trust.conc_loop import BPMN, KEY, START


@pytest.fixture
def looping(database_url: str, tmp_path: Path) -> Iterator[World]:
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    world = World(database_url, tmp_path / "processes", tmp_path / "forms")
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn", data=BPMN.format(label="1").encode())
    assert response.status_code == 201, response.get_json()
    yield world
    world.close()


def test_a_timer_that_loops_back_to_an_earlier_step_is_recorded_as_fired(looping: World) -> None:
    officer = looping.api("officer")
    instance = officer.post("/instances", json={"process": KEY, "data": START}).get_json()
    rounds = 3
    for _ in range(rounds):
        task = instance["ready_tasks"][0]["id"]
        response = officer.post(f"/tasks/{task}/complete", json={"data": {}})
        assert response.status_code == 200 and response.get_json()["ready_tasks"] == [], response.get_json()
        time.sleep(1.1)  # the one-second wait comes due
        assert firing.fire_due(looping.khanton.db, "test") == 1
        instance = officer.get(f"/instances/{instance['id']}").get_json()
        assert len(instance["ready_tasks"]) == 1  # back at the step, a new round
    battery.add(battery.CASES, rounds)
    with looping.khanton.db.transaction(read_only=True) as session:
        statuses = list(session.scalars(select(Timer.status)))
        events = list(session.scalars(select(Event.kind).where(Event.kind == "timer")))
        ready = list(session.scalars(select(HumanTask.task_spec).where(HumanTask.status == "ready")))
    assert statuses == ["fired"] * rounds, statuses
    assert len(events) == rounds, events
    assert ready == ["work"]
    kinds = [e["kind"] for e in officer.get(f"/instances/{instance['id']}/timeline").get_json()]
    assert kinds.count("timer") == rounds, kinds
