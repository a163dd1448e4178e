"""Everyday work in a real browser: returned work stands out, a decision round starts empty and asks
before a return, drafts are kept on the server, and nothing typed is lost to an expired session.

Debian's chromium driven by Playwright against the app on a real HTTP server, as tests/web/test_browser.py;
the screenshots of the officers' guide (docs/officer-guide.md) go to docs/screenshots/ with
`make screenshots`, to a temporary folder otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from engine.models import Draft, HumanTask, User, WebSession
from tests.browser import serving, sign_in, signed_in_page
from tests.conftest import USERS, World
from tests.drive import advance_to, attach_signed, data_for, scenario, start, user_for

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("no_csp_violations")  # tests/web/conftest.py

NAMES = {"officer": "นายสมชาย ใจดี", "committee": "นางสาวสุดา รักงาน", "head": "นายวิชัย หัวหน้า"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('everyday') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    with world.khanton.db.transaction() as session:
        for name, display in NAMES.items():
            session.execute(update(User).where(User.username == name).values(display_name=display))
    with serving(world.app) as base:
        yield base, world
    world.close()



def _ready(world: World, instance_id: str) -> dict[str, Any]:
    instance = world.khanton.instance(instance_id, world.khanton.actor("supervisor"))
    return dict(instance["ready_tasks"][0])


def _idle_for(world: World, username: str, idle: timedelta) -> None:
    """As if `username`'s browser sessions had been left alone for `idle` (signed in a day ago)."""
    now = datetime.now(UTC)
    with world.khanton.db.transaction() as session:
        session.execute(update(WebSession).where(WebSession.username == username)
                        .values(created_at=now - timedelta(days=1), seen_at=now - idle))


def test_a_return_needs_a_reason_asks_first_and_stands_out_to_whom_it_returns(
        server: tuple[str, World], browser: Any, shots: Path) -> None:
    base, world = server
    instance = advance_to(world, start(world, "budget-transfer", {"fiscal_year": 2570,
                                                                  "title": "โอนเงินเหลือจ่าย ครั้งที่ 3/2570"}),
                          "board_approval")
    board = instance["ready_tasks"][0]
    api = world.api(user_for(board))
    attach_signed(api, api.get(f"/tasks/{board['id']}").get_json())  # the board's resolution, required
    page = signed_in_page(browser, base, user_for(board))
    page.goto(f"{base}/tasks/{board['id']}")
    page.get_by_label("ส่งกลับแก้ไข").check()
    page.get_by_label("มติที่ประชุมคณะกรรมการเขตพื้นที่การศึกษา (ครั้งที่ / วาระ)").fill("ครั้งที่ 9/2569 วาระ 4.1")
    page.get_by_label("วันที่พิจารณา").fill("10/10/2569")
    # No reason: no question asked; the engine refuses, beside the reason's field.
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector(".error-summary")
    assert "ต้องระบุเหตุผล" in page.locator("#f-note-error").inner_text()
    assert page.get_by_label("ส่งกลับแก้ไข").is_checked()
    assert world.khanton.task(board["id"], world.khanton.actor("supervisor"))["status"] == "ready"
    # With a reason, the page asks first; going back sends nothing.
    reason = "ยอดโอนรายการที่ 2 เกินวงเงินเหลือจ่าย กรุณาปรับให้ไม่เกิน 50,000 บาท"
    page.get_by_label("หมายเหตุ / ข้อสังเกต").fill(reason)
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    dialog = page.locator("dialog#confirm-decision")
    dialog.wait_for(state="visible")
    assert "ส่งกลับแก้ไข" in dialog.inner_text() and reason in dialog.inner_text()
    page.screenshot(path=str(shots / "confirm-return.png"))
    dialog.get_by_role("button", name="กลับไปแก้ไข").click()
    assert not dialog.is_visible()
    assert world.khanton.task(board["id"], world.khanton.actor("supervisor"))["status"] == "ready"
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    dialog.get_by_role("button", name="ยืนยันและส่ง").click()
    page.wait_for_url(base + "/")
    assert world.khanton.task(board["id"], world.khanton.actor("supervisor"))["status"] == "completed"
    page.context.close()

    # The committee's secretary sees it marked in the inbox, who and why, and the reason first on the task.
    back = _ready(world, instance["id"])
    page = signed_in_page(browser, base, user_for(back))
    row = page.locator("tr", has_text="โอนเงินเหลือจ่าย ครั้งที่ 3/2570")
    assert row.locator(".tag.returned").inner_text() == "ส่งกลับแก้ไข"
    assert NAMES["officer"] in row.inner_text() and reason in row.inner_text()
    page.screenshot(path=str(shots / "inbox-returned.png"), full_page=True)
    row.get_by_role("link").first.click()
    banner = page.locator("#returned")
    assert reason in banner.inner_text() and NAMES["officer"] in banner.inner_text()
    banner_top = banner.bounding_box()["y"]
    assert banner_top < page.locator("form.task-form").bounding_box()["y"]
    assert banner_top < 400, "the reason is at the top of the page, seen without scrolling"
    page.screenshot(path=str(shots / "task-returned.png"))
    page.context.close()

    # Revised, it comes back to the board: a new round, empty, with the returned one beside it.
    task = world.api(user_for(back)).get(f"/tasks/{back['id']}").get_json()
    revised = data_for(task, scenario("budget-transfer")["steps"])
    assert world.api(user_for(back)).post(f"/tasks/{back['id']}/complete", json={"data": revised}).status_code == 200
    now = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    again = advance_to(world, now, "board_approval")["ready_tasks"][0]  # signed again by the director first
    page = signed_in_page(browser, base, user_for(again))
    page.goto(f"{base}/tasks/{again['id']}")
    for choice in ("เห็นชอบ / อนุมัติ", "ส่งกลับแก้ไข", "ไม่เห็นชอบ"):
        assert not page.get_by_label(choice).is_checked()
    assert page.get_by_label("มติที่ประชุมคณะกรรมการเขตพื้นที่การศึกษา (ครั้งที่ / วาระ)").input_value() == ""
    assert page.get_by_label("วันที่พิจารณา").input_value() == ""
    assert page.get_by_label("หมายเหตุ / ข้อสังเกต").input_value() == ""
    history = page.locator("#earlier-rounds")
    assert "รอบที่ 1" in history.inner_text() and "ส่งกลับแก้ไข" in history.inner_text()
    assert reason in history.inner_text() and "ครั้งที่ 9/2569 วาระ 4.1" in history.inner_text()
    assert page.locator("#returned").count() == 0
    page.screenshot(path=str(shots / "decision-round.png"))
    page.context.close()


def test_a_draft_is_kept_restored_and_gone_when_someone_else_completes_the_task(
        server: tuple[str, World], browser: Any, shots: Path) -> None:
    base, world = server
    instance = advance_to(world, start(world, "budget-transfer", {"fiscal_year": 2570, "title": "ร่างค้างไว้"}),
                          "consider_leftover")
    task = instance["ready_tasks"][0]
    assert user_for(task) == "committee"
    page = signed_in_page(browser, base, "committee")
    page.goto(f"{base}/tasks/{task['id']}")
    page.get_by_label("เลขที่คำสั่งแต่งตั้งคณะกรรมการ").fill("412/2569")
    page.get_by_label("ลงวันที่คำสั่ง").fill("ยังไม่ทราบ")  # not a date yet: a draft keeps it as typed
    page.get_by_role("button", name="บันทึกร่าง").click()
    page.wait_for_selector(".flash-success")
    assert "บันทึกร่างแล้ว" in page.locator(".flash-success").inner_text()
    assert world.khanton.task(task["id"], world.khanton.actor("supervisor"))["status"] == "ready"
    # Away and back: the values are there, from the server.
    page.context.clear_cookies()
    sign_in(page, base, "committee")
    page.goto(f"{base}/tasks/{task['id']}")
    assert page.get_by_label("เลขที่คำสั่งแต่งตั้งคณะกรรมการ").input_value() == "412/2569"
    assert page.get_by_label("ลงวันที่คำสั่ง").input_value() == "ยังไม่ทราบ"
    assert "ร่างที่คุณบันทึกไว้" in page.locator("#draft-note").inner_text()
    page.screenshot(path=str(shots / "task-draft.png"))
    # Someone else of the lane completes it: the draft goes.
    world.khanton.add_user("committee2", ["officer"], ["committee"], PASSWORD, "นายประสิทธิ์ กรรมการ")
    view = world.api("committee").get(f"/tasks/{task['id']}").get_json()
    steps = scenario("budget-transfer")["steps"]
    world.khanton.complete(task["id"], data_for(view, steps), world.khanton.actor("committee2"))
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Draft).where(Draft.task_id == task["id"])) == 0
    page.reload()
    assert "บันทึกไปแล้วโดย นายประสิทธิ์ กรรมการ" in page.locator(".flash-warning").inner_text()
    assert page.locator("#draft-note").count() == 0
    page.context.close()


def test_a_form_sent_after_the_session_expired_comes_back_with_every_value(
        server: tuple[str, World], browser: Any, shots: Path) -> None:
    base, world = server
    started = start(world, "budget-transfer", {"fiscal_year": 2570, "title": "หมดเวลากลางคัน"})
    instance = advance_to(world, started, "consider_leftover")
    task = instance["ready_tasks"][0]
    page = signed_in_page(browser, base, "committee")
    page.goto(f"{base}/tasks/{task['id']}")
    page.get_by_label("เลขที่คำสั่งแต่งตั้งคณะกรรมการ").fill("413/2569")
    page.get_by_label("ลงวันที่คำสั่ง").fill("1/10/2569")
    page.get_by_label("วันที่ประชุม").fill("วันศุกร์หน้า")  # cannot be read as a date: kept as typed
    # The person went to lunch: the session ran out of idle time on the server.
    _idle_for(world, "committee", world.app.config["SESSION_IDLE"] + timedelta(minutes=1))
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector("#kept-note")
    assert page.locator("h1").inner_text() == "ลงชื่อเข้าใช้"
    assert "หมดเวลาการใช้งาน" in page.locator(".flash-warning").inner_text()
    assert "?" not in page.url and "413" not in page.url  # nothing typed travels in the address
    page.screenshot(path=str(shots / "session-expired.png"))
    assert world.khanton.task(task["id"], world.khanton.actor("supervisor"))["status"] == "ready"
    page.get_by_label("ชื่อผู้ใช้").fill("committee")
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_url(f"{base}/tasks/{task['id']}")
    assert "กู้คืนข้อมูลที่คุณกรอกไว้" in page.locator(".flash-success").inner_text()
    assert page.get_by_label("เลขที่คำสั่งแต่งตั้งคณะกรรมการ").input_value() == "413/2569"
    assert page.get_by_label("ลงวันที่คำสั่ง").input_value() == "01/10/2569"
    assert page.get_by_label("วันที่ประชุม").input_value() == "วันศุกร์หน้า"
    page.get_by_label("วันที่ประชุม").fill("5/10/2569")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector("h1:has-text('วิเคราะห์ผลการใช้จ่าย')")
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.get(HumanTask, task["id"]).status == "completed"  # type: ignore[union-attr]
    page.context.close()


def test_a_session_ends_after_the_idle_time_not_a_fixed_time_after_signing_in(
        server: tuple[str, World], browser: Any) -> None:
    base, world = server
    idle = world.app.config["SESSION_IDLE"]
    page = signed_in_page(browser, base, "head")
    _idle_for(world, "head", idle - timedelta(minutes=2))  # signed in a day ago, last used just within
    page.goto(base + "/instances")
    assert page.url == base + "/instances"
    page.goto(base + "/")  # that use started the idle time again ...
    _idle_for(world, "head", timedelta(minutes=5))
    page.goto(base + "/processes")
    assert page.url == base + "/processes"
    _idle_for(world, "head", idle + timedelta(minutes=1))  # ... and left alone longer, it ends
    page.goto(base + "/processes")
    assert page.url.startswith(base + "/login")
    assert "หมดเวลาการใช้งาน" in page.locator(".flash-warning").inner_text()
    page.context.close()
