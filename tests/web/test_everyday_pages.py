"""Everyday work through the pages without a browser: the idle time setting, drafts refused as the
engine refuses them (beside the field, nothing kept), and a carried form that is hostile input."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Draft
from tests.conftest import World
from tests.drive import advance_to, start
from web import create_app

from .conftest import PASSWORD


def test_the_idle_time_is_a_setting_in_minutes(sqlite_url: str) -> None:
    def idle(config: dict[str, Any]) -> timedelta:
        return create_app({"DATABASE_URL": sqlite_url, **config}).config["SESSION_IDLE"]

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
    response = page.post("/login", {"username": "officer", "password": PASSWORD, "next": f"/tasks/{task_id}",
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


def test_the_cookie_outlives_the_idle_time_so_a_form_left_open_still_comes_back(web: World, page_as: Any) -> None:
    """Over lunch the browser must keep its cookie (and the form's CSRF token with it): were the cookie
    to die with the idle time, the form would meet "แบบฟอร์มหมดอายุ" and everything typed would be lost."""
    task_id = _task(web)
    page = page_as()
    page.get("/login")
    signed_in = page.post("/login", {"username": "committee", "password": PASSWORD})
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", signed_in.headers["Set-Cookie"]).group(1))
    assert expires > datetime.now(UTC) + timedelta(days=1) > datetime.now(UTC) + web.app.config["SESSION_IDLE"]
    page.get(f"/tasks/{task_id}")
    idle = web.app.config["SESSION_IDLE"].total_seconds()
    with page.client.session_transaction() as session:
        session["seen_at"] = int(time.time() - idle - 60)  # the browser's own clock of the session ran out
    sent = page.post(f"/tasks/{task_id}", {"committee_order_no": "77/2569", "meeting_on": "พรุ่งนี้",
                                           "consideration_summary": "บรรทัดแรก\nบรรทัดสอง", "_submit": "1"})
    assert sent.status_code == 401 and "หมดเวลาการใช้งาน" in page.html
    carried = {html.unescape(name): html.unescape(value)
               for name, value in re.findall(r'name="(kept\.[^"]+)" value="([^"]*)"', page.html)}
    assert carried == {"kept.committee_order_no": "77/2569", "kept.meeting_on": "พรุ่งนี้",
                       "kept.consideration_summary": "บรรทัดแรก\nบรรทัดสอง"}
    assert web.khanton.task(task_id, web.khanton.actor("supervisor"))["status"] == "ready"
    back = page.post("/login", {"username": "committee", "password": PASSWORD, "next": f"/tasks/{task_id}",
                                **carried})
    assert back.status_code == 302 and back.headers["Location"] == f"/tasks/{task_id}"
    page.get(f"/tasks/{task_id}")
    assert 'value="77/2569"' in page.html and 'value="พรุ่งนี้"' in page.html
    assert "บรรทัดแรก\nบรรทัดสอง</textarea>" in page.html
    assert "กู้คืนข้อมูลที่คุณกรอกไว้" in page.html


def test_a_file_fetched_late_never_puts_back_an_older_session(web: World, page_as: Any) -> None:
    # A favicon or stylesheet answered after the next page would overwrite that page's cookie (its flashed
    # "session ended" message included) if files set cookies too.
    page = page_as("head")
    assert "Set-Cookie" in page.get("/").headers  # pages slide the idle time ...
    for path in ("/static/css/app.css", "/static/favicon.svg", "/fonts/sarabun-thai-400-normal.woff2"):
        response = page.client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path  # ... files never touch the session


def test_bpmn_js_is_served_from_what_npm_installed_and_nothing_else(web: World, page_as: Any) -> None:
    client = page_as().client
    for path in ("/vendor/bpmn-js/bpmn-viewer.production.min.js", "/vendor/bpmn-js/bpmn-modeler.production.min.js",
                 "/vendor/bpmn-js/assets/bpmn-js.css", "/vendor/bpmn-js/assets/bpmn-font/css/bpmn.css",
                 "/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 1000, path
    for path in ("/vendor/bpmn-js/../package.json", "/vendor/bpmn-js/bpmn-modeler.development.js",
                 "/vendor/bpmn-js/%2e%2e/package.json"):
        assert client.get(path).status_code == 404, path
