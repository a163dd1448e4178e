"""The officers' pages through HTTP: sign-in, CSRF, expiry, lanes by URL, XSS, double submits."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.conftest import ROOT, World

from .conftest import PASSWORD, Page

SCENARIO = json.loads((ROOT / "tests/scenarios/budget-transfer.json").read_text(encoding="utf-8"))
STUDY_FORM = {
    "spending_sources.0.source": "finance_group", "spending_sources.0.source_name": "กลุ่มการเงิน",
    "total_allocated": "1,500,000", "total_disbursed": "1,200,000.50", "as_of": "30/09/2569",
}


def _start(page: Page, title: str = "โอนงบประมาณ") -> str:
    """Start a budget transfer on the pages and reach the officer's study of the spending (its page's
    address): the officer asks one school for its report, and the school answers its round."""
    page.get("/processes/budget-transfer")
    response = page.post("/processes/budget-transfer", {"fiscal_year": "2570", "title": title})
    assert response.status_code == 302, page.html
    ask = str(response.headers["Location"])
    page.get(ask)
    response = page.post(ask, {"report_request_no": "ศธ 04173/1", "report_requested_on": "1/10/2569",
                               "schools.0.code": "1063010001", "schools.0.name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"})
    assert response.status_code == 302, page.html
    khanton = page.client.application.extensions["khanton"]
    school = khanton.actor("school")
    instance_id = khanton.task(ask.rsplit("/", 1)[-1], khanton.actor("supervisor"))["instance"]
    round_id = next(t["id"] for t in khanton.ready_tasks(school) if t["instance"] == instance_id)
    after = khanton.complete(round_id, {"spending_lines": [
        {"plan_project": "อาหารกลางวัน", "category": "งบเงินอุดหนุน", "allocated": 1000, "spent": 900}],
        "reported_by": "ผู้อำนวยการโรงเรียน"}, school)
    return f"/tasks/{after['ready_tasks'][0]['id']}"



def test_sign_in_and_out(web: World, page_as: Any) -> None:
    page = page_as()
    assert page.get("/").status_code == 302  # the inbox needs a signed-in person
    page.get("/login")
    wrong = page.post("/login", {"username": "officer", "password": "nope"})
    assert wrong.status_code == 200 and "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in page.html
    assert page.sign_in("officer").status_code == 302
    assert page.get("/").status_code == 200 and "กล่องงาน" in page.html
    page.post("/logout")
    assert page.get("/").status_code == 302


def test_login_redirects_only_to_local_pages(web: World, page_as: Any) -> None:
    page = page_as()
    page.get("/login")
    response = page.post("/login", {"username": "officer", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_repeated_failures_lock_the_name_out(web: World, page_as: Any) -> None:
    page = page_as()
    page.get("/login")
    for _ in range(5):
        page.post("/login", {"username": "head", "password": "wrong"})
    locked = page.post("/login", {"username": "head", "password": PASSWORD})
    assert locked.status_code == 429 and "ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป" in page.html
    assert page_as("officer")  # others are not affected


def test_csrf_is_required_on_page_forms_but_not_on_the_api(web: World, page_as: Any) -> None:
    anonymous = page_as()
    anonymous.get("/login")
    refused = anonymous.post("/login", {"username": "officer", "password": PASSWORD}, csrf=False)
    assert refused.status_code == 400 and "แบบฟอร์มนี้หมดอายุ" in anonymous.html
    page = page_as("officer")
    page.get("/")
    assert page.post("/processes/budget-transfer", {"fiscal_year": "2570"}, csrf=False).status_code == 400
    assert page.post("/processes/budget-transfer", {"fiscal_year": "2570", "csrf_token": "forged"},
                     csrf=False).status_code == 400
    assert web.api("officer").post("/instances", {"process": "budget-transfer",
                                                  "data": {"fiscal_year": 2570}}).status_code == 201


def test_session_expires_after_the_idle_time(web: World, page_as: Any) -> None:
    page = page_as("officer")
    assert page.get("/").status_code == 200
    idle = web.app.config["SESSION_IDLE"].total_seconds()
    with page.client.session_transaction() as session:
        session["seen_at"] = int(time.time() - idle + 60)  # used a minute before the idle time ran out
    assert page.get("/").status_code == 200  # and that use starts the idle time again
    with page.client.session_transaction() as session:
        assert session["seen_at"] >= int(time.time()) - 5
        session["seen_at"] = int(time.time() - idle - 5)
    expired = page.get("/")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    assert page.get("/").status_code == 302  # and stays signed out


def test_session_cookie_is_permanent_with_the_configured_lifetime(web: World, page_as: Any) -> None:
    page = page_as()
    page.get("/login")
    response = page.post("/login", {"username": "officer", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Expires=" in cookie and "SameSite=Lax" in cookie


def test_another_lanes_task_by_url_is_refused(web: World, page_as: Any) -> None:
    officer = page_as("officer")
    task_url = _start(officer)
    school = page_as("school2")  # a school the procedure never asked (the first one answered its round)
    assert school.get(task_url).status_code == 403
    school.get("/")
    assert school.post(task_url, STUDY_FORM).status_code == 403
    instance_id = web.khanton.instances(web.khanton.actor("officer"))[0]["id"]
    assert school.get(f"/instances/{instance_id}").status_code == 403
    assert page_as("supervisor").get(f"/instances/{instance_id}").status_code == 200
    assert officer.get("/tasks/not-a-task").status_code == 404


def test_refused_form_keeps_values_and_says_why_beside_each_field(web: World, page_as: Any) -> None:
    page = page_as("officer")
    task_url = _start(page)
    page.get(task_url)
    response = page.post(task_url, {**STUDY_FORM, "total_disbursed": "สองล้าน", "as_of": ""})
    assert response.status_code == 422
    assert 'value="สองล้าน"' in page.html and 'value="กลุ่มการเงิน"' in page.html
    assert re.search(r'id="f-total_disbursed-error">กรุณากรอกเป็นตัวเลข<', page.html)
    assert re.search(r'id="f-as_of-error">กรุณากรอกข้อมูลนี้<', page.html)
    assert 'aria-describedby="f-as_of-error"' in page.html


def test_complete_then_a_second_submit_gets_a_clear_message(web: World, page_as: Any) -> None:
    page = page_as("officer")
    task_url = _start(page)
    page.get(task_url)
    done = page.post(task_url, STUDY_FORM)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    page.get("/")
    assert "ส่งต่อไปยัง คณะกรรมการ" in page.html
    again = page.post(task_url, STUDY_FORM)
    assert again.status_code == 409 and "ขั้นตอนนี้บันทึกไปแล้วโดย" in page.html
    timeline = web.khanton.timeline(web.khanton.instances(web.khanton.actor("officer"))[0]["id"],
                                    web.khanton.actor("officer"))
    # The request to the schools, the school's report, and the study once: the second submit stored nothing.
    assert [e["kind"] for e in timeline].count("completed") == 3


def test_step_by_step_goes_straight_to_the_next_own_step(web: World, page_as: Any) -> None:
    officer = page_as("officer")
    task_url = _start(officer)
    officer.get(task_url)
    officer.post(task_url, STUDY_FORM)
    committee = page_as("committee")
    committee.get("/")
    next_url = re.search(r'href="(/tasks/[0-9a-f-]+)"', committee.html).group(1)  # type: ignore[union-attr]
    committee.get(next_url)
    response = committee.post(next_url, {"committee_order_no": "1/2569", "committee_order_date": "1/10/2569",
                                         "meeting_on": "5/10/2569"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
    committee.get(response.headers["Location"])
    assert "วิเคราะห์ผลการใช้จ่าย" in committee.html and "ต่อด้วยขั้นตอนถัดไป" in committee.html


def test_table_rows_can_be_added_and_removed_without_javascript(web: World, page_as: Any) -> None:
    page = page_as("officer")
    task_url = _start(page)
    page.get(task_url)
    page.post(task_url, {**STUDY_FORM, "_add_row": "spending_sources"})
    assert 'name="spending_sources.1.source_name"' in page.html and 'value="กลุ่มการเงิน"' in page.html
    page.post(task_url, {**STUDY_FORM, "spending_sources.1.source_name": "ร.ร.", "_remove_row": "spending_sources.0"})
    assert 'name="spending_sources.0.source_name" value="ร.ร."' in page.html


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_text_typed_into_forms_is_escaped_everywhere(web: World, page_as: Any) -> None:
    officer = page_as("officer")
    task_url = _start(officer, title=XSS)
    officer.get(task_url)
    officer.post(task_url, {**STUDY_FORM, "spending_summary": XSS, "spending_sources.0.source_name": XSS,
                            "total_disbursed": XSS})  # refused: the raw value comes back in the form
    assert XSS not in officer.html and "&lt;script&gt;" in officer.html
    officer.post(task_url, {**STUDY_FORM, "spending_summary": XSS, "spending_sources.0.source_name": XSS})
    instance_id = web.khanton.instances(web.khanton.actor("officer"))[0]["id"]
    committee = page_as("committee")
    pages = ["/", f"/instances/{instance_id}"]
    committee.get("/")
    pages.append(re.search(r'href="(/tasks/[0-9a-f-]+)"', committee.html).group(1))  # type: ignore[union-attr]
    for path in pages:
        committee.get(path)
        assert "<script>alert" not in committee.html and "<img src=x" not in committee.html, path
        assert "&lt;script&gt;alert" in committee.html, path


def test_inbox_filters_paginates_and_counts(web: World, page_as: Any) -> None:
    officer = web.khanton.actor("officer")
    for year in range(2550, 2573):
        web.khanton.start("budget-transfer", {"fiscal_year": year}, officer)
    page = page_as("officer")
    page.get("/")
    assert page.html.count('class="task-link"') == 20 and "หน้า 1 จาก 2" in page.html
    assert re.search(r'class="badge"[^>]*>23<', page.html)
    page.get("/?page=2")
    assert page.html.count('class="task-link"') == 3
    page.get("/?process=spending-plan")
    assert "ไม่มีงานรอดำเนินการ" in page.html
    page.get("/?lane=governor")
    assert "ไม่มีงานรอดำเนินการ" in page.html


def test_english_switch(web: World, page_as: Any) -> None:
    page = page_as("officer")
    page.get("/")
    page.post("/language", {"lang": "en", "next": "/"})
    page.get("/")
    assert "Inbox" in page.html and 'lang="en"' in page.html
    page.post("/language", {"lang": "th", "next": "/"})
    page.get("/")
    assert "กล่องงาน" in page.html


def test_english_catalog_is_compiled_and_complete() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = ROOT / "web/translations/en/LC_MESSAGES"
    with open(folder / "messages.po", "rb") as po_file, open(folder / "messages.mo", "rb") as mo_file:
        po, mo = read_po(po_file), read_mo(mo_file)
    translations = {m.id: m.string for m in po if m.id}
    assert all(translations.values()), [k for k, v in translations.items() if not v]
    # Every message the web app marks for translation is in the catalog (others are lane and status
    # names, translated through a variable).
    with open(ROOT / "web/translations/babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    marked = {message[2] for message in extract_from_dir(ROOT / "web", method_map, options_map)}
    untranslated = [m for m in marked if m not in translations]
    assert not untranslated, f"add to messages.po, then pybabel compile -d web/translations: {untranslated}"
    assert translations == {m.id: m.string for m in mo if m.id}, "run pybabel compile -d web/translations"


def test_instance_list_shows_what_each_person_may_see_with_filters_and_pages(web: World, page_as: Any) -> None:
    officer = web.khanton.actor("officer")
    for year in range(2548, 2570):
        web.khanton.start("budget-transfer", {"fiscal_year": year, "title": f"โอนงบ <b>{year}</b>"}, officer)
    page = page_as("officer")
    page.get("/instances")
    assert page.html.count('class="instance-link"') == 20 and "ถัดไป" in page.html
    assert "โอนงบ &lt;b&gt;2569&lt;/b&gt;" in page.html  # newest first, escaped
    page.get("/instances?page=2")
    assert page.html.count('class="instance-link"') == 2 and "ถัดไป" not in page.html
    page.get("/instances?process=budget-transfer")
    next_link = re.search(r'href="(/instances\?[^"]*)">ถัดไป', page.html)
    assert next_link and "page=2" in next_link.group(1) and "process=budget-transfer" in next_link.group(1)
    page.get("/instances?fiscal_year=2560")
    assert page.html.count('class="instance-link"') == 1 and "2560" in page.html
    page.get("/instances?status=completed")
    assert "ไม่พบกระบวนงานตามเงื่อนไขนี้" in page.html
    page.get("/instances?page=99999999999999999999&fiscal_year=x&status=<script>")
    assert "ไม่พบกระบวนงานตามเงื่อนไขนี้" in page.html
    # A school user took no part and has no task of these: sees none; the supervisor sees them all.
    school = page_as("school")
    school.get("/instances")
    assert 'class="instance-link"' not in school.html
    supervisor = page_as("supervisor")
    supervisor.get("/instances?page=2")
    assert supervisor.html.count('class="instance-link"') == 2


def test_task_page_shows_the_latest_history_and_links_to_all_of_it(web: World, page_as: Any) -> None:
    officer = web.khanton.actor("officer")
    started = web.khanton.start("budget-transfer", {"fiscal_year": 2570}, officer)
    task_id = started["ready_tasks"][0]["id"]
    for _ in range(10):  # 1 start + 20 claim/release events
        web.khanton.claim(task_id, officer)
        web.khanton.release(task_id, officer)
    page = page_as("officer")
    page.get(f"/tasks/{task_id}")
    assert "ล่าสุด 15 จาก 21 รายการ" in page.html and f"/instances/{started['id']}#history" in page.html
    assert page.html.count('class="ev ev-') == 15 and "ev-started" not in page.html  # the newest 15
    page.get(f"/instances/{started['id']}")
    assert page.html.count('class="ev ev-') == 21


def test_refusals_name_each_field_once_and_come_in_the_forms_order(web: World, page_as: Any) -> None:
    """The summary said "X: X: ต้อง…" (the page's label before the engine's message that already began with
    the title), and listed refusals in the engine's order rather than the form's."""
    page: Page = page_as("officer")
    task_url = _start(page)
    page.get(task_url)
    bad = {**STUDY_FORM, "total_allocated": "-5", "total_disbursed": "-1", "as_of": ""}
    assert page.post(task_url, bad).status_code == 422
    allocated, disbursed = "งบประมาณที่ได้รับจัดสรรทั้งสิ้น (บาท)", "เบิกจ่ายแล้วทั้งสิ้น (บาท)"
    start = page.html.index('id="error-summary"')
    summary = page.html[start:page.html.index("</ul>", start)]
    beside = re.search(r'id="f-total_allocated-error">([^<]*)<', page.html)
    assert beside and beside.group(1).strip() and allocated not in beside.group(1)
    assert summary.count(allocated) == 1 and summary.count(disbursed) == 1
    # The form's order: allocated, disbursed, then the date.
    assert summary.index(allocated) < summary.index(disbursed) < summary.index("ข้อมูล ณ วันที่")
