"""Everyday work through the pages without a browser: the idle time setting, drafts refused as the
engine refuses them (beside the field, nothing kept), and a carried form that is hostile input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Draft
from tests.conftest import World
from tests.drive import advance_to, start
from web import create_app


def test_the_idle_time_is_a_setting_in_minutes(sqlite_url: str) -> None:
    def idle(config: dict[str, Any]) -> timedelta:
        return create_app({"DATABASE_URL": sqlite_url, **config}).permanent_session_lifetime

    assert idle({}) == timedelta(minutes=60)
    assert idle({"SESSION_IDLE_MINUTES": 20}) == timedelta(minutes=20)
    assert idle({"PERMANENT_SESSION_LIFETIME": 900}) == timedelta(minutes=15)  # the older setting, kept
    for nonsense in ("soon", 0, -5, 10**9, True):
        with pytest.raises(ValueError, match="SESSION_IDLE_MINUTES"):
            idle({"SESSION_IDLE_MINUTES": nonsense})


def _task(web: World) -> str:
    instance = advance_to(web, start(web, "budget-transfer"), "consider_leftover")
    return str(instance["ready_tasks"][0]["id"])


def _drafts(web: World) -> int:
    with web.khanton.db.transaction(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Draft)) or 0


def test_a_draft_the_engine_cannot_keep_is_refused_beside_its_field(web: World, page_as: Any) -> None:
    task_id = _task(web)
    page = page_as("committee")
    page.get(f"/tasks/{task_id}")
    refused = page.post(f"/tasks/{task_id}/draft", {"committee_order_no": "412\x00/2569", "_draft": "1"})
    assert refused.status_code == 422
    assert "อักขระควบคุม" in page.html and 'id="f-committee_order_no-error"' in page.html
    huge = page.post(f"/tasks/{task_id}/draft", {"committee_order_no": "x", "consideration_summary": "ก" * 300_000})
    assert huge.status_code == 413 and "ใหญ่เกิน" in page.html
    assert _drafts(web) == 0
    # Someone without the lane: refused, nothing kept.
    other = page_as("officer")
    other.get(f"/tasks/{task_id}")
    assert other.post(f"/tasks/{task_id}/draft", {"committee_order_no": "1"}).status_code == 403
    assert _drafts(web) == 0


def test_a_carried_form_is_shown_as_text_and_kept_only_for_a_task_the_person_may_work(
        web: World, page_as: Any) -> None:
    task_id = _task(web)
    page = page_as()
    page.get("/login")
    hostile = '"><script>alert(1)</script>'
    response = page.post("/login", {"username": "officer", "password": "pass-1234", "next": f"/tasks/{task_id}",
                                    "kept.committee_order_no": hostile})
    assert response.status_code == 302
    # officer is not of the committee's lane: nothing is kept for them, and the page says why.
    assert _drafts(web) == 0
    assert "กู้คืนข้อมูลที่กรอกไว้ไม่ได้" in page.get(response.headers["Location"]).get_data(as_text=True)
    # The sign-in page carrying a form shows its values as text, never as markup.
    anonymous = page_as()
    anonymous.get("/login")
    shown = anonymous.post("/login", {"username": "committee", "password": "wrong", "next": f"/tasks/{task_id}",
                                      "kept.committee_order_no": hostile})
    assert shown.status_code == 200 and "<script>alert(1)" not in anonymous.html
    assert 'name="kept.committee_order_no" value="&#34;&gt;&lt;script&gt;' in anonymous.html
