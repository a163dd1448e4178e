"""Claims on the officers' pages: the head of the group opens and reassigns any task, a held task takes
no colleague's documents, a delegate's instance list holds what the absent person may read."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

from werkzeug.http import parse_options_header

from engine.thai_calendar import today as thai_today
from tests.conftest import World
from tests.drive import budget_transfer_at_study

from .conftest import PASSWORD
from .test_pages import STUDY_FORM

PDF = b"%PDF-1.4\n% letter\n"


def _plan_task(web: World) -> tuple[str, str]:
    instance = budget_transfer_at_study(web)
    return instance["id"], instance["ready_tasks"][0]["id"]


def _attach(page: Any, task_id: str, name: str) -> Any:
    page.get(f"/tasks/{task_id}")
    return page.client.post(f"/tasks/{task_id}/attachments", follow_redirects=True,
                            data={"csrf_token": page.token(), "file": (BytesIO(PDF), name)},
                            content_type="multipart/form-data")


def test_the_head_opens_any_task_read_only_and_reassigns_or_releases_it(web: World, page_as: Any) -> None:
    web.khanton.add_user("officer2", ["officer"], ["plan_officer"], PASSWORD, "นางมาลี ขยัน")
    instance_id, task_id = _plan_task(web)
    head = page_as("head")
    assert head.get(f"/tasks/{task_id}").status_code == 200
    assert "ดูได้อย่างเดียว" in head.html and 'class="task-form"' not in head.html
    assert 'action="/tasks/' + task_id + '/hand-over"' in head.html and "นางมาลี ขยัน" in head.html
    web.khanton.claim(task_id, web.khanton.actor("officer"))
    head.get(f"/tasks/{task_id}")
    assert "ปล่อยงานคืน" in head.html
    moved = head.post(f"/tasks/{task_id}/hand-over", {"to": "officer2", "note": "เร่งด่วน"})
    assert moved.status_code == 302
    assert web.khanton.task(task_id, web.khanton.actor("head"))["holder"] == "officer2"
    head.get(f"/tasks/{task_id}")
    assert head.post(f"/tasks/{task_id}/release").status_code == 302
    assert web.khanton.task(task_id, web.khanton.actor("head"))["holder"] is None
    head.get(f"/instances/{instance_id}")
    assert head.html.count("ev-handed_over") == 1 and head.html.count("ev-released") == 1


def test_a_held_task_takes_no_document_from_a_colleague(web: World, page_as: Any) -> None:
    web.khanton.add_user("officer2", ["officer"], ["plan_officer"], PASSWORD, "นางมาลี ขยัน")
    _, task_id = _plan_task(web)
    holder = page_as("officer2")
    holder.get(f"/tasks/{task_id}")
    holder.post(f"/tasks/{task_id}/claim")
    refused = _attach(page_as("officer"), task_id, "หนังสือ.pdf")
    assert "นางมาลี ขยัน" in refused.get_data(as_text=True) and "รับงานไว้แล้ว" in refused.get_data(as_text=True)
    assert web.khanton.task_attachments(task_id, web.khanton.actor("officer")) == []
    accepted = _attach(holder, task_id, "หนังสือ ครั้งที่ 1.pdf")
    assert "แนบเอกสาร" in accepted.get_data(as_text=True)
    [stored] = web.khanton.task_attachments(task_id, web.khanton.actor("officer2"))
    download = holder.get(f"/attachments/{stored['id']}")
    _, params = parse_options_header(download.headers["Content-Disposition"])
    assert download.data == PDF and params["filename"] == "หนังสือ ครั้งที่ 1.pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_delegates_instance_list_holds_what_the_absent_person_may_read(web: World, page_as: Any) -> None:
    instance_id, _ = _plan_task(web)  # started by `officer`
    director = page_as("director")
    director.get("/instances")
    assert instance_id not in director.html
    assert director.get(f"/instances/{instance_id}").status_code == 403
    today = thai_today()
    web.khanton.delegate(web.khanton.actor("officer"), "director", "acting", today, today + timedelta(days=1))
    director.get("/instances")
    assert f"/instances/{instance_id}" in director.html
    assert director.get(f"/instances/{instance_id}").status_code == 200


def test_a_colleague_acting_for_the_holder_completes_the_held_task_through_the_page(
        web: World, page_as: Any) -> None:
    """The engine lets someone acting for the holder complete the task they hold; the page offered them
    only a read-only view (it knew the lanes acted for, not the people)."""
    web.khanton.add_user("officer2", ["officer"], ["plan_officer"], PASSWORD, "นางมาลี ขยัน")
    instance_id, task_id = _plan_task(web)
    web.khanton.claim(task_id, web.khanton.actor("officer2"))
    web.khanton.delegate(web.khanton.actor("officer2"), "officer", "acting", thai_today(),
                         thai_today() + timedelta(days=3))
    page = page_as("officer")
    page.get(f"/tasks/{task_id}")
    assert 'class="task-form"' in page.html, "the person acting for the holder gets the form"
    assert page.post(f"/tasks/{task_id}", STUDY_FORM).status_code == 302
    done = [e for e in web.khanton.timeline(instance_id, web.khanton.actor("supervisor")) if e["kind"] == "completed"]
    assert done[-1]["actor"] == "officer" and done[-1]["data"]["acting_for"] == "officer2"
