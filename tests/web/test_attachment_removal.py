"""Whoever attached a document may remove it while its step is open; the timeline records it. Anyone
else, or after the step is done, is refused with a Thai message, and the document stays."""

from __future__ import annotations

import io
from typing import Any

from tests.conftest import World
from tests.drive import start, step

PDF = b"%PDF-1.4 a wrong letter"


def _attach(world: World, user: str, task_id: str, name: str = "หนังสือผิดฉบับ.pdf") -> dict[str, Any]:
    response = world.api(user).post(f"/tasks/{task_id}/attachments", data={"file": (io.BytesIO(PDF), name)},
                                    content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    attached: dict[str, Any] = response.get_json()
    return attached


def _listed(world: World, task_id: str) -> list[str]:
    return [a["filename"] for a in world.api("supervisor").get(f"/tasks/{task_id}/attachments").get_json()]


def test_the_uploader_removes_it_while_the_step_is_open_and_the_timeline_says_so(any_world: World) -> None:
    world = any_world
    instance = start(world, "budget-transfer", {"fiscal_year": 2570, "title": "โอนงบ"})
    task_id = instance["ready_tasks"][0]["id"]
    wrong = _attach(world, "officer", task_id)
    _attach(world, "officer", task_id, "หนังสือที่ถูกต้อง.pdf")
    response = world.api("officer").client.delete(f"/api/v1/attachments/{wrong['id']}",
                                                  headers=world.api("officer").headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["filename"] == "หนังสือผิดฉบับ.pdf"
    assert _listed(world, task_id) == ["หนังสือที่ถูกต้อง.pdf"]
    assert world.api("officer").get(f"/attachments/{wrong['id']}").status_code == 404
    events = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    removed = [e for e in events if e["kind"] == "attachment_removed"]
    assert len(removed) == 1 and removed[0]["actor"] == "officer" and removed[0]["task"] == task_id
    again = world.api("officer").client.delete(f"/api/v1/attachments/{wrong['id']}",
                                               headers=world.api("officer").headers)
    assert again.status_code == 404 and again.get_json()["error"]["message"] == "ไม่พบเอกสารแนบ"


def _delete(world: World, user: str, attachment_id: str) -> Any:
    return world.api(user).client.delete(f"/api/v1/attachments/{attachment_id}", headers=world.api(user).headers)


def test_someone_else_or_a_finished_step_cannot_remove_it(world: World) -> None:
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    world.tokens["officer2"] = world.khanton.issue_token("officer2")
    instance = start(world, "budget-transfer", {"fiscal_year": 2570, "title": "โอนงบ"})
    task_id = instance["ready_tasks"][0]["id"]
    kept = _attach(world, "officer", task_id)
    colleague = _delete(world, "officer2", kept["id"])  # same lane, not the uploader
    assert colleague.status_code == 403
    assert colleague.get_json()["error"]["message"] == "ลบเอกสาร หนังสือผิดฉบับ.pdf ได้เฉพาะผู้ที่แนบ (officer)"
    assert _delete(world, "outsider", kept["id"]).status_code == 404  # may not even see it
    step(world, instance)  # the step is completed: the document is its record now
    done = _delete(world, "officer", kept["id"])
    assert done.status_code == 409
    assert "ดำเนินการไปแล้ว" in done.get_json()["error"]["message"]
    assert _listed(world, task_id) == ["หนังสือผิดฉบับ.pdf"]
    events = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    assert "attachment_removed" not in [e["kind"] for e in events]


def test_the_task_page_offers_removal_to_the_uploader_only(web: World, page_as: Any) -> None:
    instance = start(web, "budget-transfer", {"fiscal_year": 2570, "title": "โอนงบ"})
    task_id = instance["ready_tasks"][0]["id"]
    attached = _attach(web, "officer", task_id)
    head = page_as("head")
    head.get(f"/tasks/{task_id}")
    assert f"/attachments/{attached['id']}/remove" not in head.html
    officer = page_as("officer")
    officer.get(f"/tasks/{task_id}")
    assert f"/attachments/{attached['id']}/remove" in officer.html
    refused = head.post(f"/attachments/{attached['id']}/remove", {"task": task_id}, follow_redirects=True)
    assert "ได้เฉพาะผู้ที่แนบ" in refused.get_data(as_text=True)
    officer.get(f"/tasks/{task_id}")
    done = officer.post(f"/attachments/{attached['id']}/remove", {"task": task_id}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "ลบเอกสาร หนังสือผิดฉบับ.pdf แล้ว" in page and "ลบเอกสารแนบ" in page  # flash, and the timeline
    assert _listed(web, task_id) == []
