"""Everyday work through the API and the engine: returned rounds say why, decisions start empty and
need a reason to return or reject, drafts are kept per person and go when the task is done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from engine.models import Draft, Event, TaskReturn, WebSession
from engine.rounds import decision
from tests.conftest import World
from tests.drive import advance_to, attach_signed, data_for, start, step, user_for


def _at_board(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    summary = instance["ready_tasks"][0]
    api = world.api(user_for(summary))
    task = api.get(f"/tasks/{summary['id']}").get_json()
    attach_signed(api, task)  # the board's resolution, which its decision requires (x-signed-document)
    return instance, task


def _events(world: World, instance_id: str) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == instance_id)) or 0


def test_a_return_without_a_reason_is_refused_and_nothing_changes(any_world: World) -> None:
    instance, task = _at_board(any_world)
    api = any_world.api(user_for(instance["ready_tasks"][0]))
    before = _events(any_world, instance["id"])
    for choice in ("returned", "rejected"):
        for note in (None, "", "   \n "):
            data = {**data_for(task, {}, choice)}
            data.pop("note", None)
            if note is not None:
                data["note"] = note
            refused = api.post(f"/tasks/{task['id']}/complete", json={"data": data})
            assert refused.status_code == 422, refused.get_json()
            details = refused.get_json()["error"]["details"]
            assert [d["field"] for d in details] == ["note"]
            assert "ต้องระบุเหตุผล" in details[0]["message"]
            assert decision.title(task["form"], choice) in details[0]["message"]
    assert _events(any_world, instance["id"]) == before
    # Approving needs no reason.
    approve = {k: v for k, v in data_for(task, {}, "approved").items() if k != "note"}
    assert api.post(f"/tasks/{task['id']}/complete", json={"data": approve}).status_code == 200


def test_the_returned_round_says_who_returned_it_when_and_why(any_world: World) -> None:
    instance, task = _at_board(any_world)
    board_user = user_for(instance["ready_tasks"][0])
    assert task["returned"] is None and task["earlier_rounds"] == []
    data = {**data_for(task, {}, "returned"), "note": "  ยอดโอนรายการที่ 2 เกินวงเงินเหลือจ่าย  "}
    assert any_world.api(board_user).post(f"/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    after = any_world.api("officer").get(f"/instances/{instance['id']}").get_json()
    back = after["ready_tasks"][0]
    detail = any_world.api(user_for(back)).get(f"/tasks/{back['id']}").get_json()
    returned = detail["returned"]
    assert returned["by"] == board_user and returned["note"] == "ยอดโอนรายการที่ 2 เกินวงเงินเหลือจ่าย"
    assert datetime.fromisoformat(returned["at"]) > datetime.now(UTC) - timedelta(minutes=5)
    # The inbox of the person who gets it back marks it.
    page = any_world.khanton.inbox(any_world.khanton.actor(user_for(back)))
    marked = {row.id: row.returned for row in page.rows}
    assert marked[back["id"]] is not None and marked[back["id"]].note == returned["note"]
    # The next round of the board starts empty and shows the returned round as history.
    after = advance_to(any_world, after, "board_approval")  # revised, then signed again by the director
    board = after["ready_tasks"][0]
    again = any_world.api(board_user).get(f"/tasks/{board['id']}").get_json()
    assert again["returned"] is None  # it follows the revision, not the return
    assert decision.prefill(again["form"], again["data"]) == {}
    assert again["data"]["decision"]  # the instance holds a decision; the new round does not start from it
    [earlier] = again["earlier_rounds"]
    assert earlier["decision"] == "returned" and earlier["decision_title"] == "ส่งกลับแก้ไข"
    assert earlier["by"] == board_user and earlier["data"]["note"].strip() == returned["note"]
    with any_world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(TaskReturn)) == 1


def test_steps_other_than_decisions_start_from_what_the_instance_holds() -> None:
    form = {"type": "object", "properties": {"amount": {"type": "number"}}}
    assert decision.prefill(form, {"amount": 5}) == {"amount": 5}
    assert decision.prefill({"properties": {"decision": {}, "note": {}}}, {"decision": "returned", "note": "x"}) == {}


def test_a_draft_is_kept_per_person_and_shown_back(any_world: World) -> None:
    instance = start(any_world, "budget-transfer")
    summary = instance["ready_tasks"][0]
    me = user_for(summary)
    api = any_world.api(me)
    draft = {"transfers": [{"item": "ครุภัณฑ์", "amount": "สองหมื่น"}], "note": "ยังไม่เสร็จ"}
    saved = api.put(f"/tasks/{summary['id']}/draft", json={"data": draft})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["data"] == draft
    assert api.get(f"/tasks/{summary['id']}").get_json()["draft"]["data"] == draft
    # Saving again replaces it; another person of the lane sees no draft of theirs.
    assert api.put(f"/tasks/{summary['id']}/draft", json={"data": {"note": "รอบสอง"}}).status_code == 200
    assert api.get(f"/tasks/{summary['id']}").get_json()["draft"]["data"] == {"note": "รอบสอง"}
    assert any_world.api("supervisor").get(f"/tasks/{summary['id']}").get_json()["draft"] is None


def test_a_draft_is_refused_in_the_api_order_and_when_it_cannot_be_stored(any_world: World) -> None:
    instance = start(any_world, "budget-transfer")
    task_id = instance["ready_tasks"][0]["id"]
    me = any_world.api(user_for(instance["ready_tasks"][0]))
    assert any_world.api("officer").put("/tasks/nope/draft", json={"data": {}}).status_code == 404
    assert any_world.api("supervisor").put(f"/tasks/{task_id}/draft", json={"data": {}}).status_code == 403
    assert me.put(f"/tasks/{task_id}/draft", json={}).status_code == 422
    assert me.put(f"/tasks/{task_id}/draft", json={"data": [1]}).status_code == 422
    bad = me.put(f"/tasks/{task_id}/draft", data='{"data": {"note": "a\\u0000b"}}',
                 content_type="application/json")
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "note"
    huge = me.put(f"/tasks/{task_id}/draft", json={"data": {"note": "ก" * 100_000}})
    assert huge.status_code == 413
    with any_world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0


def test_drafts_go_when_anyone_completes_the_task(any_world: World) -> None:
    instance = start(any_world, "budget-transfer")
    summary = instance["ready_tasks"][0]
    me = user_for(summary)
    assert any_world.api(me).put(f"/tasks/{summary['id']}/draft", json={"data": {"note": "x"}}).status_code == 200
    _, after = step(any_world, instance)
    with any_world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
    assert any_world.api(me).get(f"/tasks/{summary['id']}").get_json()["draft"] is None
    # and a draft of a done task is refused
    assert any_world.api(me).put(f"/tasks/{summary['id']}/draft", json={"data": {}}).status_code == 409
    assert after["status"] == "running"


def test_a_session_slides_with_use_and_ends_after_the_idle_time(any_world: World) -> None:
    khanton = any_world.khanton
    idle = timedelta(minutes=30)
    key = khanton.begin_web_session("officer", idle)
    assert khanton.web_session_actor(key, idle) is not None

    def last_used(minutes: int) -> None:
        with khanton.db.transaction() as session:
            now = datetime.now(UTC)
            session.execute(update(WebSession).values(created_at=now - timedelta(hours=9),
                                                      seen_at=now - timedelta(minutes=minutes)))

    last_used(29)  # signed in 9 hours ago, used 29 minutes ago: still in, and the use is noted
    assert khanton.web_session_actor(key, idle) is not None
    with khanton.db.transaction(read_only=True) as session:
        seen = session.scalar(select(WebSession.seen_at))
    seen = seen if seen is None or seen.tzinfo else seen.replace(tzinfo=UTC)  # SQLite: naive UTC
    assert seen is not None and seen > datetime.now(UTC) - timedelta(minutes=1)
    last_used(31)
    assert khanton.web_session_actor(key, idle) is None
