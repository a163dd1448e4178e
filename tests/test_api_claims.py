"""Claims, hand-overs, the head's powers, delegates' reading and attachments through the JSON API."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from werkzeug.http import parse_options_header

from engine.attachments import MAX_BYTES
from engine.thai_calendar import today as thai_today
from tests.conftest import World
from tests.drive import advance_to, data_for, scenario, start

PDF = "%PDF-1.4\n% มติคณะกรรมการ\n".encode()


@pytest.fixture
def office(world: World) -> World:
    """The world with a second plan officer and an officer of another lane, each with a token."""
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"], display_name="นางมาลี ขยัน")
    world.khanton.add_user("deputy", ["officer"], ["esa_director"], display_name="นายวิชัย แทน")
    for name in ("officer2", "deputy"):
        world.tokens[name] = world.khanton.issue_token(name)
    return world


def _task(world: World) -> tuple[str, str]:
    instance = start(world, "budget-transfer")
    return instance["id"], instance["ready_tasks"][0]["id"]


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def _upload(api: Any, task_id: str, content: bytes | None, name: str = "มติ กพท. 1-2569.pdf") -> Any:
    data = {"file": (BytesIO(content), name)} if content is not None else {}
    return api.post(f"/tasks/{task_id}/attachments", data=data, content_type="multipart/form-data")


def test_a_claim_holds_until_released_or_handed_over(office: World) -> None:
    instance_id, task_id = _task(office)
    me, colleague, stranger = office.api("officer"), office.api("officer2"), office.api("school")
    assert me.get(f"/tasks/{task_id}").get_json()["holder"] is None
    claimed = me.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["id"] == task_id
    assert claimed.get_json()["holder"] == "officer"
    assert me.post(f"/tasks/{task_id}/claim").get_json()["holder"] == "officer"  # claiming again changes nothing
    # A colleague of the lane is told who holds it, and can neither take, release, complete nor attach.
    assert "officer" in _error(colleague.post(f"/tasks/{task_id}/claim"), 409, "held")["message"]
    _error(colleague.post(f"/tasks/{task_id}/release"), 409, "held")
    _error(colleague.post(f"/tasks/{task_id}/hand-over", json={"to": "officer2"}), 409, "held")
    data = data_for(colleague.get(f"/tasks/{task_id}").get_json(), scenario("budget-transfer")["steps"])
    _error(colleague.post(f"/tasks/{task_id}/complete", json={"data": data}), 403, "forbidden")
    _error(_upload(colleague, task_id, PDF), 403, "forbidden")
    # Someone of another lane: 403 before anything else; an unknown task: 404 first.
    for path in ("claim", "release", "hand-over"):
        _error(stranger.post(f"/tasks/{task_id}/{path}", json={"to": 7}), 403, "forbidden")
        _error(stranger.post(f"/tasks/no-such-task/{path}", json={"to": 7}), 404, "not_found")
    # The holder hands it over with a note; from then on it is the colleague's.
    handed = me.post(f"/tasks/{task_id}/hand-over", json={"to": "officer2", "note": "ช่วยดูต่อด้วย"})
    assert handed.status_code == 200 and handed.get_json()["holder"] == "officer2"
    _error(me.post(f"/tasks/{task_id}/complete", json={"data": data}), 403, "forbidden")
    released = colleague.post(f"/tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["holder"] is None
    assert me.post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    _error(colleague.post(f"/tasks/{task_id}/claim"), 409, "conflict")  # done: nothing to claim
    events = [(e["kind"], e["actor"]) for e in me.get(f"/instances/{instance_id}/timeline").get_json()
              if e["task"] == task_id]
    assert events == [("claimed", "officer"), ("handed_over", "officer"), ("released", "officer2"),
                      ("completed", "officer")]


def test_a_hand_over_names_a_colleague_of_the_lane_and_a_short_note(office: World) -> None:
    _, task_id = _task(office)
    me = office.api("officer")
    bad = [({}, "to"), ({"to": ""}, "to"), ({"to": ["officer2"]}, "to"), ({"to": "school"}, "to"),
           ({"to": "nobody"}, "to"), ({"to": "officer2", "note": 5}, "note"),
           ({"to": "officer2", "note": "ก" * 1001}, "note"), ({"to": "officer2", "note": "\ud800"}, "note")]
    for body, field in bad:
        sent = json.dumps(body)  # escapes the lone surrogate as JSON does: "\\ud800"
        error = _error(me.post(f"/tasks/{task_id}/hand-over", data=sent, content_type="application/json"),
                       422, "invalid_data")
        assert [d["field"] for d in error["details"]] == [field], body
    _error(me.post(f"/tasks/{task_id}/hand-over", data="[]", content_type="application/json"), 400)
    assert office.api("supervisor").get(f"/tasks/{task_id}").get_json()["holder"] is None  # nothing changed
    handed = me.post(f"/tasks/{task_id}/hand-over", json={"to": "officer2", "note": None})  # no note
    assert handed.status_code == 200 and handed.get_json()["holder"] == "officer2"


def test_the_head_of_the_group_opens_reassigns_and_releases_any_task(office: World) -> None:
    instance_id, task_id = _task(office)
    head = office.api("head")
    task = head.get(f"/tasks/{task_id}")
    assert task.status_code == 200 and task.get_json()["lane"] == "plan_officer"
    assert head.get(f"/instances/{instance_id}").status_code == 200
    assert head.get(f"/instances/{instance_id}/timeline").status_code == 200
    assert instance_id in [i["id"] for i in head.get("/instances").get_json()]
    # The head reassigns and releases, but works only their own lane's tasks.
    _error(head.post(f"/tasks/{task_id}/claim"), 403)
    data = data_for(task.get_json(), scenario("budget-transfer")["steps"])
    _error(head.post(f"/tasks/{task_id}/complete", json={"data": data}), 403)
    office.api("officer").post(f"/tasks/{task_id}/claim")
    moved = head.post(f"/tasks/{task_id}/hand-over", json={"to": "officer2", "note": "โปรดดำเนินการแทน"})
    assert moved.status_code == 200 and moved.get_json()["holder"] == "officer2"
    _error(head.post(f"/tasks/{task_id}/hand-over", json={"to": "committee"}), 422)  # a colleague of the lane
    released = head.post(f"/tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["holder"] is None
    kinds = [(e["kind"], e["actor"]) for e in head.get(f"/instances/{instance_id}/timeline").get_json()]
    assert ("handed_over", "head") in kinds and ("released", "head") in kinds


def test_who_acts_for_the_head_of_the_group_has_the_heads_powers(office: World) -> None:
    # From the officer's study of the spending (after the schools' reports) on to the committee's step.
    instance = advance_to(office, start(office, "budget-transfer"), "study_spending")
    instance_id, task_id = instance["id"], instance["ready_tasks"][0]["id"]
    data = data_for(office.api("officer").get(f"/tasks/{task_id}").get_json(), scenario("budget-transfer")["steps"])
    committee_task = office.api("officer").post(f"/tasks/{task_id}/complete", json={"data": data}).get_json()[
        "ready_tasks"][0]["id"]
    assert office.api("committee").post(f"/tasks/{committee_task}/claim").status_code == 200
    stand_in = office.api("officer2")
    _error(stand_in.post(f"/tasks/{committee_task}/release"), 403)
    today = thai_today()
    office.khanton.delegate(office.khanton.actor("head"), "officer2", "acting", today, today)
    released = stand_in.post(f"/tasks/{committee_task}/release")
    assert released.status_code == 200 and released.get_json()["holder"] is None
    last = office.khanton.timeline(instance_id, office.khanton.actor("supervisor"))[-1]
    assert (last["kind"], last["actor"], last["data"]) == ("released", "officer2", {"acting_for": "head"})


def test_a_delegate_reads_what_the_absent_person_may_read_and_works_what_they_hold(office: World) -> None:
    instance_id, task_id = _task(office)  # started by `officer`
    deputy, colleague = office.api("deputy"), office.api("officer2")
    assert office.api("officer").post(f"/tasks/{task_id}/claim").status_code == 200
    _error(deputy.get(f"/instances/{instance_id}"), 403)
    _error(deputy.get(f"/instances/{instance_id}/timeline"), 403)
    assert instance_id not in [i["id"] for i in deputy.get("/instances").get_json()]
    today = thai_today()
    officer = office.khanton.actor("officer")
    office.khanton.delegate(officer, "deputy", "acting", today, today + timedelta(days=2))
    office.khanton.delegate(officer, "officer2", "deputy", today, today + timedelta(days=2))
    assert deputy.get(f"/instances/{instance_id}").status_code == 200
    assert [e["kind"] for e in deputy.get(f"/instances/{instance_id}/timeline").get_json()][:2] == [
        "started", "claimed"]
    assert instance_id in [i["id"] for i in deputy.get("/instances").get_json()]
    # A colleague of the same lane who acts for the holder completes the task the holder claimed.
    data = data_for(colleague.get(f"/tasks/{task_id}").get_json(), scenario("budget-transfer")["steps"])
    assert colleague.post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    done = [e for e in colleague.get(f"/instances/{instance_id}/timeline").get_json() if e["kind"] == "completed"]
    assert done[0]["actor"] == "officer2"
    assert office.khanton.timeline(instance_id, office.khanton.actor("supervisor"))[2]["data"][
        "acting_for"] == "officer"
    for delegation in office.khanton.delegations(officer):
        office.khanton.revoke_delegation(officer, delegation["id"])
    _error(deputy.get(f"/instances/{instance_id}"), 403)


def test_attachments_are_listed_uploaded_and_downloaded_with_the_pages_rules(office: World) -> None:
    instance_id, task_id = _task(office)
    me = office.api("officer")
    added = _upload(me, task_id, PDF, "../../เอกสาร/<มติ>|1.pdf")
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["filename"] == "มติ1.pdf" and body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF) and body["task"] == task_id and body["uploaded_by"] == "officer"
    assert body["uploaded_at"].endswith("+07:00")
    thai = _upload(me, task_id, PDF, "มติ กพท. “ครั้งที่ 1”; 2569.pdf").get_json()
    listed = me.get(f"/tasks/{task_id}/attachments").get_json()
    assert [a["id"] for a in listed] == [body["id"], thai["id"]]
    download = me.get(f"/attachments/{thai['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf" and download.headers["X-Content-Type-Options"] == "nosniff"
    kind, params = parse_options_header(download.headers["Content-Disposition"])
    assert kind == "attachment" and params["filename"] == "มติ กพท. “ครั้งที่ 1”; 2569.pdf"
    # Those who may not see the instance: 403; unknown ids: 404; no token: 401.
    _error(office.api("school").get(f"/tasks/{task_id}/attachments"), 403)
    _error(office.api("school").get(f"/attachments/{thai['id']}"), 403)
    _error(me.get("/tasks/nope/attachments"), 404)
    _error(me.get("/attachments/nope"), 404)
    _error(office.app.test_client().get(f"/api/v1/attachments/{thai['id']}"), 401)
    assert office.api("supervisor").get(f"/attachments/{thai['id']}").status_code == 200
    assert instance_id


def test_hostile_uploads_are_refused_saying_why_and_store_nothing(any_world: World) -> None:
    office = any_world
    _, task_id = _task(office)
    me = office.api("officer")
    for content, name in ((None, "x.pdf"), (b"", "x.pdf"), (b"<html><script>", "x.pdf"),
                          (PDF, "x.html"), (PDF, "noext"), (b"\x89PNG\r\n\x1a\n", "x.pdf")):
        error = _error(_upload(me, task_id, content, name), 422, "invalid_data")
        assert error["details"][0]["field"] == "file" and error["details"][0]["message"] == error["message"]
    _error(_upload(me, task_id, b"%PDF-" + b"0" * MAX_BYTES), 413)
    assert "5 MB" in _error(_upload(me, task_id, b"%PDF-" + b"0" * 7 * 1024 * 1024), 413)["message"]  # whole request
    for bad_id in ("%00", "x" * 5000):  # PostgreSQL cannot even compare a NUL: unknown, before the database
        _error(_upload(me, bad_id, PDF), 404, "not_found")
        _error(me.post(f"/tasks/{bad_id}/claim"), 404, "not_found")
        _error(me.get(f"/attachments/{bad_id}"), 404, "not_found")
    _error(_upload(office.api("school"), "no-such-task", b"junk"), 404)
    _error(_upload(office.api("school"), task_id, b"junk"), 403)  # 403 before the file is looked at
    assert me.get(f"/tasks/{task_id}/attachments").get_json() == []
    data = data_for(me.get(f"/tasks/{task_id}").get_json(), scenario("budget-transfer")["steps"])
    assert me.post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    _error(_upload(me, task_id, PDF), 409, "conflict")  # a done task takes no more documents
    assert me.get(f"/tasks/{task_id}/attachments").get_json() == []


def test_openapi_documents_the_claim_and_attachment_endpoints(office: World) -> None:
    spec = office.app.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, method, codes in (("/tasks/{id}/claim", "post", {"200", "409"}),
                                ("/tasks/{id}/release", "post", {"200", "409"}),
                                ("/tasks/{id}/hand-over", "post", {"200", "422"}),
                                ("/tasks/{id}/attachments", "get", {"200", "403"}),
                                ("/tasks/{id}/attachments", "post", {"201", "413", "422"}),
                                ("/attachments/{id}", "get", {"200", "404"})):
        assert codes <= set(paths[path][method]["responses"]), (path, method)
    assert "holder" in spec["components"]["schemas"]["TaskDetail"]["allOf"][1]["properties"]
