"""Moving an instance to a new version keeps the due time of the timer it waits at, on both databases.

Found by tests/trust/test_concurrency_battery.py (two `timer` events for one wait): SpiffWorkflow's
migrate_workflow resets every waiting task, and a reset timer starts again from the moment of the move.
A one-second wait moved at its 0.9th second waited two; a ten-day deadline moved on its ninth day would
wait nineteen. And the row of the old due time was taken for a timer that had fired (its task waits at a
later time: "a cycle moved on", engine.time.timers._fired), so the timeline showed a firing that never
happened, then the real one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.authoring import migration
from engine.models import Event, Timer
from engine.time import firing
from tests import battery
from tests.conftest import World
from tests.trust.conc_loop import BPMN, KEY, START

WAIT = 3  # seconds: room for a publish and a move before it comes due, on a loaded machine


@pytest.fixture
def two_versions(database_url: str, tmp_path: Path) -> Iterator[World]:
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    world = World(database_url, tmp_path / "processes", tmp_path / "forms")
    yield world
    world.close()


def _publish(world: World, label: str, wait: int = WAIT) -> None:
    xml = BPMN.format(label=label).replace("PT1S", f"PT{wait}S")
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn", data=xml.encode())
    assert response.status_code == 201, response.get_json()


def _timers(world: World) -> list[tuple[str, str]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return [(row.status, row.due_at.replace(tzinfo=UTC).isoformat(timespec="milliseconds"))
                for row in session.scalars(select(Timer).order_by(Timer.created_at))]


def _timer_events(world: World) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return len(session.scalars(select(Event.id).where(Event.kind == "timer")).all())


def test_a_migration_keeps_the_due_time_of_the_timer_the_instance_waits_at(two_versions: World) -> None:
    _publish(two_versions, "1")
    officer = two_versions.api("officer")
    started = officer.post("/instances", json={"process": KEY, "data": START}).get_json()
    response = officer.post(f"/tasks/{started['ready_tasks'][0]['id']}/complete", json={"data": {}})
    assert response.status_code == 200, response.get_json()
    waiting_since = time.monotonic()
    before = _timers(two_versions)
    assert [status for status, _ in before] == ["pending"]
    _publish(two_versions, "2")
    [moved] = migration.migrate(two_versions.khanton.db, KEY, 2, [migration.Request(started["id"])],
                                two_versions.khanton.actor("analyst"))
    assert moved.moved, moved
    battery.add(battery.CASES)
    assert _timers(two_versions) == before  # the same row, the same due time
    assert _timer_events(two_versions) == 0  # nothing fired yet
    assert time.monotonic() - waiting_since < WAIT - 0.5, "too slow to move before the timer came due"
    time.sleep(max(0.0, waiting_since + WAIT + 0.2 - time.monotonic()))  # due by the first time, not a restarted one
    assert firing.fire_due(two_versions.khanton.db, "test") == 1
    assert [status for status, _ in _timers(two_versions)] == ["fired"]
    assert _timer_events(two_versions) == 1


def test_a_migration_after_the_due_time_fires_the_timer_and_the_instance_moves_on(two_versions: World) -> None:
    """Found by the battery after the fix above: an engine run ends by refreshing the timers, and a
    timer already due became ready there but was never run: the migration recorded it fired and the
    instance waited at nothing, for ever (no ready round, no pending timer)."""
    _publish(two_versions, "1", wait=1)
    officer = two_versions.api("officer")
    started = officer.post("/instances", json={"process": KEY, "data": START}).get_json()
    response = officer.post(f"/tasks/{started['ready_tasks'][0]['id']}/complete", json={"data": {}})
    assert response.status_code == 200, response.get_json()
    _publish(two_versions, "2", wait=1)
    time.sleep(1.2)  # due, and no worker has fired it
    [moved] = migration.migrate(two_versions.khanton.db, KEY, 2, [migration.Request(started["id"])],
                                two_versions.khanton.actor("analyst"))
    assert moved.moved, moved
    battery.add(battery.CASES)
    assert [status for status, _ in _timers(two_versions)] == ["fired"]
    assert _timer_events(two_versions) == 1
    after = officer.get(f"/instances/{started['id']}").get_json()
    assert [task["name"] for task in after["ready_tasks"]] == ["ทำงานรอบหนึ่ง 2"], after  # the next round
