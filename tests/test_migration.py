"""Moving running instances to a newer version: safe ones move and carry on, unsafe ones are refused
with the reason and left byte for byte as they were (engine/authoring/migration.py, the API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import AuditEntry, HumanTask, Instance
from tests.conftest import World
from tests.versions_world import DATA, KEY, complete, instances_at, make_world, publish_v1, publish_v2


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, Any], Any, Any]]:
    tmp = tmp_path_factory.mktemp("migration")
    world = make_world(f"sqlite:///{tmp / 'khanton.db'}", tmp)
    publish_v1(world)
    at = instances_at(world)
    publish_v2(world)
    before = _rows(world, at["check"]["id"])
    analyst = world.api("analyst")
    ids = [at[step]["id"] for step in ("fill", "check", "approve")]
    preview = analyst.post(f"/processes/{KEY}/migrate", json={"to": 2, "instances": ids, "dry_run": True})
    done = analyst.post(f"/processes/{KEY}/migrate", json={"to": 2, "instances": ids})
    yield world, at, (preview, done), before
    world.close()


def _rows(world: World, instance_id: str) -> str:
    """The instance's row and its task rows, as text: what must not change when a move is refused."""
    with world.khanton.db.transaction(read_only=True) as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.id)).all()
        return json.dumps({"version": instance.version_id, "revision": instance.revision, "state": instance.state,
                           "data": instance.data, "status": instance.status,
                           "tasks": [(t.id, t.status, t.lane, t.task_spec, t.name) for t in tasks]},
                          sort_keys=True, default=str)


def _by_instance(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.get_json()
    return {r["instance"]: r for r in response.get_json()["results"]}


def test_the_preview_says_which_can_move_and_why_not_and_changes_nothing(moved: Any) -> None:
    world, at, (preview, _), _ = moved
    results = _by_instance(preview)
    assert results[at["fill"]["id"]]["status"] == "ok"
    assert results[at["approve"]["id"]]["status"] == "ok"
    refused = results[at["check"]["id"]]
    assert refused["status"] == "refused"
    assert "ตรวจเอกสาร" in refused["reason"] and "ไม่มีในรุ่นที่ 2" in refused["reason"]
    assert all(r["moved"] is False for r in results.values())


def test_a_safe_instance_moves_records_it_and_can_be_completed_on_the_new_version(moved: Any) -> None:
    world, at, (_, done), _ = moved
    results = _by_instance(done)
    assert results[at["fill"]["id"]]["moved"] is True
    instance = world.api("officer").get(f"/instances/{at['fill']['id']}").get_json()
    assert instance["version"] == 2
    timeline = world.api("supervisor").get(f"/instances/{at['fill']['id']}/timeline").get_json()
    assert [e["kind"] for e in timeline][-1] == "migrated" and timeline[-1]["actor"] == "analyst"
    # The same task id still works, with the new version's form (its new field accepted) and path.
    task_id = at["fill"]["ready_tasks"][0]["id"]
    task = world.api("officer").get(f"/tasks/{task_id}").get_json()
    assert "amount" in task["form"]["properties"]
    after = complete(world, "officer", task_id, {"subject": "ขอซื้อ", "amount": 1500})
    assert [t["name"] for t in after["ready_tasks"]] == ["อนุมัติคำขอ"]  # `check` is gone in v2
    assert after["ready_tasks"][0]["lane"] == "esa_director"
    after = complete(world, "director", after["ready_tasks"][0]["id"], {"comment": "อนุมัติ"})
    assert [t["name"] for t in after["ready_tasks"]] == ["แจ้งผลการอนุมัติ"]


def test_a_step_moved_to_another_lane_moves_with_its_task(moved: Any) -> None:
    world, at, (_, done), _ = moved
    assert _by_instance(done)[at["approve"]["id"]]["moved"] is True
    task_id = at["approve"]["ready_tasks"][0]["id"]
    task = world.api("director").get(f"/tasks/{task_id}").get_json()
    assert task["lane"] == "esa_director" and task["name"] == "อนุมัติคำขอ"
    assert world.api("head").post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 403
    after = complete(world, "director", task_id, {"comment": "ok"})
    assert [t["name"] for t in after["ready_tasks"]] == ["แจ้งผลการอนุมัติ"]


def test_an_instance_at_a_removed_step_is_refused_and_unchanged_byte_for_byte(moved: Any) -> None:
    world, at, (_, done), before = moved
    refused = _by_instance(done)[at["check"]["id"]]
    assert refused["status"] == "refused" and refused["moved"] is False and "ตรวจเอกสาร" in refused["reason"]
    assert _rows(world, at["check"]["id"]) == before
    # It carries on where it was, on version 1.
    after = complete(world, "officer", at["check"]["ready_tasks"][0]["id"], {"complete": True})
    assert after["version"] == 1 and after["ready_tasks"][0]["name"] == "เห็นชอบ"


def test_every_move_is_in_the_audit_trail(moved: Any) -> None:
    world, at, _, _ = moved
    with world.khanton.db.transaction(read_only=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "instance_migrated")).all()
        assert {e.target for e in entries} == {at["fill"]["id"], at["approve"]["id"]}
        assert all(e.actor == "analyst" and e.detail == {"process": KEY, "from_version": 1, "to_version": 2}
                   for e in entries)


def test_only_analysts_migrate_and_bad_requests_change_nothing(moved: Any) -> None:
    world, at, _, _ = moved
    body = {"to": 2, "instances": [at["check"]["id"]]}
    refused = world.api("supervisor").post(f"/processes/{KEY}/migrate", json=body)
    assert refused.status_code == 403 and "analyst" in refused.get_json()["error"]["message"]
    analyst = world.api("analyst")
    assert analyst.post(f"/processes/{KEY}/migrate", json={"to": 9, "instances": []}).status_code == 404
    assert analyst.post(f"/processes/{KEY}/migrate", json={"to": "2", "instances": []}).status_code == 422
    assert analyst.post(f"/processes/{KEY}/migrate", json={"to": 2, "instances": "x"}).status_code == 422
    assert analyst.post(f"/processes/{KEY}/migrate", json={"to": 2, "instances": [{"id": 5}]}).status_code == 422
    assert analyst.post("/processes/nope/migrate", json={"to": 1, "instances": []}).status_code == 404
    unknown = _by_instance(analyst.post(f"/processes/{KEY}/migrate", json={"to": 2, "instances": ["nope"]}))
    assert unknown["nope"]["status"] == "refused"


def test_a_preview_with_a_stale_revision_is_refused(moved: Any, tmp_path: Path) -> None:
    world, at, _, _ = moved
    instance = world.api("officer").get(f"/instances/{at['check']['id']}").get_json()
    body = {"to": 2, "instances": [{"id": instance["id"], "revision": 1}]}
    result = _by_instance(world.api("analyst").post(f"/processes/{KEY}/migrate", json=body))
    assert result[instance["id"]]["status"] == "refused"


def test_an_instance_stopped_by_an_error_is_mended_by_moving_it_to_a_fixed_version(tmp_path: Path) -> None:
    """v1 loops in its scripts past the engine's bound (the instance stops in `error`); v2 mends the
    condition: moving the instance runs its automatic steps again, and it carries on to the next person."""
    world = make_world(f"sqlite:///{tmp_path / 'khanton.db'}", tmp_path)
    try:
        analyst = world.api("analyst")
        loops = (DATA / "loop-v1.bpmn").read_bytes()
        assert analyst.put("/processes/loop-mend/bpmn", data=loops).status_code == 201
        started = world.api("officer").post("/instances", json={"process": "loop-mend", "data": {}}).get_json()
        stopped = complete(world, "officer", started["ready_tasks"][0]["id"], {"subject": "วน"})
        assert stopped["status"] == "error" and stopped["ready_tasks"] == []
        assert analyst.put("/processes/loop-mend/bpmn", data=(DATA / "loop-v2.bpmn").read_bytes()).status_code == 201
        body = {"to": 2, "instances": [stopped["id"]]}
        result = _by_instance(analyst.post("/processes/loop-mend/migrate", json=body))
        assert result[stopped["id"]]["moved"] is True, result
        after = world.api("officer").get(f"/instances/{stopped['id']}").get_json()
        assert after["status"] == "running" and after["version"] == 2
        assert [t["name"] for t in after["ready_tasks"]] == ["ตรวจผล"]
        done = complete(world, "officer", after["ready_tasks"][0]["id"], {"comment": "แก้แล้ว"})
        assert done["status"] == "completed"
    finally:
        world.close()
