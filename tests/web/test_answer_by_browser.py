"""In a real browser, on a controlled clock: the officer sends the schools' rounds with an answer-by date,
one school answers its round, the date passes, the officer sees the late school marked, closes its round
and goes on with the answer received (the compiling step shows who answered and who was late)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.browser import WatchedBrowser, serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("no_csp_violations")  # tests/web/conftest.py


# Tuesday 1 Dec 2026, 10:00 in Bangkok; the answer-by date is Friday 4 Dec (16:30 Bangkok).
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, clock: time_machine.Coordinates) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('answer-by') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    with serving(world.app) as base:
        yield base, world
    world.close()


def test_the_officer_goes_on_without_the_late_school(server: tuple[str, World], browser: WatchedBrowser,
                                                      clock: time_machine.Coordinates, shots: Path) -> None:
    base, world = server
    khanton = world.khanton
    started = khanton.start("budget-transfer", {"fiscal_year": 2570, "title": "โอนเงินเหลือจ่าย (กำหนดตอบ)"},
                            khanton.actor("officer"))
    instance_id = started["id"]

    # The officer sends the rounds to two schools, answer by Friday 4 Dec 2569.
    officer_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page: Any = officer_context.new_page()
    sign_in(page, base, "officer")
    page.goto(f"{base}/tasks/{started['ready_tasks'][0]['id']}")
    page.get_by_label("เลขที่หนังสือขอรายงาน").fill("ศธ 04173/88")
    page.get_by_label("วันที่มีหนังสือ").fill("1/12/2569")
    page.get_by_label("กำหนดส่งรายงานภายในวันที่").fill("4/12/2569")
    page.get_by_label("รหัสสถานศึกษา แถวที่ 1").fill("1063010001")
    page.get_by_label("ชื่อสถานศึกษา แถวที่ 1").fill("โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)")
    page.get_by_role("button", name="เพิ่มแถว").first.click()
    page.get_by_label("รหัสสถานศึกษา แถวที่ 2").fill("1063010002")
    page.get_by_label("ชื่อสถานศึกษา แถวที่ 2").fill("โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_url(base + "/")

    # Before the date: the officer sees that nobody has answered yet, and no button to go on.
    page.goto(f"{base}/instances/{instance_id}")
    answers = page.locator(".answer-rounds")
    assert "กำหนดตอบภายใน" in answers.inner_text() and "4 ธ.ค. 2569" in answers.inner_text()
    assert page.locator(".answer-waiting").count() == 2
    assert page.locator("form.close-late").count() == 0

    # One school answers its round in the browser.
    school_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    school: Any = school_context.new_page()
    sign_in(school, base, "school")
    school.get_by_role("link", name="สถานศึกษารายงานผล การใช้งบประมาณ", exact=False).first.click()
    school.get_by_label("แผนงาน / โครงการ แถวที่ 1").fill("อาหารกลางวัน")
    school.get_by_label("ประเภทงบประมาณ แถวที่ 1").select_option("งบเงินอุดหนุน")
    school.get_by_label("ได้รับจัดสรร (บาท) แถวที่ 1").fill("100,000")
    school.get_by_label("ใช้จ่ายแล้ว (บาท) แถวที่ 1").fill("90,000")
    school.get_by_label("ผู้รายงาน (ชื่อ / ตำแหน่ง)").fill("ผู้อำนวยการโรงเรียน")
    school.get_by_role("button", name="บันทึกและส่งต่อ").click()
    school.wait_for_url(base + "/")
    school_context.close()

    page.goto(f"{base}/instances/{instance_id}")
    assert page.locator(".answer-answered").count() == 1 and page.locator(".answer-waiting").count() == 1
    page.screenshot(path=str(shots / "answer-by-waiting.png"), full_page=True)

    # The date passes: the late school is marked, and the officer closes its round and goes on.
    clock.move_to(AFTER)
    sign_in(page, base, "officer")  # days later: the session of Tuesday has ended
    page.goto(f"{base}/instances/{instance_id}")
    late = page.locator(".answer-overdue")
    assert late.count() == 1 and "โรงเรียนบ้านสาธิตวังเจ้า" in late.inner_text()
    assert "เลยกำหนดตอบ" in late.inner_text()
    page.screenshot(path=str(shots / "answer-by-late.png"), full_page=True)
    page.get_by_role("button", name="ปิดรอบที่ยังไม่ตอบ และดำเนินการต่อ").click()
    page.wait_for_selector(".flash, .alert, [role=status], [role=alert]")
    assert "ปิดรอบของสถานศึกษาที่ไม่ตอบภายในกำหนด 1 แห่งแล้ว" in page.content()
    assert "ไม่ตอบภายในกำหนด — ปิดรอบแล้ว" in page.locator(".answer-late").inner_text()
    assert "ไม่ตอบภายในวันกำหนดตอบ ปิดรอบแล้ว" in page.locator("#history").inner_text()  # on the timeline
    assert page.locator("form.close-late").count() == 0

    # The officer's compiling step is ready and shows who answered and who was late.
    page.locator(".card").filter(has_text="ขั้นตอนที่รอดำเนินการ").get_by_role("link").first.click()
    page.wait_for_selector(".answer-rounds")
    assert page.locator(".answer-answered").count() == 1 and page.locator(".answer-late").count() == 1
    page.screenshot(path=str(shots / "answer-by-closed.png"), full_page=True)
    officer_context.close()


def test_hostile_or_stale_closes_are_refused_and_change_nothing(web: World, page_as: Any) -> None:
    khanton = web.khanton
    officer_actor = khanton.actor("officer")
    started = khanton.start("budget-transfer", {"fiscal_year": 2570}, officer_actor)
    sent = khanton.complete(started["ready_tasks"][0]["id"], {
        "report_request_no": "ศธ 04173/9", "report_requested_on": "2020-01-01", "report_due_on": "2020-01-02",
        "schools": [{"code": "1063010001", "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"}]}, officer_actor)
    instance_id = sent["id"]
    url = f"/instances/{instance_id}/rounds/school_spending_report/close"

    def open_rounds() -> int:
        return sum(step.open for step in khanton.answer_rounds(instance_id, officer_actor))

    school = page_as("school")
    school.get("/")
    assert school.post(url, {"revision": "1"}).status_code == 302
    school.get(f"/instances/{instance_id}")
    assert "close-late" not in school.html  # a school's user sees no button, and is refused without one
    officer = page_as("officer")
    officer.get(f"/instances/{instance_id}")
    assert "ปิดรอบที่ยังไม่ตอบ และดำเนินการต่อ" in officer.html
    current = str(khanton.answer_rounds(instance_id, officer_actor)[0].revision)
    for data, path, words in [
        ({"revision": "abc"}, url, "ข้อมูลจากหน้าเว็บไม่ครบ"),
        ({"revision": "9" * 30}, url, "ข้อมูลจากหน้าเว็บไม่ครบ"),
        ({"revision": str(int(current) - 1)}, url, "โหลดหน้าใหม่"),  # the page was older than the rounds
        ({"revision": current}, f"/instances/{instance_id}/rounds/{'<script>' * 3}/close", "ไม่มีรอบของสถานศึกษาที่ยังค้าง"),
    ]:
        assert officer.post(path, data).status_code == 302
        officer.get(f"/instances/{instance_id}")
        assert words in officer.html, words
        assert "<script><script>" not in officer.html
        assert open_rounds() == 1
    officer.get(f"/instances/{instance_id}")
    huge = officer.post(f"/instances/{instance_id}/rounds/{'x' * 5000}/close", {"revision": current})
    assert huge.status_code in (302, 404)
    assert open_rounds() == 1
    officer.get(f"/instances/{instance_id}")
    assert officer.post("/instances/no-such-instance/rounds/x/close", {"revision": "1"}).status_code == 302
    officer.get(f"/instances/{instance_id}")
    revision = khanton.answer_rounds(instance_id, officer_actor)[0].revision
    assert officer.post(url, {"revision": str(revision)}).status_code == 302
    assert open_rounds() == 0
    assert khanton.instance(instance_id, officer_actor)["ready_tasks"][0]["lane"] == "plan_officer"
