"""The e-mail address and choices on the pages: the admin sets a person's address on /admin/users
(a wrong one is refused in Thai and nothing of the form is kept); a person's own choices page ignores
kinds it does not know and keeps the rest; it needs signing in and the CSRF token."""

from __future__ import annotations

from typing import Any

from engine.notify import preferences
from engine.people import audit
from tests.conftest import World

from .conftest import PASSWORD


def _kept(world: World, username: str) -> tuple[str | None, dict[str, tuple[bool, bool]]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return (preferences.email_of(session, username),
                {k: (c.in_app, c.email) for k, c in preferences.of(session, username).items()})


def test_the_admin_sets_and_clears_a_persons_address(web: World, page_as: Any) -> None:
    web.khanton.add_user("keeper", ["admin"], [], PASSWORD, "ผู้ดูแลระบบ")
    admin = page_as("keeper")
    admin.get("/admin/users/officer")
    assert 'id="u-email"' in admin.html
    form = {"display_name": "นายสมชาย เปลี่ยนชื่อ", "roles": ["officer"], "lanes": ["plan_officer"]}
    refused = admin.post("/admin/users/officer", {**form, "email": "somchai@tak1\r\nBcc: x@y.z"})
    assert refused.status_code == 400 and "อีเมลไม่ถูกต้อง" in admin.html
    assert _kept(web, "officer")[0] is None
    assert "นายสมชาย เปลี่ยนชื่อ" not in admin.get("/admin/users").get_data(as_text=True)  # nothing kept
    assert admin.post("/admin/users/officer", {**form, "email": "somchai@tak1.go.th"}).status_code == 302
    admin.get("/admin/users/officer")
    assert 'value="somchai@tak1.go.th"' in admin.html and _kept(web, "officer")[0] == "somchai@tak1.go.th"
    assert admin.post("/admin/users/officer", {**form, "email": ""}).status_code == 302
    assert _kept(web, "officer")[0] is None
    with web.khanton.db.transaction(read_only=True) as session:
        entries, _count = audit.page(session, target="officer")
    changes = [e.detail["email"] for e in entries if "email" in e.detail]
    assert changes == [["somchai@tak1.go.th", None], [None, "somchai@tak1.go.th"]]  # newest first
    assert all(e.actor == "keeper" for e in entries if "email" in e.detail)
    admin.get("/admin/users/officer")  # its recent history, in words
    assert "somchai@tak1.go.th → —" in admin.html and "— → somchai@tak1.go.th" in admin.html
    admin.get("/admin/users/new")
    refused = admin.post("/admin/users/new", {"username": "kanda", "display_name": "นางกานดา ใจงาม",
                                              "roles": ["officer"], "lanes": ["plan_officer"], "email": "kanda@"})
    assert refused.status_code == 400 and "อีเมลไม่ถูกต้อง" in admin.html
    admin.get("/admin/users/new")
    added = admin.post("/admin/users/new", {"username": "kanda", "display_name": "นางกานดา ใจงาม", "roles": ["officer"],
                                            "lanes": ["plan_officer"], "email": "kanda@tak1.go.th"})
    assert added.status_code == 200 and _kept(web, "kanda")[0] == "kanda@tak1.go.th"


def test_a_person_keeps_their_own_choices_and_hostile_input_changes_nothing(web: World, page_as: Any) -> None:
    assert page_as().get("/account/notifications").status_code == 302  # signed out: to the sign-in page
    officer = page_as("officer")
    officer.get("/account/notifications")
    assert "ตั้งค่าการแจ้งเตือน" in officer.html and 'href="/account/notifications"' in officer.html
    before = _kept(web, "officer")
    assert officer.post("/account/notifications", {"in_app": ["new"]}, csrf=False).status_code == 400
    assert _kept(web, "officer") == before
    officer.get("/account/notifications")
    refused = officer.post("/account/notifications", {"address": "x" * 5000, "in_app": ["new"]})
    assert refused.status_code == 400 and "อีเมล" in officer.html and "x" * 1000 not in officer.html
    assert _kept(web, "officer") == before
    officer.get("/account/notifications")
    saved = officer.post("/account/notifications", {"address": "somchai@tak1.go.th",
                                                   "in_app": ["new", "digest", "<script>", "returned"],
                                                   "email": ["overdue", "'; drop table users;--"]})
    assert saved.status_code == 302
    assert _kept(web, "officer") == ("somchai@tak1.go.th", {
        "new": (True, False), "returned": (True, False), "due_soon": (False, False), "overdue": (False, True),
        "digest": (False, False)})
