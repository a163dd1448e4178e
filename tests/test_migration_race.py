"""A completion and a migration of the same instance at the same moment, on SQLite and PostgreSQL: each
either applies whole or is refused, and the instance ends in exactly one of the two consistent outcomes
(moved then completed on the new version, or completed on the old one with the move refused)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import state
from engine.authoring import migration
from engine.models import Event, HumanTask, Instance
from engine.runner import ready_user_tasks
from engine.runtime import versions
from tests.versions_world import KEY, make_world, publish_v1, publish_v2, start


def test_completion_and_migration_racing_leave_one_consistent_outcome(database_url: str, tmp_path: Path) -> None:
    world = make_world(database_url, tmp_path)
    try:
        publish_v1(world)
        started = [start(world, f"แข่ง {n}") for n in range(4)]
        publish_v2(world)
        outcomes = set()
        for instance in started:
            outcomes.add(_race(world, instance))
        assert outcomes <= {"moved first", "completed first"}
    finally:
        world.close()


def _race(world: Any, instance: dict[str, Any]) -> str:
    task_id = instance["ready_tasks"][0]["id"]
    analyst, officer = world.khanton.actor("analyst"), world.khanton.actor("officer")
    previewed = migration.migrate(world.khanton.db, KEY, 2, [migration.Request(instance["id"])], analyst,
                                  dry_run=True)[0]
    assert previewed.ok
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def move() -> None:
        barrier.wait()
        results["move"] = migration.migrate(world.khanton.db, KEY, 2,
                                            [migration.Request(instance["id"], previewed.revision)], analyst)[0]

    def complete() -> None:
        barrier.wait()
        try:
            results["complete"] = world.khanton.complete(task_id, {"subject": "แข่งกัน"}, officer)
        except Exception as err:  # noqa: BLE001 - recorded and asserted below
            results["complete"] = err

    threads = [threading.Thread(target=move), threading.Thread(target=complete)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert isinstance(results["complete"], dict), results["complete"]  # a completion always goes through
    moved: migration.Verdict = results["move"]
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance["id"])
        assert row is not None
        version = versions.compiled(session, row.version_id)
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.instance_id == row.id)
                                                 .order_by(Event.id))]
        ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == row.id,
                                                        HumanTask.status == "ready")).all()
        workflow = state.load(version, row.state)  # the stored state reads back on the version it names
        spiff_ready = {str(t.id) for t in ready_user_tasks(workflow)}
        completed = session.scalar(select(func.count()).select_from(Event).where(
            Event.task_id == task_id, Event.kind == "completed"))
    assert completed == 1
    assert {t.spiff_task_id for t in ready} == spiff_ready and len(ready) == 1  # rows and state agree
    if moved.moved:
        assert version.version == 2 and kinds == ["started", "migrated", "completed"]
        assert (ready[0].name, ready[0].lane) == ("อนุมัติคำขอ", "esa_director")
        assert row.revision == 3
        return "moved first"
    assert not moved.ok and ("การเปลี่ยนแปลง" in moved.reasons[0] or "เพิ่งมีผู้ดำเนินการ" in moved.reasons[0])
    assert version.version == 1 and kinds == ["started", "completed"]
    assert ready[0].name == "ตรวจเอกสาร" and row.revision == 2
    return "completed first"
