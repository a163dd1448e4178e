"""The admin's pages over HTTP (the browser walk is test_admin_browser.py): admins only, each action
and its refusals, sign-in throttling from two addresses, role menus, lanes' names read from the table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.signin import MAX_FAILURES
from tests.conftest import World

from .conftest import PASSWORD, Page

STRANGER = {"REMOTE_ADDR": "203.0.113.66"}
DESK = {"REMOTE_ADDR": "10.1.1.20"}


@pytest.fixture
def admin(web: World, page_as: Any) -> Page:
    web.khanton.add_user("boss", ["admin"], [], PASSWORD, "ผู้ดูแล ระบบ")
    page: Page = page_as("boss")
    return page


def _temporary(page: Page) -> str:
    match = re.search(r'id="temporary-password">([^<]+)<', page.html)
    assert match, page.html
    return match.group(1)


def test_only_admins_reach_the_admin_pages(web: World, page_as: Any, admin: Page) -> None:
    for path in ("/admin/users", "/admin/users/new", "/admin/users/head", "/admin/lanes", "/admin/schools",
                 "/admin/audit"):
        assert page_as("officer").get(path).status_code == 403, path
        assert admin.get(path).status_code == 200, path
    assert page_as().get("/admin/users").status_code == 302  # sign in first
    assert admin.get("/admin/users/no-such-person").status_code == 404
    assert admin.get("/admin/users/x%00y").status_code == 404
    assert admin.get("/admin/users/" + "x" * 300).status_code == 404
    officer = page_as("officer")
    officer.get("/")
    assert officer.post("/admin/users/head/active", {"active": "0"}).status_code == 403
    assert web.khanton.actor("head")  # still there and active
    assert web.khanton.sign_in("head", PASSWORD) is not None


def test_the_user_list_searches_and_pages(web: World, admin: Page) -> None:
    for i in range(30):
        web.khanton.add_user(f"teacher{i:02d}", ["officer"], ["committee"], None, f"ครูคนที่ {i:02d}")
    admin.get("/admin/users")
    assert "teacher00" in admin.html and "teacher29" not in admin.html and "หน้า 1 จาก 2" in admin.html
    admin.get("/admin/users?page=2")
    assert "teacher29" in admin.html and "teacher00" not in admin.html
    admin.get("/admin/users?q=" + "คนที่ 1")
    assert "teacher10" in admin.html and "teacher19" in admin.html and "teacher20" not in admin.html
    admin.get("/admin/users?q=%25")  # a LIKE wildcard matches itself only
    assert "ไม่พบผู้ใช้" in admin.html


def test_an_added_person_must_choose_their_own_password_first(web: World, page_as: Any, admin: Page) -> None:
    admin.get("/admin/users/new")
    refused = admin.post("/admin/users/new", {"username": "kanda", "display_name": "นางกานดา ใจงาม",
                                              "roles": ["officer"], "lanes": ["school"]})
    assert refused.status_code == 400 and "ต้องระบุสถานศึกษาที่สังกัด" in admin.html
    assert 'value="นางกานดา ใจงาม"' in admin.html  # what was typed is kept
    admin.post("/admin/users/new", {"username": "kanda", "display_name": "นางกานดา ใจงาม",
                                    "roles": ["officer"], "lanes": ["plan_officer"]})
    temporary = _temporary(admin)
    kanda = page_as()
    assert kanda.sign_in("kanda", temporary).status_code == 302
    to = kanda.get("/")
    assert to.status_code == 302 and to.headers["Location"].endswith("/account/password")
    kanda.get("/account/password")
    assert "ตั้งรหัสผ่านของคุณเองก่อนใช้งาน" in kanda.html
    assert kanda.post("/account/password", {"current": temporary, "new": "12345678",
                                            "repeat": "12345678"}).status_code == 400
    assert "เดาง่าย" in kanda.html
    done = kanda.post("/account/password", {"current": temporary, "new": "ต้นมะม่วงหน้าบ้าน",
                                            "repeat": "ต้นมะม่วงหน้าบ้าน"})
    assert done.status_code == 302 and kanda.get("/").status_code == 200  # still signed in, in a new session
    assert "กล่องงาน" in kanda.html


def test_editing_a_person_changes_roles_lanes_and_school(web: World, page_as: Any, admin: Page) -> None:
    admin.get("/admin/users/head")
    done = admin.post("/admin/users/head", {"display_name": "นายหัวหน้า กลุ่มแผน", "roles": ["officer", "supervisor"],
                                            "lanes": ["plan_head", "committee"]})
    assert done.status_code == 302
    actor = web.khanton.actor("head")
    assert actor.display_name == "นายหัวหน้า กลุ่มแผน" and actor.roles == {"officer", "supervisor"}
    assert actor.lanes == {"plan_head", "committee"}
    admin.get("/admin/users/head")
    refused = admin.post("/admin/users/head", {"display_name": "x", "roles": ["officer"], "lanes": ["plan_head"],
                                               "school": "1063010001"})
    assert refused.status_code == 400 and "เฉพาะผู้ใช้ใน lane school" in admin.html
    assert web.khanton.actor("head").school is None and web.khanton.actor("head").display_name != "x"
    admin.get("/admin/users/boss")
    admin.post("/admin/users/boss", {"display_name": "ผู้ดูแล", "roles": ["officer"]})
    assert "ถอดบทบาทผู้ดูแลระบบของตนเองไม่ได้" in admin.html


def test_deactivating_signs_the_person_out_everywhere_at_once(web: World, page_as: Any, admin: Page) -> None:
    head = page_as("head")
    assert head.get("/").status_code == 200
    admin.get("/admin/users/head")
    admin.post("/admin/users/head/active", {"active": "0"})
    assert head.get("/").status_code == 302  # their open browser is signed out
    assert web.api("head").get("/tasks").status_code == 401  # and their token dead
    assert page_as().sign_in("head").status_code == 200  # and they cannot sign in again
    admin.get("/admin/users/head")
    assert "ปิดการใช้งาน" in admin.html and "ไม่มี" in admin.html
    admin.post("/admin/users/head/active", {"active": "1"})
    assert page_as().sign_in("head").status_code == 302


def test_reset_unlock_and_revoke_a_token(web: World, page_as: Any, admin: Page) -> None:
    stranger = Page(web.app.test_client())
    stranger.client.environ_base.update(STRANGER)
    stranger.get("/login")
    for _ in range(MAX_FAILURES):
        stranger.post("/login", {"username": "head", "password": "guess"})
    admin.get("/admin/users/head")
    assert "ถูกล็อกถึง" in admin.html
    admin.post("/admin/users/head/unlock")
    assert "ถูกล็อกถึง" not in admin.get("/admin/users/head").get_data(as_text=True)
    assert stranger.post("/login", {"username": "head", "password": PASSWORD}).status_code == 302

    token_id = re.search(r"/admin/users/head/tokens/(\d+)/revoke", admin.html)
    assert token_id
    admin.post(f"/admin/users/head/tokens/{token_id.group(1)}/revoke")
    assert web.api("head").get("/tasks").status_code == 401

    admin.get("/admin/users/head")
    admin.post("/admin/users/head/password")
    temporary = _temporary(admin)
    assert page_as().sign_in("head", PASSWORD).status_code == 200  # the old password is gone
    head = page_as()
    head.sign_in("head", temporary)
    assert head.get("/").headers["Location"].endswith("/account/password")


def test_a_stranger_elsewhere_cannot_lock_a_colleague_out(web: World) -> None:
    stranger, colleague = Page(web.app.test_client()), Page(web.app.test_client())
    stranger.client.environ_base.update(STRANGER)
    colleague.client.environ_base.update(DESK)
    stranger.get("/login")
    for _ in range(MAX_FAILURES):
        stranger.post("/login", {"username": "head", "password": "guess"})
    locked = stranger.post("/login", {"username": "head", "password": PASSWORD})
    assert locked.status_code == 429 and "ลองใหม่ได้ตั้งแต่" in stranger.html and "น." in stranger.html
    assert re.search(r"25\d\d \d\d:\d\d น\.", stranger.html)  # a Buddhist-era date and Bangkok time
    assert colleague.sign_in("head").status_code == 302


def test_lanes_and_schools_pages(web: World, page_as: Any, admin: Page) -> None:
    admin.get("/admin/lanes")
    assert 'value="คณะกรรมการเขตพื้นที่การศึกษา"' in admin.html  # as the manual names it
    admin.post("/admin/lanes/esa_board", {"name": "คณะกรรมการเขตพื้นที่การศึกษาประถมศึกษาตาก เขต 1"})  # renamed by order
    assert 'value="คณะกรรมการเขตพื้นที่การศึกษาประถมศึกษาตาก เขต 1"' in admin.get("/admin/lanes").get_data(as_text=True)
    refused = admin.post("/admin/lanes", {"key": "Finance Group", "name": "การเงิน"})
    assert refused.status_code == 400 and "Finance Group" in admin.html and "ใช้อักษรอังกฤษตัวเล็ก" in admin.html
    assert 'value="การเงิน"' in admin.html
    admin.post("/admin/lanes", {"key": "finance_group", "name": "กลุ่มบริหารงานการเงินและสินทรัพย์"})
    admin.get("/admin/users/new")
    assert 'value="finance_group"' in admin.html and 'value="esa_board"' not in admin.html  # outside bodies sign in not

    admin.get("/admin/schools")
    refused = admin.post("/admin/schools", {"code": "12", "name": "โรงเรียนผิดรหัส"})
    assert refused.status_code == 400 and "ต้องเป็นตัวเลข 10 หลัก" in admin.html
    admin.post("/admin/schools", {"code": "1063010077", "name": "โรงเรียนบ้านใหม่", "district": "แม่สอด"})
    assert "โรงเรียนบ้านใหม่" in admin.get("/admin/schools").get_data(as_text=True)
    assert "1063010077" in {s["code"] for s in web.khanton.schools()}


def test_a_lanes_new_name_shows_wherever_the_lane_is_shown(web: World, page_as: Any, admin: Page) -> None:
    admin.get("/admin/lanes")
    admin.post("/admin/lanes/plan_officer", {"name": "งานนโยบายและแผน (ชื่อใหม่)"})
    web.api("officer").post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": 2570}})
    officer = page_as("officer")
    officer.get("/")
    assert "งานนโยบายและแผน (ชื่อใหม่)" in officer.html


def test_the_audit_page_shows_who_what_when_and_from_where(web: World, admin: Page) -> None:
    admin.client.environ_base.update(DESK)
    admin.get("/admin/users/head")
    admin.post("/admin/users/head/unlock")
    admin.get("/admin/audit")
    assert "ปลดล็อกบัญชี" in admin.html and "head" in admin.html and "boss" in admin.html
    assert "10.1.1.20" in admin.html and re.search(r"25\d\d \d\d:\d\d", admin.html)
    admin.get("/admin/users/head")
    admin.post("/admin/users/head", {"display_name": "นายหัวหน้า", "roles": ["officer", "supervisor"],
                                     "lanes": ["plan_head"]})
    admin.get("/admin/audit")
    # Details in words: role and lane names, before → after.
    assert "บทบาท: เจ้าหน้าที่ผู้ปฏิบัติงาน → เจ้าหน้าที่ผู้ปฏิบัติงาน, ผู้กำกับติดตาม" in admin.html
    assert "ชื่อที่แสดง: head → นายหัวหน้า" in admin.html


def test_each_role_has_its_own_menu(web: World, page_as: Any, admin: Page) -> None:
    def menus(page: Page) -> list[str]:
        page.get("/account/password")
        return re.findall(r'data-role="(\w+)"', page.html)

    assert menus(page_as("officer")) == ["officer"]
    assert menus(page_as("analyst")) == ["analyst"]
    assert menus(page_as("supervisor")) == ["supervisor"]
    assert menus(admin) == ["admin"]
    assert "/admin/users" in admin.html and "/delegations" not in admin.html
    officer = page_as("officer")
    officer.get("/")
    assert "/admin/users" not in officer.html
    web.khanton.add_user("both", ["officer", "admin"], ["plan_officer"], PASSWORD)
    assert menus(page_as("both")) == ["officer", "admin"]


def test_behind_a_trusted_proxy_the_forwarded_address_counts_and_otherwise_it_is_ignored(web: World) -> None:
    from web import create_app

    def client(trusted: int, forwarded: str) -> Page:
        app = create_app({"TESTING": True, "DATABASE_URL": web.khanton.db.url, "TRUSTED_PROXIES": trusted})
        app.extensions["khanton"] = web.khanton
        page = Page(app.test_client())
        page.client.environ_base.update({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded})
        page.get("/login")
        return page

    stranger = client(1, "203.0.113.66")
    for _ in range(MAX_FAILURES):
        stranger.post("/login", {"username": "head", "password": "guess"})
    assert stranger.post("/login", {"username": "head", "password": PASSWORD}).status_code == 429
    # Through the same proxy, the colleague's own address is not locked.
    assert client(1, "10.1.1.20").sign_in("head").status_code == 302
    # Without a trusted proxy the header is the client's to write: changing it does not escape a lock.
    direct = client(0, "198.51.100.1")
    for _ in range(MAX_FAILURES):
        direct.post("/login", {"username": "director", "password": "guess"})
    assert client(0, "198.51.100.2").sign_in("director").status_code == 429
