"""Browser tests: Debian's chromium, driven by Playwright, against the app on a real HTTP server.

One browser for the session. The scenario signs in, starts a budget transfer, is refused once
(values kept, messages beside the fields), fills a line-item table, and sees the next task; it
takes the screenshots of the officers' guide: into a temporary folder on an ordinary run, into
docs/screenshots/ with `make screenshots` (KHANTON_SCREENSHOTS=docs), so a test run leaves the tree
as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("no_csp_violations")  # tests/web/conftest.py


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'khanton.db'}"
    world = World(url)
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("somchai", ["officer"], ["plan_officer"], PASSWORD, "นายสมชาย ใจดี")
    world.khanton.add_user("secretary", ["officer"], ["committee"], PASSWORD, "นางสาวสุดา รักงาน")
    officer = world.khanton.actor("somchai")
    ask = {"report_request_no": "ศธ 04173/1", "report_requested_on": "2026-10-01",
           "schools": [{"code": "1063010001", "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"}]}
    for year, title in ((2569, "โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 2/2569"), (2570, "โอนงบลงทุน ซ่อมแซมอาคารเรียน")):
        started = world.khanton.start("budget-transfer", {"fiscal_year": year, "title": title}, officer)
        world.khanton.complete(started["ready_tasks"][0]["id"], ask, officer)  # a fuller inbox for the screenshot
    with serving(world.app) as base:
        yield base, world
    world.close()


def test_start_refuse_fill_table_and_next_task(server: tuple[str, World], browser: Any, shots: Path) -> None:
    base, world = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "somchai")

    # Start a budget transfer from the list of published procedures.
    page.get_by_role("link", name="เริ่มกระบวนงาน").first.click()
    page.get_by_role("link", name="งานบริหารงบประมาณ (การโอนและเปลี่ยนแปลงงบประมาณ)").click()
    page.get_by_label("ชื่อเรื่อง").fill("โอนเงินเหลือจ่าย ครั้งที่ 1 <ทดสอบ>")
    page.get_by_role("button", name="เริ่มกระบวนงาน").click()

    # Step 1 begins with the officer asking the schools for their spending reports; each school answers
    # its own round (here through the engine), then the officer studies what came in.
    page.wait_for_selector("h1:has-text('ขอรายงานผลการใช้')")
    assert "ตามคู่มือการปฏิบัติงาน ข้อ 3.4 ขั้นที่ 1" in page.locator(".page-head").inner_text()
    page.get_by_label("เลขที่หนังสือขอรายงาน").fill("ศธ 04173/77")
    page.get_by_label("วันที่มีหนังสือ").fill("1/10/2569")
    page.get_by_label("รหัสสถานศึกษา แถวที่ 1").fill("1063010001")
    page.get_by_label("ชื่อสถานศึกษา แถวที่ 1").fill("โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_url(base + "/")
    mine = next(i for i in world.khanton.instances(world.khanton.actor("supervisor"))
                if i["title"] == "โอนเงินเหลือจ่าย ครั้งที่ 1 <ทดสอบ>")
    school = world.khanton.actor("school")
    round_id = world.khanton.instance(mine["id"], world.khanton.actor("supervisor"))["ready_tasks"][0]["id"]
    after = world.khanton.complete(round_id, {"spending_lines": [
        {"plan_project": "อาหารกลางวัน", "category": "งบเงินอุดหนุน", "allocated": 100000, "spent": 90000}],
        "reported_by": "ผู้อำนวยการโรงเรียน"}, school)
    page.goto(f"{base}/tasks/{after['ready_tasks'][0]['id']}")

    # Submit the study half-filled: refused.
    page.wait_for_selector("h1:has-text('ศึกษาข้อมูลการใช้จ่าย')")
    page.get_by_label("แหล่งข้อมูล แถวที่ 1").select_option("finance_group")
    page.get_by_label("ชื่อหน่วยงาน / สถานศึกษา แถวที่ 1").fill("กลุ่มบริหารงานการเงินและสินทรัพย์")
    page.get_by_label("งบประมาณที่ได้รับจัดสรรทั้งสิ้น (บาท)").fill("1,500,000")
    page.get_by_label("เบิกจ่ายแล้วทั้งสิ้น (บาท)").fill("หนึ่งล้าน")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector(".error-summary")
    assert page.get_by_label("ชื่อหน่วยงาน / สถานศึกษา แถวที่ 1").input_value() == "กลุ่มบริหารงานการเงินและสินทรัพย์"
    assert page.get_by_label("เบิกจ่ายแล้วทั้งสิ้น (บาท)").input_value() == "หนึ่งล้าน"
    assert "กรุณากรอกเป็นตัวเลข" in page.locator("#f-total_disbursed-error").inner_text()
    assert "กรุณากรอกข้อมูลนี้" in page.locator("#f-as_of-error").inner_text()
    page.screenshot(path=str(shots / "task-refused.png"), full_page=True)

    # Fix it, add a second source row with the table's button, and submit.
    page.get_by_label("เบิกจ่ายแล้วทั้งสิ้น (บาท)").fill("1,234,567.25")
    page.get_by_label("ข้อมูล ณ วันที่").fill("30/09/2569")
    page.get_by_role("button", name="+ เพิ่มแถว").click()
    page.get_by_label("แหล่งข้อมูล แถวที่ 2").select_option("school")
    page.get_by_label("ชื่อหน่วยงาน / สถานศึกษา แถวที่ 2").fill("โรงเรียนบ้านสาธิต (สาธิต)")
    page.get_by_label("ลงวันที่ แถวที่ 2").fill("15/09/2569")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_url(base + "/")
    assert "ส่งต่อไปยัง คณะกรรมการ" in page.locator(".flash-success").inner_text()
    context.close()

    data = mine
    detail = world.khanton.instance(data["id"], world.khanton.actor("supervisor"))
    assert detail["data"]["total_disbursed"] == 1234567.25
    assert detail["data"]["as_of"] == "2026-09-30"
    assert [s["source"] for s in detail["data"]["spending_sources"]] == ["finance_group", "school"]

    # The committee's secretary sees the next task, and goes step by step through the committee's.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "secretary")
    page.screenshot(path=str(shots / "inbox.png"), full_page=True)
    # Typed markup is shown as text, never as markup.
    assert page.locator("tr", has_text="โอนเงินเหลือจ่าย ครั้งที่ 1 <ทดสอบ>").count() == 1
    page.locator("tr", has_text="โอนเงินเหลือจ่าย ครั้งที่ 1 <ทดสอบ>").get_by_role("link").first.click()
    page.get_by_role("button", name="รับงานนี้").click()
    page.get_by_label("เลขที่คำสั่งแต่งตั้งคณะกรรมการ").fill("345/2569")
    page.get_by_label("ลงวันที่คำสั่ง").fill("1/10/2569")
    page.get_by_label("วันที่ประชุม").fill("5/10/2569")
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector("h1:has-text('วิเคราะห์ผลการใช้จ่าย')")
    assert "ต่อด้วยขั้นตอนถัดไป" in page.locator(".flash-success").inner_text()
    lines = [("L1", "โครงการพัฒนาคุณภาพการศึกษา (สาธิต)", "งบดำเนินงาน", "150,000", "100,000", "50,000"),
             ("L2", "โครงการนิเทศติดตาม (สาธิต)", "งบดำเนินงาน", "80,000", "69,999.50", "10,000.50")]
    for i, (line_id, project, category, allocated, spent, leftover) in enumerate(lines, start=1):
        if i > 1:
            page.get_by_role("button", name="+ เพิ่มแถว").click()
        page.get_by_label(f"รหัสรายการ แถวที่ {i}").fill(line_id)
        page.get_by_label(f"แผนงาน / โครงการ แถวที่ {i}").fill(project)
        page.get_by_label(f"ประเภทงบประมาณ (งบรายจ่าย) แถวที่ {i}").select_option(category)
        page.get_by_label(f"ได้รับจัดสรร (บาท) แถวที่ {i}").fill(allocated)
        page.get_by_label(f"ใช้จ่ายแล้ว (บาท) แถวที่ {i}").fill(spent)
        # The leftover is the server's figure, shown as the secretary types (read-only).
        assert page.get_by_label(f"เงินเหลือจ่าย (บาท) แถวที่ {i}").input_value() == leftover + (
            "" if "." in leftover else ".00")
    page.get_by_label("ผลการวิเคราะห์ต่อเงื่อนไขความสำเร็จของงาน/โครงการ").fill(
        "โครงการทั้งสองบรรลุเป้าหมายแล้ว มีเงินเหลือจ่ายรวม 60,000.50 บาท")
    page.evaluate("document.querySelectorAll('.table-scroll').forEach(t => { t.scrollLeft = 0; })")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "task.png"), full_page=True)
    page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    page.wait_for_selector("h1:has-text('กำหนดแนวทาง')")
    context.close()

    detail = world.khanton.instance(data["id"], world.khanton.actor("supervisor"))
    assert detail["data"]["lines"][1]["leftover"] == 10000.5
    timeline = world.khanton.timeline(data["id"], world.khanton.actor("supervisor"))
    assert [e["kind"] for e in timeline][-3:] == ["claimed", "completed", "completed"]


def test_phone_width_pages_read_without_sideways_scrolling(server: tuple[str, World], browser: Any,
                                                          shots: Path) -> None:
    """At 360 px only the line-item tables scroll sideways, inside their own box, never the page."""
    base, world = server
    started = world.khanton.start("budget-transfer", {"fiscal_year": 2570, "title": "ทดสอบบนโทรศัพท์"},
                                  world.khanton.actor("officer"))
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "officer")
    page.screenshot(path=str(shots / "inbox-phone.png"), full_page=True)
    for path in ("/", f"/tasks/{started['ready_tasks'][0]['id']}", f"/instances/{started['id']}", "/instances",
                 "/processes/budget-transfer", "/delegations"):
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways on a 360 px phone ({width} px)"
    context.close()
