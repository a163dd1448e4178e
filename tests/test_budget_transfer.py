"""The flagship procedure through the HTTP API: returns, rejection, restarts, conflicts, refusals."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from engine.models import Event, HumanTask, Instance
from tests.conftest import World
from tests.drive import advance_to, data_for, scenario, start, step


def _snapshot(world: World, instance_id: str) -> tuple[object, ...]:
    """Everything a refused request must leave exactly as it was."""
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        events = session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == instance_id))
        tasks = session.execute(select(HumanTask.id, HumanTask.status).where(
            HumanTask.instance_id == instance_id).order_by(HumanTask.id)).all()
        return row.revision, row.state, row.data, row.status, events, tuple(tasks)


def test_return_at_governor_brings_allocation_back_with_a_new_task_id(world: World) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "governor_approval")
    first_allocation = [e for e in world.api("supervisor").get(
        f"/instances/{instance['id']}/timeline").get_json() if e["step"] == "allocate_leftover"][0]
    governor_task = instance["ready_tasks"][0]
    name, instance = step(world, instance, decision="returned")
    assert name == "governor_approval"
    assert instance["status"] == "running"
    back = instance["ready_tasks"][0]
    detail = world.api("committee").get(f"/tasks/{back['id']}").get_json()
    assert detail["step"] == "allocate_leftover"
    assert back["id"] != first_allocation["task"]
    # The governor's note travels with the returned allocation.
    assert detail["data"]["decision"] == "returned"
    # The old round's id is spent: completing it again is a conflict.
    again = world.api("committee").post(f"/tasks/{first_allocation['task']}/complete",
                                        json={"data": {"transfers": []}})
    assert again.status_code == 409
    assert world.api("officer").post(f"/tasks/{governor_task['id']}/complete",
                                     json={"data": {}}).status_code == 409
    # Through the board again, then the governor approves, and on to the end.
    steps_seen = []
    for _ in range(20):
        if not instance["ready_tasks"]:
            break
        name, instance = step(world, instance)
        steps_seen.append(name)
    assert steps_seen[:5] == ["allocate_leftover", "sign_board_proposal", "board_approval",
                              "sign_governor_proposal", "governor_approval"]
    assert instance["status"] == "completed"
    kinds = [e["kind"] for e in world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()]
    assert kinds.count("returned") == 1 and kinds[-1] == "finished"


def test_rejection_by_the_board_is_notified_then_ends_the_instance_rejected(world: World) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    _, instance = step(world, instance, decision="rejected")
    assert instance["status"] == "running"  # a no still reaches those concerned (issue #11)
    name, instance = step(world, instance)
    assert name == "notify_rejection"
    name, instance = step(world, instance)
    assert name == "sign_rejection_notice"
    assert instance["status"] == "rejected"
    assert instance["ready_tasks"] == []
    assert world.api("officer").get("/tasks").get_json() == []
    listed = world.api("officer").get("/instances?status=rejected").get_json()
    assert [i["id"] for i in listed] == [instance["id"]]


def test_state_survives_a_restart_between_steps(sqlite_url: str) -> None:
    first = World(sqlite_url)
    instance = advance_to(first, start(first, "budget-transfer"), "allocate_leftover")
    tokens = first.tokens
    first.close()
    # A new process: new engine, new app, same database file.
    from tests.conftest import ROOT, Api, make_khanton
    from web import create_app

    khanton = make_khanton(sqlite_url)
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url})
    app.extensions["khanton"] = khanton
    api = Api(app.test_client(), tokens["committee"])
    reloaded = api.get(f"/instances/{instance['id']}").get_json()
    assert reloaded["ready_tasks"] == instance["ready_tasks"]
    task = api.get(f"/tasks/{reloaded['ready_tasks'][0]['id']}").get_json()
    data = data_for(task, scenario("budget-transfer")["steps"])
    response = api.post(f"/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 200
    assert Path(ROOT / "processes").is_dir()
    khanton.db.dispose()


def test_invalid_form_data_is_refused_field_by_field_and_nothing_is_stored(world: World) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "allocate_leftover")
    before = _snapshot(world, instance["id"])
    task_id = instance["ready_tasks"][0]["id"]
    bad = {"transfers": [{"from_line": "L1", "to_project": "x", "to_category": "งบอื่นๆ", "amount": -5}],
           "__builtins__": {}}
    response = world.api("committee").post(f"/tasks/{task_id}/complete", json={"data": bad})
    assert response.status_code == 422
    body = response.get_json()["error"]
    fields = {d["field"] for d in body["details"]}
    assert {"__builtins__", "transfers.0.to_category", "transfers.0.amount"} <= fields
    assert all(d["message"] for d in body["details"])
    assert _snapshot(world, instance["id"]) == before


def test_transfers_beyond_the_leftover_of_their_line_are_refused_naming_the_line(world: World) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "allocate_leftover")
    before = _snapshot(world, instance["id"])
    task_id = instance["ready_tasks"][0]["id"]
    task = world.api("committee").get(f"/tasks/{task_id}").get_json()
    data = data_for(task, scenario("budget-transfer")["steps"])
    line = data["transfers"][0]
    data["transfers"] = [dict(line, amount=40000), dict(line, amount=40000)]  # L1's leftover is 50,000
    response = world.api("committee").post(f"/tasks/{task_id}/complete", json={"data": data})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details[0]["field"] == "transfers.1.amount"
    assert "L1" in details[0]["message"]
    assert _snapshot(world, instance["id"]) == before


def test_who_may_do_what(world: World) -> None:
    instance = start(world, "budget-transfer")
    task_id = instance["ready_tasks"][0]["id"]  # study_spending, plan_officer's
    before = _snapshot(world, instance["id"])
    assert world.api("committee").post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 403
    assert world.api("supervisor").post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 403
    assert world.api("outsider").get(f"/instances/{instance['id']}").status_code == 403
    assert world.api("supervisor").get(f"/instances/{instance['id']}").status_code == 200
    assert world.api("school").post("/instances", json={"process": "budget-transfer",
                                                        "data": {"fiscal_year": 2570}}).status_code == 403
    assert _snapshot(world, instance["id"]) == before
    # A plan_officer records the decisions of outside bodies.
    instance = advance_to(world, instance, "board_approval")
    lanes = {t["lane"] for t in world.api("officer").get("/tasks").get_json()}
    assert "esa_board" in lanes
    assert world.api("committee").get("/tasks").get_json() == []


def test_refusal_order_and_error_shape(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    missing = world.api("officer").post("/tasks/does-not-exist/complete", json={"data": {}})
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "details"}
    assert world.api("officer").post("/instances", json={"process": "nope", "data": {}}).status_code == 404
    assert world.api("officer").post("/instances", data="not json",
                                     content_type="application/json").status_code == 400
    bad_start = world.api("officer").post("/instances", json={"process": "budget-transfer",
                                                              "data": {"fiscal_year": "two"}})
    assert bad_start.status_code == 422
    assert world.api("officer").get("/instances?limit=x").status_code == 400
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0


def test_listing_is_newest_first_and_paginated(world: World) -> None:
    ids = [start(world, "budget-transfer")["id"] for _ in range(3)]
    listed = world.api("officer").get("/instances").get_json()
    assert [i["id"] for i in listed] == ids[::-1]
    page = world.api("officer").get("/instances?limit=1&offset=1").get_json()
    assert [i["id"] for i in page] == [ids[1]]
    tasks = world.api("officer").get("/tasks?limit=2").get_json()
    assert [t["instance"] for t in tasks] == ids[::-1][:2]


def test_openapi_describes_every_route(world: World) -> None:
    spec = world.app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(r.rule).removeprefix("/api/v1"))  # <int:a> -> {a}
              for r in world.app.url_map.iter_rules() if str(r.rule).startswith("/api/v1")}
    documented = {p.replace("{id}", "{x}") for p in spec["paths"]}
    normalised = {r.replace("{instance_id}", "{x}").replace("{task_id}", "{x}").replace("{attachment_id}", "{x}")
                  for r in routes}
    assert normalised == documented
