"""One lock order for every write of an instance, on PostgreSQL: its ready rounds, then its row.

Found by tests/trust/test_concurrency_battery.py: a migration locked the instance's row and then wrote
its ready round, while a completion had marked that round done and waited for the row: PostgreSQL broke
the deadlock by failing one of them, a 503 to a person who had done nothing wrong. The same between a
completion that takes turns on the row (service.complete after two stale tries) and an admin's repair,
which locks the rounds first. Here a plain connection plays the other writer, holding the round as
a completion's write or a repair does, then asking for the row: each pair must queue, not deadlock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from engine import instances
from engine.authoring import migration
from tests import battery
from tests.conftest import World, _fresh_postgres
from tests.trust.conc_loop import BPMN, KEY, START

HOLD = 0.7  # long enough for the other writer to reach its wait; under PostgreSQL's 1 s deadlock_timeout


@pytest.fixture
def world(postgres_url: str, tmp_path: Path) -> Iterator[World]:
    url, drop = _fresh_postgres(postgres_url)
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    world = World(url, tmp_path / "processes", tmp_path / "forms")
    world.khanton.add_user("admin", ["admin"], [])
    _publish(world, "1")
    yield world
    world.close()
    drop()


def _publish(world: World, label: str) -> None:
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn", data=BPMN.format(label=label).encode())
    assert response.status_code == 201, response.get_json()


def _started(world: World) -> tuple[str, str]:
    response = world.api("officer").post("/instances", json={"process": KEY, "data": START})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body["id"], body["ready_tasks"][0]["id"]


def _race(world: World, task_id: str, instance_id: str, writer: Callable[[], Any]) -> tuple[Any, str | None]:
    """A plain transaction holds the round (as a completion's first write does), `writer` starts, then
    the transaction asks for the instance's row and commits. What `writer` gave, and the plain
    transaction's error (None when it went through)."""
    other = create_engine(world.khanton.db.url)
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["writer"] = writer()
        except Exception as err:  # noqa: BLE001 - recorded and asserted by the caller
            result["writer"] = err

    error = None
    try:
        with other.connect() as conn:
            conn.execute(text("update human_tasks set assignee = assignee where id = :t"), {"t": task_id})
            thread = threading.Thread(target=run)
            thread.start()
            time.sleep(HOLD)
            try:
                conn.execute(text("update instances set updated_at = updated_at where id = :i"), {"i": instance_id})
                conn.commit()
            except Exception as err:  # noqa: BLE001 - a deadlock: what this test is about
                error = f"{type(err).__name__}: {str(err).splitlines()[0]}"
                conn.rollback()
            thread.join(timeout=30)
    finally:
        other.dispose()
    battery.add(battery.CASES)
    return result.get("writer"), error


def test_a_migration_queues_behind_a_completion_holding_the_round(world: World) -> None:
    instance_id, task_id = _started(world)
    _publish(world, "2")
    analyst = world.khanton.actor("analyst")
    moved, error = _race(world, task_id, instance_id, lambda: migration.migrate(
        world.khanton.db, KEY, 2, [migration.Request(instance_id)], analyst))
    assert error is None, error
    assert isinstance(moved, list) and moved[0].moved, moved


def test_a_locked_completion_queues_behind_a_repair_holding_the_round(world: World) -> None:
    instance_id, task_id = _started(world)
    officer = world.khanton.actor("officer")

    def complete() -> int:
        with world.khanton.db.transaction() as session:
            return instances.complete(session, task_id, {}, officer).instance.revision

    revision, error = _race(world, task_id, instance_id, complete)
    assert error is None, error
    assert revision == 2, revision
