"""Who holds a task: claim, release, hand-over, acting for someone away; attachments; the demo."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from engine.errors import Forbidden, KhantonError
from tests.conftest import World
from tests.drive import budget_transfer_at_study
from web.demo import load_demo

from .conftest import PASSWORD

STUDY = {"spending_sources": [{"source": "finance_group", "source_name": "กลุ่มการเงิน"}],
         "total_allocated": 100.0, "total_disbursed": 50.0, "as_of": "2026-09-30"}


def _committee_task(web: World) -> tuple[str, str]:
    officer = web.khanton.actor("officer")
    instance = budget_transfer_at_study(web)
    instance = web.khanton.complete(instance["ready_tasks"][0]["id"], STUDY, officer)
    return instance["id"], instance["ready_tasks"][0]["id"]


def test_claim_release_and_hand_over_are_on_the_timeline(web: World, page_as: Any) -> None:
    web.khanton.add_user("committee2", ["officer"], ["committee"], PASSWORD, "กรรมการคนที่สอง")
    instance_id, task_id = _committee_task(web)
    page = page_as("committee")
    page.get(f"/tasks/{task_id}")
    page.post(f"/tasks/{task_id}/claim")
    other = page_as("committee2")
    other.get(f"/tasks/{task_id}")
    assert "ผู้รับงาน:" in other.html and "committee" in other.html
    other.get("/")
    assert 'class="tag held"' in other.html
    # The holder's colleague may not complete it, through the page or the API.
    with pytest.raises(Forbidden):
        web.khanton.complete(task_id, {}, web.khanton.actor("committee2"))
    page.get(f"/tasks/{task_id}")
    page.post(f"/tasks/{task_id}/hand-over", {"to": "committee2", "note": "ช่วยดูต่อด้วย"})
    page.get(f"/tasks/{task_id}")
    page.post(f"/tasks/{task_id}/release")  # no longer the holder: refused
    assert "ปล่อยงานได้เฉพาะ" in page.html
    kinds = [(e["kind"], e["actor"]) for e in web.khanton.timeline(instance_id, web.khanton.actor("supervisor"))]
    assert ("claimed", "committee") in kinds and ("handed_over", "committee") in kinds
    with pytest.raises(KhantonError):  # only colleagues of the lane
        web.khanton.hand_over(task_id, web.khanton.actor("committee2"), "school")
    web.khanton.release(task_id, web.khanton.actor("head"))  # the head of the group may
    assert web.khanton.timeline(instance_id, web.khanton.actor("supervisor"))[-1]["kind"] == "released"


def test_acting_for_someone_away_sees_and_completes_their_tasks(web: World, page_as: Any) -> None:
    instance_id, task_id = _committee_task(web)
    today = date.today()
    assert web.khanton.ready_tasks(web.khanton.actor("head")) == []
    page = page_as("committee")
    page.get("/delegations")
    end = today + timedelta(days=3)
    page.post("/delegations", {"to": "head", "kind": "acting",
                               "starts_on": f"{today.day}/{today.month}/{today.year + 543}",
                               "ends_on": f"{end.day}/{end.month}/{end.year + 543}"})
    page.get("/delegations")
    assert "รักษาราชการแทน" in page.html
    head = page_as("head")
    head.get("/")
    assert task_id in head.html and "แทน committee" in head.html
    # Through the API too.
    assert [t["id"] for t in web.api("head").get("/tasks").get_json()] == [task_id]
    response = web.api("head").post(f"/tasks/{task_id}/complete", {"data": {
        "committee_order_no": "1/2569", "committee_order_date": "2026-10-01", "meeting_on": "2026-10-05"}})
    assert response.status_code == 200, response.get_json()
    done = [e for e in web.khanton.timeline(instance_id, web.khanton.actor("supervisor")) if e["task"] == task_id]
    assert done[-1]["actor"] == "head" and done[-1]["data"]["acting_for"] == "committee"
    page_as("supervisor").get(f"/instances/{instance_id}")
    case = page_as("head")
    case.get(f"/instances/{instance_id}")
    assert "ปฏิบัติหน้าที่แทน committee" in case.html


def test_attachments_are_checked_listed_and_downloadable_by_those_who_may_see(web: World, page_as: Any) -> None:
    instance_id, task_id = _committee_task(web)
    page = page_as("committee")
    page.get(f"/tasks/{task_id}")
    token = page.token()
    pdf = b"%PDF-1.4\n% demo\n"
    from io import BytesIO

    page.client.post(f"/tasks/{task_id}/attachments",
                     data={"csrf_token": token, "file": (BytesIO(pdf), "มติ กพท. 1-2569.pdf")},
                     content_type="multipart/form-data")
    bad = page.client.post(f"/tasks/{task_id}/attachments",
                           data={"csrf_token": token, "file": (BytesIO(b"<html><script>"), "x.pdf")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "เนื้อหาไฟล์ไม่ตรงกับชนิด" in bad.get_data(as_text=True)
    page.get(f"/instances/{instance_id}")
    link = re.search(r'href="(/attachments/[0-9a-f-]+)">มติ กพท. 1-2569.pdf<', page.html)
    assert link
    download = page.get(link.group(1))
    assert download.data == pdf and download.mimetype == "application/pdf"
    assert "attachment;" in download.headers["Content-Disposition"]
    assert page_as("school2").get(link.group(1)).status_code == 403  # a school the procedure never asked
    assert page_as("supervisor").get(link.group(1)).status_code == 200


def test_start_from_last_years_instance_copies_its_start_data_but_asks_for_the_title(web: World, page_as: Any) -> None:
    from web.i18n import current_fiscal_year

    year = current_fiscal_year()
    old = web.khanton.start("budget-transfer", {"fiscal_year": year - 1, "title": "โอนงบ ปีที่แล้ว", "round_no": 2},
                            web.khanton.actor("officer"))
    page = page_as("officer")
    page.get("/processes/budget-transfer")
    assert f"copy={old['id']}" in page.html
    page.get(f"/processes/budget-transfer?copy={old['id']}")
    assert f'value="{year}"' in page.html and 'value="2"' in page.html
    # This year's title is asked for, not copied: the field is empty, last year's shown beside it.
    assert 'value="โอนงบ ปีที่แล้ว"' not in page.html
    assert 'name="title" value=""' in page.html
    assert "ตั้งชื่อเรื่องของปีนี้ (ปีที่แล้ว: “โอนงบ ปีที่แล้ว”)" in page.html


def test_demo_is_idempotent(web: World) -> None:
    first = load_demo(web.khanton)
    assert any("demo1234" in line for line in first)
    second = load_demo(web.khanton)
    assert second[-1].startswith("demo instances exist already")
    statuses = sorted(i["status"] for i in web.khanton.instances(web.khanton.actor("anan")))
    assert statuses.count("running") >= 2 and "completed" in statuses and "rejected" in statuses
    assert web.khanton.sign_in("somchai", "demo1234") is not None
