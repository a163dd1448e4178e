"""The admin's work in a real browser (Debian's chromium, Playwright) against the app over real HTTP:
adding a person who then sets their own password, a lock-out and its unlocking, resetting a password,
revoking a token, deactivating, lanes and schools, the audit trail, and each role's menu.

Screenshots for docs/admin-guide.md go to docs/screenshots/ with KHANTON_SCREENSHOTS=docs (make
screenshots), to a temporary folder otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.signin import MAX_FAILURES
from tests.browser import serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD

WIDE = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('admin') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("admin_demo", ["admin"], [], PASSWORD, "นายอำนาจ ดูแลระบบ")
    world.khanton.add_user("malee", ["officer"], ["plan_officer"], PASSWORD, "นางมาลี ศรีสุข")
    with serving(world.app) as base:
        yield base, world
    world.close()


def _page(browser: Any) -> Any:
    return browser.new_context(viewport=WIDE, locale="th-TH").new_page()



def _menu(page: Any) -> Any:
    return page.get_by_role("navigation", name="เมนูหลัก")


def test_an_admin_adds_a_person_who_then_sets_their_own_password(server: tuple[str, World], browser: Any,
                                                                  shots: Path) -> None:
    base, world = server
    admin = _page(browser)
    sign_in(admin, base, "admin_demo", wait=False)
    _menu(admin).get_by_role("link", name="ผู้ใช้งาน").click()
    admin.get_by_role("link", name="เพิ่มผู้ใช้").click()
    admin.get_by_label("ชื่อผู้ใช้ (ใช้ลงชื่อเข้าใช้").fill("kanda")
    admin.get_by_label("ชื่อที่แสดง (ชื่อ-นามสกุล)").fill("นางกานดา ใจงาม")
    admin.get_by_label("เจ้าหน้าที่กลุ่มนโยบายและแผน").check()
    admin.screenshot(path=str(shots / "admin-user-new.png"), full_page=True)
    admin.get_by_role("button", name="เพิ่มผู้ใช้").click()
    temporary = admin.locator("#temporary-password").inner_text()
    assert len(temporary) == 14
    admin.screenshot(path=str(shots / "admin-password-issued.png"))
    assert world.khanton.actor("kanda").works_lanes >= {"plan_officer"}

    person = _page(browser)
    sign_in(person, base, "kanda", temporary, wait=False)
    person.wait_for_url(base + "/account/password")
    assert "ตั้งรหัสผ่านของคุณเองก่อนใช้งาน" in person.locator("main").inner_text()
    person.get_by_label("รหัสผ่านปัจจุบัน").fill(temporary)
    person.get_by_label("รหัสผ่านใหม่", exact=True).fill("password1")
    person.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill("password1")
    person.get_by_role("button", name="เปลี่ยนรหัสผ่าน").click()
    assert "เดาง่ายเกินไป" in person.get_by_role("alert").inner_text()
    person.get_by_label("รหัสผ่านปัจจุบัน").fill(temporary)
    person.get_by_label("รหัสผ่านใหม่", exact=True).fill("ต้นมะม่วงหน้าบ้านออกผล")
    person.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill("ต้นมะม่วงหน้าบ้านออกผล")
    person.screenshot(path=str(shots / "account-password.png"))
    person.get_by_role("button", name="เปลี่ยนรหัสผ่าน").click()
    person.wait_for_url(base + "/")
    assert "เปลี่ยนรหัสผ่านแล้ว" in person.locator(".flash-success").inner_text()
    assert world.khanton.sign_in("kanda", "ต้นมะม่วงหน้าบ้านออกผล") is not None

    # The admin's list finds her by her Thai name, and the audit trail shows both changes.
    admin.goto(base + "/admin/users")
    admin.get_by_label("ค้นหาชื่อผู้ใช้หรือชื่อที่แสดง").fill("กานดา")
    admin.locator("#main").get_by_role("button", name="ค้นหา").click()
    assert admin.locator("#users tbody tr").count() == 1
    _menu(admin).get_by_role("link", name="บันทึกการเปลี่ยนแปลง").click()
    trail = admin.locator("#audit").inner_text()
    assert "เพิ่มผู้ใช้ kanda" in trail and "เปลี่ยนรหัสผ่านของตนเอง kanda" in trail
    admin.screenshot(path=str(shots / "admin-audit.png"), full_page=True)


def test_a_lock_out_says_when_and_the_admin_unlocks_resets_revokes_and_deactivates(
        server: tuple[str, World], browser: Any, shots: Path) -> None:
    base, world = server
    someone = _page(browser)
    for _ in range(MAX_FAILURES):
        sign_in(someone, base, "malee", "wrong-guess", wait=False)
    sign_in(someone, base, "malee", wait=False)
    message = someone.get_by_role("alert").inner_text()
    assert "ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป กรุณาลองใหม่ได้ตั้งแต่" in message and " 25" in message
    someone.screenshot(path=str(shots / "login-locked.png"))

    admin = _page(browser)
    sign_in(admin, base, "admin_demo", wait=False)
    admin.goto(base + "/admin/users?q=malee")
    assert "ถูกล็อกถึง" in admin.locator("#users").inner_text()
    admin.get_by_role("link", name="malee").click()
    admin.screenshot(path=str(shots / "admin-user.png"), full_page=True)
    admin.get_by_role("button", name="ปลดล็อกบัญชี").click()
    assert "ปลดล็อกบัญชีแล้ว" in admin.locator(".flash-success").inner_text()
    sign_in(someone, base, "malee", wait=False)
    someone.wait_for_url(base + "/")

    world.khanton.issue_token("malee", 30)
    admin.reload()
    assert admin.locator("#tokens li").count() == 1
    admin.get_by_role("button", name="ยกเลิกโทเค็น").click()
    assert "ยกเลิกโทเค็นแล้ว" in admin.locator(".flash-success").inner_text()
    assert admin.locator("#tokens li").count() == 0

    admin.get_by_role("button", name="ปิดการใช้งานบัญชี").click()
    assert "ออกจากระบบทุกเครื่อง" in admin.locator(".flash-success").inner_text()
    someone.goto(base + "/")
    assert someone.url.startswith(base + "/login")  # her open browser is signed out at once
    admin.get_by_role("button", name="เปิดใช้งานบัญชีอีกครั้ง").click()
    admin.get_by_role("button", name="ตั้งรหัสผ่านใหม่").click()
    temporary = admin.locator("#temporary-password").inner_text()
    sign_in(someone, base, "malee", temporary, wait=False)
    someone.wait_for_url(base + "/account/password")


def test_lanes_and_schools_are_managed_in_the_browser(server: tuple[str, World], browser: Any,
                                                      shots: Path) -> None:
    base, world = server
    admin = _page(browser)
    sign_in(admin, base, "admin_demo", wait=False)
    _menu(admin).get_by_role("link", name="lane").click()
    admin.get_by_label("ชื่อที่แสดงของ esa_board").fill("คณะกรรมการเขตพื้นที่การศึกษา")
    admin.locator("#lanes tr", has=admin.get_by_label("ชื่อที่แสดงของ esa_board")).get_by_role(
        "button", name="เปลี่ยนชื่อ").click()
    assert "เปลี่ยนชื่อที่แสดงของ lane esa_board แล้ว" in admin.locator(".flash-success").inner_text()
    admin.get_by_label("รหัส (อักษรอังกฤษ").fill("finance group")
    admin.get_by_label("ชื่อภาษาไทย").fill("กลุ่มบริหารงานการเงินและสินทรัพย์")
    admin.get_by_role("button", name="เพิ่ม lane").click()
    assert "ไม่ถูกต้อง" in admin.get_by_role("alert").inner_text()
    assert admin.get_by_label("ชื่อภาษาไทย").input_value() == "กลุ่มบริหารงานการเงินและสินทรัพย์"
    admin.get_by_label("รหัส (อักษรอังกฤษ").fill("finance_group")
    admin.get_by_role("button", name="เพิ่ม lane").click()
    assert admin.get_by_label("ชื่อที่แสดงของ finance_group").input_value() == "กลุ่มบริหารงานการเงินและสินทรัพย์"
    admin.screenshot(path=str(shots / "admin-lanes.png"), full_page=True)
    assert world.khanton.actor("officer")  # the lane is given on a person's page from now on
    admin.goto(base + "/admin/users/new")
    assert admin.get_by_label("กลุ่มบริหารงานการเงินและสินทรัพย์").count() == 1

    _menu(admin).get_by_role("link", name="สถานศึกษา").click()
    admin.get_by_label("รหัสสถานศึกษา").fill("1063010088")
    admin.get_by_label("ชื่อสถานศึกษา").fill("โรงเรียนบ้านห้วยนกแล")
    admin.get_by_label("อำเภอ").fill("แม่ระมาด")
    admin.get_by_role("button", name="เพิ่มสถานศึกษา").click()
    assert "โรงเรียนบ้านห้วยนกแล" in admin.locator("#schools").inner_text()
    admin.screenshot(path=str(shots / "admin-schools.png"), full_page=True)


@pytest.mark.parametrize(("user", "menu", "absent"), [
    ("officer", ["กล่องงาน", "รายการกระบวนงาน", "เริ่มกระบวนงาน", "ผู้ปฏิบัติหน้าที่แทน", "ตั้งค่าการแจ้งเตือน"],
     ["ผู้ใช้งาน", "แก้ไขกระบวนงาน", "ติดตามงาน"]),
    ("analyst", ["กระบวนงานและรุ่น", "รายการกระบวนงาน", "แก้ไขกระบวนงาน", "นำเข้าแผนภาพ", "ตั้งค่าการแจ้งเตือน"],
     ["กล่องงาน", "ผู้ปฏิบัติหน้าที่แทน", "ผู้ใช้งาน", "ติดตามงาน"]),
    ("supervisor", ["ติดตามกระบวนงาน", "ติดตามงาน", "ภาพรวมการดำเนินงาน", "ตั้งค่าการแจ้งเตือน"],
     ["กล่องงาน", "ผู้ปฏิบัติหน้าที่แทน", "ผู้ใช้งาน", "แก้ไขกระบวนงาน"]),
    ("admin_demo", ["ผู้ใช้งาน", "lane", "สถานศึกษา", "วันหยุดราชการ", "บันทึกการเปลี่ยนแปลง", "ติดตามงาน",
                    "ภาพรวมการดำเนินงาน", "ตั้งค่าการแจ้งเตือน"], ["กล่องงาน", "ผู้ปฏิบัติหน้าที่แทน"]),
])
def test_each_role_sees_its_own_menu(server: tuple[str, World], browser: Any, user: str, menu: list[str],
                                     absent: list[str]) -> None:
    base, _ = server
    page = _page(browser)
    sign_in(page, base, user, wait=False)
    page.goto(base + "/account/password")
    links = [text.split("\n")[0].strip() for text in _menu(page).get_by_role("link").all_inner_texts()]
    # In this order, and nothing else (the inbox's link carries its count of waiting tasks).
    assert len(links) == len(menu) and all(link.startswith(label) for link, label in zip(links, menu, strict=True))
    for label in absent:
        assert not any(link.startswith(label) for link in links), (label, links)
