"""Everyday things in a real browser (Debian's chromium): the search box, removing a wrongly attached
document, this year's title when starting from last year's, and a long text's live counter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import WatchedBrowser, serving, signed_in_page
from tests.conftest import USERS, World
from tests.drive import budget_transfer_at_study
from web.i18n import current_fiscal_year

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("no_csp_violations")  # tests/web/conftest.py

REPAIR = "โอนงบลงทุน ซ่อมแซมอาคารเรียน (ทดสอบค้นหา)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('everyday') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    officer = world.khanton.actor("officer")
    world.khanton.start("budget-transfer", {"fiscal_year": current_fiscal_year(), "title": REPAIR}, officer)
    world.khanton.start("budget-transfer", {"fiscal_year": current_fiscal_year() - 1, "round_no": 3,
                                            "title": "โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 3 ปีที่แล้ว"}, officer)
    with serving(world.app) as base:
        yield base, world
    world.close()


def test_the_header_search_finds_by_part_of_a_word_and_only_what_one_may_see(
        server: tuple[str, World], browser: WatchedBrowser, shots: Path) -> None:
    base, _ = server
    page = signed_in_page(browser, base, "officer", 360)
    page.get_by_role("button", name="เมนู").click()
    page.get_by_role("searchbox", name="ค้นหากระบวนงาน").fill("อมแซมอาคาร")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator(".search-results tbody tr").count() == 1
    assert page.get_by_role("searchbox", name="คำค้น").input_value() == "อมแซมอาคาร"
    page.screenshot(path=str(shots / "phone-search.png"))
    page.get_by_role("link", name=REPAIR).click()
    page.wait_for_selector(f"h1:has-text('{REPAIR}')")
    # Too short: said beside the box, nothing searched.
    page.goto(base + "/search?q=ก")
    assert page.locator("#search-q-error").inner_text() == "พิมพ์คำค้นอย่างน้อย 2 ตัวอักษร"
    page.context.close()
    # A school's user does not see the office's budget work: no result, said plainly.
    school = signed_in_page(browser, base, "school")
    school.get_by_role("searchbox", name="ค้นหากระบวนงาน").fill("ซ่อมแซม")
    school.get_by_role("button", name="ค้นหา", exact=True).first.click()
    school.wait_for_url("**/search?q=*")
    assert "ไม่พบกระบวนงานที่ตรงกับ “ซ่อมแซม”" in school.locator(".card.empty").inner_text()
    school.context.close()


def test_a_wrongly_attached_document_is_removed_by_whoever_attached_it(
        server: tuple[str, World], browser: WatchedBrowser, tmp_path: Path) -> None:
    base, _ = server
    letter = tmp_path / "หนังสือผิดฉบับ.pdf"
    letter.write_bytes(b"%PDF-1.4 the wrong letter")
    page = signed_in_page(browser, base, "officer")
    page.locator("table.inbox tbody tr", has_text=REPAIR).get_by_role("link").first.click()
    page.locator("#attach-file").set_input_files(str(letter))
    page.get_by_role("button", name="แนบไฟล์").click()
    page.wait_for_selector(".attachments li:has-text('หนังสือผิดฉบับ.pdf')")
    page.get_by_role("button", name="ลบเอกสาร หนังสือผิดฉบับ.pdf").click()
    page.wait_for_selector(".flash-success")
    assert "ลบเอกสาร หนังสือผิดฉบับ.pdf แล้ว" in page.locator(".flash-success").inner_text()
    assert page.locator(".attachments li", has_text="หนังสือผิดฉบับ.pdf").count() == 0
    removed = page.locator(".timeline .ev-attachment_removed")
    assert "ลบเอกสารแนบ" in removed.inner_text() and "หนังสือผิดฉบับ.pdf" in removed.inner_text()
    page.context.close()


def test_starting_from_last_years_asks_for_this_years_title(server: tuple[str, World],
                                                            browser: WatchedBrowser) -> None:
    base, world = server
    page = signed_in_page(browser, base, "officer")
    page.goto(base + "/processes/budget-transfer")
    page.get_by_role("link", name="โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 3 ปีที่แล้ว").click()
    title = page.get_by_label("ชื่อเรื่อง")
    assert title.input_value() == ""
    assert "ตั้งชื่อเรื่องของปีนี้ (ปีที่แล้ว: “โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 3 ปีที่แล้ว”)" in page.content()
    assert page.get_by_label("ครั้งที่ (ของปีงบประมาณ)").input_value() == "3"
    title.fill("โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 3 ปีนี้")
    page.get_by_role("button", name="เริ่มกระบวนงาน").click()
    page.wait_for_selector(".flash-success")
    started = world.khanton.instances(world.khanton.actor("supervisor"))[0]
    assert started["title"] == "โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 3 ปีนี้"
    assert started["fiscal_year"] == current_fiscal_year()
    page.context.close()


def test_a_long_text_counts_what_is_left_as_one_types(server: tuple[str, World], browser: WatchedBrowser) -> None:
    base, world = server
    study = budget_transfer_at_study(world)["ready_tasks"][0]  # the officer's study: a long text with a limit
    page = signed_in_page(browser, base, "officer", 360)
    page.goto(f"{base}/tasks/{study['id']}")
    summary = page.get_by_label("สรุปผลการใช้จ่ายงบประมาณ")
    counter = page.locator("#f-spending_summary-count")
    assert counter.inner_text() == "พิมพ์แล้ว 0 จาก 5,000 ตัวอักษร (เหลือ 5,000)"
    summary.press_sequentially("ใช้จ่ายครบ")
    assert counter.inner_text() == "พิมพ์แล้ว 10 จาก 5,000 ตัวอักษร (เหลือ 4,990)"
    assert "f-spending_summary-count" in (summary.get_attribute("aria-describedby") or "")
    page.goto(base + "/delegations")  # any textarea with a limit, not only a form's
    note = page.get_by_label("หมายเหตุ (เช่น คำสั่งที่)")
    note.fill("ก" * 1000)
    note.press("End")
    note.press_sequentially("ข")  # the limit holds: nothing more goes in
    assert page.locator("#d-note-count").inner_text() == "พิมพ์แล้ว 1,000 จาก 1,000 ตัวอักษร (เหลือ 0)"
    assert "full" in (page.locator("#d-note-count").get_attribute("class") or "")
    page.context.close()
