"""Time on the pages: the admin keeps the office calendar at /admin/holidays (in a real browser),
hostile input is refused in Thai beside the field with nothing stored, only admins reach it; a task
past its due date is marked overdue in the inbox and on its page; timer firings show on the timeline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Holiday
from engine.time.firing import fire_due
from tests.browser import serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD

DATA = Path(__file__).resolve().parent.parent / "data"


def _publish_overdue(world: World) -> str:
    """timer-deadline with a due rule of one second, under its own key: its task is soon overdue."""
    xml = (DATA / "timer-deadline.bpmn").read_text().replace("timer-deadline", "timer-overdue") \
        .replace('value="3 วันทำการ"', 'value="PT1S"')
    published = world.api("analyst").put("/processes/timer-overdue/bpmn", data=xml.encode(),
                                         content_type="application/xml")
    assert published.status_code == 201, published.get_json()
    started = world.api("officer").post("/instances", json={"process": "timer-overdue", "data": {}})
    assert started.status_code == 201
    instance_id: str = started.get_json()["id"]
    return instance_id


def _admin_days(world: World) -> list[tuple[date, str, bool]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return [(h.day, h.name, h.is_holiday) for h in session.scalars(select(Holiday).order_by(Holiday.day))]


def test_only_admins_reach_the_holidays_page(web: World, page_as: Any) -> None:
    web.khanton.add_user("keeper", ["admin"], [], PASSWORD, "ผู้ดูแลระบบ")
    officer = page_as("officer")
    assert officer.get("/admin/holidays").status_code == 403
    assert page_as("supervisor").get("/admin/holidays").status_code == 403
    anonymous = page_as()
    assert anonymous.get("/admin/holidays").status_code == 302
    admin = page_as("keeper")
    assert admin.get("/admin/holidays?year=2569").status_code == 200
    assert "วันสงกรานต์" in admin.html and "ชดเชย" in admin.html and "13 เม.ย. 2569" in admin.html
    assert 'href="/admin/holidays"' in admin.html  # in the admin's menu
    assert 'href="/admin/holidays"' not in officer.get("/").get_data(as_text=True)


def test_hostile_holiday_input_is_refused_beside_the_field(web: World, page_as: Any) -> None:
    web.khanton.add_user("keeper", ["admin"], [], PASSWORD, "ผู้ดูแลระบบ")
    admin = page_as("keeper")
    admin.get("/admin/holidays")
    refused = admin.post("/admin/holidays", {"day": "31/02/2569", "name": "<script>x</script>" + "ก" * 300,
                                            "kind": "holiday"})
    assert refused.status_code == 422
    assert 'id="h-day-error"' in admin.html and 'id="h-name-error"' in admin.html
    assert "200 ตัวอักษร" in admin.html and "<script>x" not in admin.html
    assert _admin_days(web) == []
    assert admin.post("/admin/holidays/not-a-day/delete").status_code == 404
    saved = admin.post("/admin/holidays", {"day": "30/12/2569", "name": "วันหยุดพิเศษ", "kind": "holiday"})
    assert saved.status_code == 302
    assert _admin_days(web) == [(date(2026, 12, 30), "วันหยุดพิเศษ", True)]
    admin.get("/admin/holidays?year=2569")
    assert admin.post("/admin/holidays/2026-12-30/delete").status_code == 302
    assert _admin_days(web) == []


def test_an_overdue_task_is_marked_and_timer_firings_show_on_the_timeline(web: World, page_as: Any) -> None:
    instance_id = _publish_overdue(web)
    officer = page_as("officer")
    time.sleep(1.1)
    officer.get("/")
    assert 'class="tag overdue"' in officer.html
    task_id = web.api("officer").get(f"/instances/{instance_id}").get_json()["ready_tasks"][0]["id"]
    officer.get(f"/tasks/{task_id}")
    assert 'class="tag overdue"' in officer.html
    supervisor = page_as("supervisor")
    supervisor.get(f"/instances/{instance_id}")
    assert 'class="tag overdue"' in supervisor.html  # the supervisor's view of the instance
    # The reminder (P3D) and deadline (P10D) are not due: nothing fires, nothing on the timeline yet.
    assert fire_due(web.khanton.db) == 0
    assert "ครบกำหนดเวลา" not in supervisor.html


def test_a_firing_shows_on_the_timeline_with_what_it_did(web: World, page_as: Any) -> None:
    import time_machine

    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=True) as clock:
        instance_id = _publish_overdue(web)
        clock.shift(timedelta(days=3, minutes=1))
        assert fire_due(web.khanton.db) == 1
        supervisor = page_as("supervisor")
        supervisor.get(f"/instances/{instance_id}")
    assert "ครบกำหนดเวลา" in supervisor.html and "เตือนเมื่อครบ 3 วัน — เตือน งานยังอยู่ที่เดิม" in supervisor.html


def test_the_header_counts_unread_notices_and_reading_clears_it(web: World, page_as: Any) -> None:
    from engine.time.firing import Poller
    from tests.test_timers import start

    start(web)
    Poller(web.khanton.db)()
    officer = page_as("officer")
    officer.get("/")
    assert 'class="badge unread-count">1<' in officer.html
    officer.get("/notifications")
    assert "งานใหม่" in officer.html and "ตรวจเอกสาร" in officer.html and "unread" in officer.html
    assert officer.post("/notifications/read").status_code == 302
    officer.get("/notifications")
    assert "unread-count" not in officer.html and "ตรวจเอกสาร" in officer.html
    head = page_as("head")
    head.get("/notifications")
    assert "ตรวจเอกสาร" not in head.html and "ยังไม่มีการแจ้งเตือน" in head.html
    assert page_as().get("/notifications").status_code == 302  # signed out: to the sign-in page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('time') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("keeper", ["admin"], [], PASSWORD, "นางสาวนิภา ดูแลระบบ")
    with serving(world.app) as base:
        yield base, world
    world.close()


def test_in_a_browser_the_admin_adds_a_holiday_and_an_officer_sees_overdue(server: tuple[str, World],
                                                                           chromium: Any) -> None:
    base, world = server
    context = chromium.new_context(locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "keeper")
    page.get_by_role("link", name="วันหยุดราชการ").click()
    page.wait_for_url(base + "/admin/holidays")
    page.get_by_label("วันที่", exact=True).fill("30/02/2569")
    page.get_by_role("button", name="บันทึก").click()
    assert page.locator("#h-day-error").is_visible()
    assert page.locator("#h-name-error").inner_text().startswith("ต้องระบุชื่อวันหยุด")
    assert _admin_days(world) == []
    page.get_by_label("วันที่", exact=True).fill("30/12/2569")
    page.get_by_label("ชื่อวันหยุด หรือเหตุ (เช่น มติคณะรัฐมนตรี)").fill("วันหยุดพิเศษเพิ่มเติม")
    page.get_by_role("button", name="บันทึก").click()
    row = page.locator('tr[data-day="2026-12-30"]')
    assert "วันหยุดพิเศษเพิ่มเติม" in row.inner_text() and "ผู้ดูแลระบบเพิ่ม" in row.inner_text()
    assert _admin_days(world) == [(date(2026, 12, 30), "วันหยุดพิเศษเพิ่มเติม", True)]
    context.close()

    _publish_overdue(world)
    time.sleep(1.1)
    context = chromium.new_context(locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "officer")
    row = page.locator("tr", has_text="ตรวจเอกสาร")
    assert row.locator(".tag.overdue").inner_text() == "เกินกำหนด"
    row.get_by_role("link", name="ตรวจเอกสาร").click()
    assert page.locator(".page-head .tag.overdue").is_visible()
    context.close()
