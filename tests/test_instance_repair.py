"""Admins' repairs through the API (engine/repair): suspend, resume, terminate, send back, correct, retry —
each on the timeline with who and why, refused for everyone else, nothing lost, a refused repair
changing nothing; a suspended instance's timers wait; on PostgreSQL a completion and a repair racing on
one instance give one winner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import runner
from engine.models import Instance, Timer
from engine.time.firing import fire_due
from tests import drive
from tests.conftest import World, _fresh_postgres

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path_factory.mktemp('repair') / 'k.db'}")
    w.khanton.add_user("keeper", ["admin"], [], display_name="ผู้ดูแลระบบ")
    w.tokens["keeper"] = w.khanton.issue_token("keeper")
    yield w
    w.close()


def _row(world: World, instance_id: str) -> tuple[str, int, dict[str, Any], str]:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return row.status, row.revision, dict(row.data), str(row.state)


def _kinds(world: World, instance_id: str) -> list[str]:
    return [e["kind"] for e in world.api("supervisor").get(f"/instances/{instance_id}/timeline").get_json()]


def _last(world: World, instance_id: str) -> dict[str, Any]:
    event: dict[str, Any] = world.api("supervisor").get(f"/instances/{instance_id}/timeline").get_json()[-1]
    return event


def _at_sign_notice(world: World) -> dict[str, Any]:
    instance = drive.start(world, "budget-allocation")
    for _ in range(3):
        _, instance = drive.step(world, instance)
    return instance


def test_only_admins_repair_and_a_refusal_changes_nothing(world: World) -> None:
    instance = _at_sign_notice(world)
    before = _row(world, instance["id"])
    for user in ("supervisor", "officer", "director"):
        refused = world.api(user).post(f"/instances/{instance['id']}/suspend", json={"reason": "ทดสอบ"})
        assert refused.status_code == 403 and "ผู้ดูแลระบบ" in refused.get_json()["error"]["message"]
    admin = world.api("keeper")
    assert admin.post("/instances/nope/suspend", json={"reason": "x"}).status_code == 404
    no_reason = admin.post(f"/instances/{instance['id']}/terminate", json={"reason": "  "})
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]["details"][0]["field"] == "reason"
    long = admin.post(f"/instances/{instance['id']}/suspend", json={"reason": "ก" * 2001})
    assert long.status_code == 422
    stale = admin.post(f"/instances/{instance['id']}/suspend", json={"reason": "x", "revision": before[1] - 1})
    assert stale.status_code == 409
    bad = admin.post(f"/instances/{instance['id']}/suspend", json=["not", "an", "object"])
    assert bad.status_code == 422
    assert admin.post(f"/instances/{instance['id']}/resume").status_code == 409  # it is not suspended
    assert _row(world, instance["id"]) == before
    assert "suspended" not in _kinds(world, instance["id"])


def test_suspend_refuses_completions_until_resumed(world: World) -> None:
    instance = _at_sign_notice(world)
    admin = world.api("keeper")
    revision = _row(world, instance["id"])[1]
    done = admin.post(f"/instances/{instance['id']}/suspend", json={"reason": "รอตรวจสอบเอกสาร", "revision": revision})
    assert done.status_code == 200 and done.get_json()["status"] == "suspended"
    event = _last(world, instance["id"])
    assert event["kind"] == "suspended" and event["actor"] == "keeper" and event["data"]["reason"] == "รอตรวจสอบเอกสาร"
    task = instance["ready_tasks"][0]
    refused = world.api("director").post(f"/tasks/{task['id']}/complete", json={"data": {
        "decision": "approved", "reference": "ศธ 1/2570", "decided_on": "2026-12-01"}})
    assert refused.status_code == 409 and "ระงับไว้ชั่วคราว" in refused.get_json()["error"]["message"]
    assert admin.post(f"/instances/{instance['id']}/suspend", json={"reason": "อีกครั้ง"}).status_code == 409
    assert admin.post(f"/instances/{instance['id']}/resume", json={}).get_json()["status"] == "running"
    _, after = drive.step(world, world.api("officer").get(f"/instances/{instance['id']}").get_json())
    assert after["status"] == "running" and _kinds(world, instance["id"])[-3:] == ["suspended", "resumed", "completed"]


def test_terminate_cancels_the_open_rounds_and_keeps_the_history(world: World) -> None:
    instance = _at_sign_notice(world)
    data_before = _row(world, instance["id"])[2]
    done = world.api("keeper").post(f"/instances/{instance['id']}/terminate", json={"reason": "ยกเลิกโครงการ"})
    assert done.status_code == 200 and done.get_json()["status"] == "terminated"
    shown = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
    assert shown["status"] == "terminated" and shown["ready_tasks"] == [] and shown["ended_at"]
    assert shown["data"] == data_before
    event = _last(world, instance["id"])
    assert event["kind"] == "terminated" and event["data"]["reason"] == "ยกเลิกโครงการ" and event["data"]["cancelled"]
    task = instance["ready_tasks"][0]
    assert world.api("director").post(f"/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409
    assert world.api("director").get("/tasks").get_json() == [] or all(
        t["instance"] != instance["id"] for t in world.api("director").get("/tasks").get_json())
    assert world.api("keeper").post(f"/instances/{instance['id']}/terminate", json={"reason": "x"}).status_code == 409


def test_send_back_to_an_earlier_step_keeps_the_data_and_says_why(world: World) -> None:
    instance = _at_sign_notice(world)
    old_task = instance["ready_tasks"][0]
    data_before = _row(world, instance["id"])[2]
    admin = world.api("keeper")
    unknown = admin.post(f"/instances/{instance['id']}/send-back", json={"step": "school_projects", "reason": "x"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["details"][0]["field"] == "step"
    done = admin.post(f"/instances/{instance['id']}/send-back",
                      json={"step": "analyze_allocation", "reason": "ตัวเลขวงเงินผิด"})
    assert done.status_code == 200, done.get_json()
    shown = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    [ready] = shown["ready_tasks"]
    assert ready["id"] != old_task["id"] and shown["status"] == "running"
    assert shown["data"] == data_before  # nothing typed since is lost
    task = world.api("officer").get(f"/tasks/{ready['id']}").get_json()
    assert task["step"] == "analyze_allocation"
    assert task["returned"]["by"] == "keeper" and task["returned"]["note"] == "ตัวเลขวงเงินผิด"
    event = _last(world, instance["id"])
    assert event["kind"] == "sent_back" and event["data"]["step"] == "analyze_allocation"
    assert world.api("director").post(f"/tasks/{old_task['id']}/complete", json={"data": {}}).status_code == 409
    # The work goes on from there.
    _, after = drive.step(world, shown)
    assert after["status"] == "running"
    assert world.api("head").get(f"/tasks/{after['ready_tasks'][0]['id']}").get_json()["step"] == "notify_allocation"


def test_correct_one_field_validated_like_a_form(world: World) -> None:
    instance = _at_sign_notice(world)
    admin = world.api("keeper")
    before = _row(world, instance["id"])
    wrong_type = admin.post(f"/instances/{instance['id']}/correct",
                            json={"field": "received_budget", "value": "สองล้าน", "reason": "พิมพ์ผิด"})
    assert wrong_type.status_code == 422 and wrong_type.get_json()["error"]["details"][0]["field"] == "value"
    unknown = admin.post(f"/instances/{instance['id']}/correct", json={"field": "__class__", "value": 1, "reason": "x"})
    assert unknown.status_code == 422
    assert _row(world, instance["id"]) == before
    done = admin.post(f"/instances/{instance['id']}/correct",
                      json={"field": "received_budget", "value": 2500000.0, "reason": "หนังสือแจ้งจัดสรรฉบับแก้ไข"})
    assert done.status_code == 200, done.get_json()
    shown = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
    assert shown["data"]["received_budget"] == 2500000.0
    assert {k: v for k, v in shown["data"].items() if k != "received_budget"} == \
        {k: v for k, v in before[2].items() if k != "received_budget"}
    event = _last(world, instance["id"])
    assert event["kind"] == "corrected" and event["data"]["old"] == before[2]["received_budget"]
    assert event["data"]["new"] == 2500000.0 and event["actor"] == "keeper"
    # The task that is waiting works on the corrected data.
    task = world.api("director").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
    assert task["data"]["received_budget"] == 2500000.0


def test_an_instance_in_error_shows_why_and_can_be_retried_after_a_fix(world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A loop of 400 rounds: the first run stops at a bound (steps), a retry at another (depth or time).
    xml = (DATA / "repair-loop.bpmn").read_bytes()
    assert world.api("analyst").put("/processes/repair-loop/bpmn", data=xml,
                                    content_type="application/xml").status_code == 201
    started = world.api("officer").post("/instances", json={"process": "repair-loop", "data": {}}).get_json()
    assert started["status"] == "error"
    admin = world.api("keeper")
    page = world.app.test_client()
    assert page.get(f"/instances/{started['id']}").status_code == 302  # the page is for those signed in
    again = admin.post(f"/instances/{started['id']}/retry", json={"reason": "ลองอีกครั้ง"})
    assert again.status_code == 200 and again.get_json()["status"] == "error"  # not mended: stops again, saying why
    assert _kinds(world, started["id"])[-2:] == ["retried", "error"]
    assert "ระบบหยุดกระบวนงานนี้ไว้" in _last(world, started["id"])["data"]["message"]
    monkeypatch.setattr(runner, "MAX_TREE_DEPTH", 950)  # the fix: the bounds the loop needs
    monkeypatch.setattr(runner, "MAX_ENGINE_STEPS", 5000)
    monkeypatch.setattr(runner, "MAX_RUN_SECONDS", 60.0)
    fixed = admin.post(f"/instances/{started['id']}/retry", json={"reason": "ขยายขอบเขต"})
    assert fixed.status_code == 200 and fixed.get_json()["status"] == "completed"
    assert _kinds(world, started["id"])[-2:] == ["retried", "finished"]
    assert admin.post(f"/instances/{started['id']}/retry", json={}).status_code == 409


def test_a_suspended_instances_timer_waits_for_the_resume(world: World) -> None:
    xml = (DATA / "timer-wait.bpmn").read_bytes()
    assert world.api("analyst").put("/processes/timer-wait/bpmn", data=xml,
                                    content_type="application/xml").status_code == 201
    started = world.api("officer").post("/instances", json={"process": "timer-wait", "data": {}}).get_json()
    admin = world.api("keeper")
    assert admin.post(f"/instances/{started['id']}/suspend", json={"reason": "พักไว้"}).status_code == 200
    time.sleep(1.1)
    fire_due(world.khanton.db)
    with world.khanton.db.transaction(read_only=True) as session:
        timer = session.scalars(select(Timer).where(Timer.instance_id == started["id"])).one()
        assert timer.status == "pending"
    assert _row(world, started["id"])[0] == "suspended"
    assert admin.post(f"/instances/{started['id']}/resume", json={}).status_code == 200
    assert fire_due(world.khanton.db) == 1
    assert _row(world, started["id"])[0] == "running"
    assert _kinds(world, started["id"])[-2:] == ["resumed", "timer"]


def test_the_openapi_describes_the_repairs(world: World) -> None:
    paths = world.api("officer").get("/openapi.json").get_json()["paths"]
    for action in ("suspend", "resume", "terminate", "send-back", "correct", "retry"):
        assert "post" in paths[f"/instances/{{id}}/{action}"]
    assert "get" in paths["/instances/{id}/steps"]


def _race(world: World, round_: int) -> tuple[dict[str, int], str]:
    """The director completes the waiting round while the admin terminates with the revision both saw."""
    instance = _at_sign_notice(world)
    revision = _row(world, instance["id"])[1]
    task = instance["ready_tasks"][0]
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def complete() -> None:
        barrier.wait()
        answers["complete"] = world.api("director").post(f"/tasks/{task['id']}/complete", json={"data": {
            "decision": "approved", "reference": f"ศธ {round_}/2570", "decided_on": "2026-12-01"}}).status_code

    def terminate() -> None:
        barrier.wait()
        answers["terminate"] = world.api("keeper").post(
            f"/instances/{instance['id']}/terminate", json={"reason": "แข่งกัน", "revision": revision}).status_code

    threads = [threading.Thread(target=complete), threading.Thread(target=terminate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers, instance["id"]


def test_on_postgresql_a_completion_and_a_repair_racing_give_one_winner(postgres_url: str) -> None:
    url, drop = _fresh_postgres(postgres_url)
    world = World(url)
    try:
        world.khanton.add_user("keeper", ["admin"], [])
        world.tokens["keeper"] = world.khanton.issue_token("keeper")
        for round_ in range(3):
            answers, instance_id = _race(world, round_)
            assert sorted(answers.values()) == [200, 409], answers
            status = _row(world, instance_id)[0]
            kinds = _kinds(world, instance_id)
            if answers["terminate"] == 200:
                assert status == "terminated" and kinds[-1] == "terminated" and kinds.count("completed") == 3
            else:
                assert status == "running" and "terminated" not in kinds and kinds.count("completed") == 4
    finally:
        world.close()
        drop()
