"""In a real browser: a person whose work came back for revision sees the notice on /notifications,
opens their notification choices, is refused a wrong address in Thai with nothing kept, then changes
their choices and address, saves, and sees them kept. Takes the officers' guide screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.notify import preferences
from engine.time.firing import Poller
from tests.browser import serving, sign_in
from tests.conftest import USERS, World
from tests.drive import data_for, user_for
from tests.test_rounds import _at_board

from .conftest import PASSWORD


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, str, dict[str, Any]]]:
    """The app on a real HTTP server, with a task returned for revision and the notices made."""
    world = World(f"sqlite:///{tmp_path_factory.mktemp('choices') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    instance, task = _at_board(world)
    board_user = user_for(instance["ready_tasks"][0])
    data = {**data_for(task, {}, "returned"), "note": "ยอดโอนรายการที่ 2 เกินวงเงินเหลือจ่าย"}
    assert world.api(board_user).post(f"/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    back = world.api("officer").get(f"/instances/{instance['id']}").get_json()["ready_tasks"][0]
    Poller(world.khanton.db)()
    with serving(world.app) as base:
        yield base, world, user_for(back), back
    world.close()


def _choices(world: World, username: str) -> tuple[str | None, dict[str, tuple[bool, bool]]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return (preferences.email_of(session, username),
                {k: (c.in_app, c.email) for k, c in preferences.of(session, username).items()})


def test_a_person_sees_a_returned_notice_and_keeps_their_choices(server: Any, chromium: Any, shots: Path) -> None:
    base, world, who, back = server
    errors: list[str] = []
    context = chromium.new_context(locale="th-TH", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, who)

    page.locator(".notify-link").click()
    page.wait_for_url(base + "/notifications")
    notice = page.locator("li.notice-returned")
    assert notice.locator(".tag").inner_text() == "ส่งกลับแก้ไข"
    assert notice.get_by_role("link").get_attribute("href") == f"/tasks/{back['id']}"
    page.screenshot(path=str(shots / "notifications.png"), full_page=True)

    page.locator("nav.mainnav").get_by_role("link", name="ตั้งค่าการแจ้งเตือน").click()
    page.wait_for_url(base + "/account/notifications")
    assert page.get_by_label("ในระบบ งานใหม่").is_checked()  # the defaults: everything
    assert page.get_by_label("อีเมล สรุปงานประจำวัน").is_checked()
    assert page.locator('tr[data-kind="digest"] input[name="in_app"]').count() == 0  # e-mail only
    before = _choices(world, who)

    page.get_by_label("อีเมลสำหรับรับการแจ้งเตือน").fill("somchai@@tak1")
    page.get_by_label("ในระบบ งานใหม่").uncheck()
    page.get_by_role("button", name="บันทึก").click()
    assert page.locator("#c-address-error").inner_text().startswith("อีเมลไม่ถูกต้อง")
    assert not page.get_by_label("ในระบบ งานใหม่").is_checked()  # what they chose is still on the page
    assert _choices(world, who) == before  # nothing kept

    page.get_by_label("อีเมลสำหรับรับการแจ้งเตือน").fill("somchai@tak1.go.th")
    page.get_by_label("อีเมล ใกล้ครบกำหนด").uncheck()
    page.get_by_label("อีเมล สรุปงานประจำวัน").uncheck()
    page.get_by_role("button", name="บันทึก").click()
    page.wait_for_url(base + "/account/notifications")
    assert "บันทึกการเลือกรับการแจ้งเตือนแล้ว" in page.locator(".flash-success").inner_text()
    page.reload()
    assert page.get_by_label("อีเมลสำหรับรับการแจ้งเตือน").input_value() == "somchai@tak1.go.th"
    assert not page.get_by_label("ในระบบ งานใหม่").is_checked()
    assert page.get_by_label("ในระบบ ส่งกลับแก้ไข").is_checked()
    assert not page.get_by_label("อีเมล ใกล้ครบกำหนด").is_checked()
    assert not page.get_by_label("อีเมล สรุปงานประจำวัน").is_checked()
    assert page.get_by_label("อีเมล เกินกำหนด").is_checked()
    page.screenshot(path=str(shots / "notification-choices.png"), full_page=True)
    assert _choices(world, who) == ("somchai@tak1.go.th", {
        "new": (False, True), "returned": (True, True), "due_soon": (True, False), "overdue": (True, True),
        "digest": (False, False)})
    phone = chromium.new_context(locale="th-TH", viewport={"width": 375, "height": 740},
                                 storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(base + "/account/notifications")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide on a phone"
    phone.close()
    context.close()
    assert [e for e in errors if "Content Security Policy" in e] == []
