"""The analyst's editor in a real browser (Debian's chromium): an analyst opens a procedure, adds a
user task in a lane through the modeler and the Thai properties panel, gives it a form in the form
editor (previewed by the server's renderer), saves a draft, sees the check's problem on the diagram and
in the list, fixes it, and publishes; an instance started on the new version reaches the new step while
an older one finishes on the old version. Also: refusals for non-analysts, the API entries, and the
page working under the CSP. Screenshots for docs/analyst-guide.md (KHANTON_SCREENSHOTS=docs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.authoring.drafts import save_draft
from engine.authoring.workbench import Workbench
from tests.browser import serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD, Page

KEY = "leave-request"
FIRST_FORM = {"type": "object", "title": "ยื่นใบลา", "properties": {
    "reason": {"type": "string", "title": "เหตุผลการลา", "maxLength": 200}}, "required": ["reason"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('editor') / 'khanton.db'}", load=False)
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("nipa", ["analyst"], [], PASSWORD, "นางสาวนิภา วิเคราะห์งาน")
    bench = Workbench(world.khanton)
    nipa = world.khanton.actor("nipa")
    opening = bench.open(KEY, nipa, new=("ขออนุญาตลา", "plan_officer"))
    assert bench.publish(KEY, opening.xml, {f"{KEY}/first_step.json": FIRST_FORM}, nipa, "รุ่นแรก").version == 1
    with serving(world.app) as base:
        yield base, world
    world.close()


ADD_TASK = """() => {
    const modeler = window.khantonEditor.modeler;
    const registry = modeler.get('elementRegistry'), modeling = modeler.get('modeling');
    const first = registry.get('first_step'), end = registry.get('end');
    modeling.moveElements([end], { x: 160, y: 0 });
    modeling.removeElements([registry.get('to_end')]);
    const lane = registry.filter(e => e.type === 'bpmn:Lane')[0];
    const task = modeling.createShape({ type: 'bpmn:UserTask' },
        { x: first.x + first.width / 2 + 170, y: first.y + first.height / 2 }, lane.parent);
    modeling.connect(first, task);
    modeling.connect(task, end);
    modeler.get('selection').select(task);
    return task.id;
}"""


def test_the_analyst_edits_checks_fixes_and_publishes_in_the_browser(server: tuple[str, World], chromium: Any,
                                                                      shots: Path) -> None:
    base, world = server
    older = world.api("officer").post("/instances", json={"process": KEY, "data": {}}).get_json()
    assert older["version"] == 1
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="th-TH")
    violations: list[str] = []
    context.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page = context.new_page()
    sign_in(page, base, "nipa", PASSWORD)
    page.get_by_role("link", name="แก้ไขกระบวนงาน").click()
    page.get_by_role("link", name="ขออนุญาตลา").click()
    page.wait_for_url(f"{base}/processes/{KEY}/edit")
    page.wait_for_selector("body[data-editor-ready=true]")
    assert "เปิดจากรุ่นล่าสุดที่เผยแพร่ (รุ่น 1)" in page.locator("#editor-origin").inner_text()
    assert page.locator(".djs-element[data-element-id=first_step]").count() == 1

    # A new user task after the first step, drawn in the lane with the modeling API; named in the panel.
    task_id = page.evaluate(ADD_TASK)
    assert page.locator(".prop-kind").inner_text().endswith(task_id)
    page.locator("#panel-body [data-prop=name]").fill("หัวหน้าอนุมัติการลา")
    page.locator("#panel-body [data-prop=name]").press("Tab")
    lane = page.locator("#panel-body [data-prop=lane]")
    assert lane.input_value() == "plan_officer"  # created inside the lane: it belongs to it
    assert "เจ้าหน้าที่" in lane.locator("option:checked").inner_text() or lane.input_value() == "plan_officer"
    page.locator("#editor-note").fill("เพิ่มขั้นหัวหน้าอนุมัติ")
    page.get_by_role("button", name="บันทึกร่าง").click()
    page.wait_for_selector("#editor-status.flash-success")
    assert "บันทึกร่างหมายเลข" in page.locator("#editor-status").inner_text()
    assert "นางสาวนิภา วิเคราะห์งาน" in page.locator("#editor-drafts").inner_text()
    assert "?draft=" in page.url

    # The check finds the new task has no form: marked on the diagram, listed, the list selects it.
    page.get_by_role("button", name="ตรวจสอบ").click()
    page.wait_for_selector(".problem-badge")
    assert page.locator(f".djs-element.has-problem[data-element-id={task_id}]").count() == 1
    problem = page.locator(f"#editor-problems li[data-element={task_id}]")
    assert "แบบฟอร์ม" in problem.inner_text()
    page.get_by_role("button", name="ตรวจสอบ").focus()
    page.evaluate("() => window.khantonEditor.modeler.get('selection').select([])")
    problem.get_by_role("button").click()
    assert page.locator(".prop-kind").inner_text().endswith(task_id)
    page.screenshot(path=str(shots / "editor-problem.png"))

    # Publishing is refused while the problem stands; the page says why.
    page.get_by_role("button", name="เผยแพร่").click()
    page.wait_for_selector("#editor-status.flash-error")
    assert "เผยแพร่ไม่ได้" in page.locator("#editor-status").inner_text()

    # The fix: a form for the task, built in the form editor; the server's renderer previews it.
    page.locator("#panel-body [data-prop=edit-form]").click()
    page.wait_for_selector("#editor-form:not([hidden])")
    assert page.locator("#form-path").inner_text() == f"{KEY}/{task_id.lower()}.json"
    page.get_by_role("button", name="+ เพิ่มผลการพิจารณา (decision)").click()
    page.get_by_role("button", name="+ เพิ่มช่อง").click()
    page.locator("#form-rows tr").nth(2).locator(".field-name").fill("approved_days")
    page.locator("#form-rows tr").nth(2).locator(".field-title").fill("จำนวนวันที่อนุมัติ")
    page.locator("#form-rows tr").nth(2).locator(".field-kind").select_option("integer")
    page.wait_for_function("() => document.querySelector('#form-preview').textContent.includes('จำนวนวันที่อนุมัติ')")
    preview = page.locator("#form-preview")
    assert "เห็นชอบ / อนุมัติ" in preview.inner_text() and "ส่งกลับแก้ไข" in preview.inner_text()
    page.get_by_role("button", name="ทดลองตรวจข้อมูลที่กรอก").click()
    page.wait_for_selector("#form-preview .field-error")
    assert "กรุณา" in preview.locator(".field-error").first.inner_text()
    page.locator("#editor-form").screenshot(path=str(shots / "editor-form.png"))
    page.get_by_role("button", name="ตรวจสอบ").click()
    page.wait_for_function("() => document.querySelector('#editor-status').textContent.includes('ไม่พบปัญหา')")
    assert page.locator(".problem-badge").count() == 0

    page.locator("#editor-note").fill("")
    page.get_by_role("button", name="เผยแพร่").click()
    assert "หมายเหตุ" in page.locator("#editor-status").inner_text()
    page.locator("#editor-note").fill("เพิ่มขั้นหัวหน้าอนุมัติการลา")
    page.get_by_role("button", name="เผยแพร่").click()
    page.wait_for_function("() => document.querySelector('#editor-status').textContent.includes('รุ่นที่ 2')")
    page.screenshot(path=str(shots / "editor-published.png"))
    assert violations == [], violations
    context.close()

    # A new instance runs the new version's new step; the older one stays on version 1 and finishes there.
    officer = world.api("officer")
    newer = officer.post("/instances", json={"process": KEY, "data": {}}).get_json()
    assert newer["version"] == 2
    done = officer.post(f"/tasks/{newer['ready_tasks'][0]['id']}/complete", json={"data": {"reason": "ป่วย"}})
    assert [t["name"] for t in done.get_json()["ready_tasks"]] == ["หัวหน้าอนุมัติการลา"]
    task = officer.get(f"/tasks/{done.get_json()['ready_tasks'][0]['id']}").get_json()
    assert task["form"]["properties"]["approved_days"]["type"] == "integer"
    finished = officer.post(f"/tasks/{older['ready_tasks'][0]['id']}/complete", json={"data": {"reason": "กิจ"}})
    assert (finished.get_json()["version"], finished.get_json()["status"]) == (1, "completed")
    entries = world.api("analyst").get(f"/processes/{KEY}").get_json()["versions"]
    assert [(v["version"], v["published_by"]) for v in entries] == [(1, "nipa"), (2, "nipa")]


def test_a_new_procedure_starts_from_the_template(server: tuple[str, World], chromium: Any, shots: Path) -> None:
    base, _world = server
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "nipa", PASSWORD)
    page.goto(base + "/processes/new")
    page.get_by_label("รหัสกระบวนงาน").fill(KEY)  # taken: the server says so beside the form
    page.get_by_label("ชื่อกระบวนงานภาษาไทย").fill("ขอใช้รถ")
    page.get_by_role("button", name="เปิดในเครื่องมือแก้ไข").click()
    assert f"มีกระบวนงาน {KEY} อยู่แล้ว" in page.locator("#new-error").inner_text()
    page.get_by_label("รหัสกระบวนงาน").fill("car-request")
    page.get_by_role("button", name="เปิดในเครื่องมือแก้ไข").click()
    page.wait_for_selector("body[data-editor-ready=true]")
    assert "กระบวนงานใหม่" in page.locator("#editor-origin").inner_text()
    names = page.evaluate("() => window.khantonEditor.modeler.get('elementRegistry')"
                          ".filter(e => e.type !== 'label').map(e => e.type).sort()")
    assert names == ["bpmn:Collaboration", "bpmn:EndEvent", "bpmn:Lane", "bpmn:Participant", "bpmn:SequenceFlow",
                     "bpmn:SequenceFlow", "bpmn:StartEvent", "bpmn:UserTask"]
    page.get_by_role("button", name="ตรวจสอบ").click()
    page.wait_for_function("() => document.querySelector('#editor-status').textContent.includes('ไม่พบปัญหา')")
    page.screenshot(path=str(shots / "editor-new.png"))
    context.close()


def test_only_analysts_reach_the_editor(server: tuple[str, World]) -> None:
    _base, world = server
    for user in ("officer", "supervisor"):
        page = Page(world.app.test_client())
        page.sign_in(user)
        for path in (f"/processes/{KEY}/edit", "/processes/new"):
            response = page.get(path)
            assert response.status_code == 403 and "เฉพาะนักวิเคราะห์กระบวนงาน" in page.html
            assert "ไม่มีสิทธิ์เข้าถึง" in page.html
        page.get("/")
        for path in (f"/processes/{KEY}/edit/drafts", f"/processes/{KEY}/edit/check",
                     f"/processes/{KEY}/edit/publish", f"/processes/{KEY}/edit/preview"):
            response = page.client.post(path, json={"xml": "<x/>", "forms": {}},
                                        headers={"X-CSRFToken": page.token()})
            assert response.status_code == 403, path
            assert "analyst" in response.get_json()["error"]["message"]
        api = world.api(user)
        assert api.get(f"/processes/{KEY}/drafts").status_code == 403
        assert api.post(f"/processes/{KEY}/drafts", json={"xml": "<x/>"}).status_code == 403
        assert api.post(f"/processes/{KEY}/validate", json={"xml": "<x/>"}).status_code == 403
        assert api.post(f"/processes/{KEY}/drafts/1/publish", json={}).status_code == 403
    assert world.api("analyst").get(f"/processes/{KEY}").get_json()["latest_version"] >= 1


def test_the_api_keeps_checks_and_publishes_drafts(server: tuple[str, World]) -> None:
    _base, world = server
    api = world.api("analyst")
    xml = api.get(f"/processes/{KEY}/bpmn").get_data(as_text=True)
    broken = xml.replace("<bpmn:flowNodeRef>first_step</bpmn:flowNodeRef>", "")
    saved = api.post(f"/processes/{KEY}/drafts", json={"xml": broken, "forms": {}, "note": "ทดลอง API"})
    assert saved.status_code == 201
    draft_id = saved.get_json()["id"]
    assert api.get(f"/processes/{KEY}/drafts").get_json()[0]["id"] == draft_id
    assert api.get(f"/processes/{KEY}/drafts/{draft_id}").get_json()["xml"] == broken
    problems = api.post(f"/processes/{KEY}/validate", json={"draft": draft_id}).get_json()["problems"]
    assert [p["element"] for p in problems] == ["first_step"] and problems[0]["line"]
    refused = api.post(f"/processes/{KEY}/drafts/{draft_id}/publish", json={"note": "ไม่ผ่าน"})
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["element"] == "first_step"
    hostile = api.post(f"/processes/{KEY}/drafts", json={"xml": "<x/>", "forms": {"../../etc/passwd": {}}})
    assert hostile.status_code == 422 and hostile.get_json()["error"]["details"][0]["field"] == "forms"
    assert api.get(f"/processes/{KEY}/drafts/999999").status_code == 404
    fixed = api.post(f"/processes/{KEY}/drafts", json={"xml": xml.replace("ขั้นที่ 1", "ยื่นใบลา")}).get_json()["id"]
    assert api.post(f"/processes/{KEY}/validate", json={"draft": fixed}).get_json() == {"problems": []}
    published = api.post(f"/processes/{KEY}/drafts/{fixed}/publish", json={"note": "ผ่าน API"})
    assert published.status_code == 201
    version = published.get_json()["version"]
    paths = world.api("analyst").get("/openapi.json").get_json()["paths"]
    assert {"/processes/{key}/drafts", "/processes/{key}/validate",
            "/processes/{key}/drafts/{draft_id}/publish"} <= set(paths)
    audit = Page(world.app.test_client())
    world.khanton.add_user("keeper", ["admin"], [], PASSWORD)
    audit.sign_in("keeper")
    audit.get("/admin/audit")
    assert "ผ่าน API" in audit.html and str(version) in audit.html


def test_a_draft_that_cannot_be_drawn_shows_its_problem_by_line(server: tuple[str, World], chromium: Any) -> None:
    base, world = server
    with world.khanton.db.transaction() as session:
        draft_id = save_draft(session, KEY, '<?xml version="1.0"?>\n<bpmn:definitions\n  broken', {}, "nipa")
    context = chromium.new_context(locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "nipa", PASSWORD)
    page.goto(f"{base}/processes/{KEY}/edit?draft={draft_id}")
    page.wait_for_selector("#editor-problems li")
    assert page.locator("body").get_attribute("data-editor-ready") == "failed"
    assert "บรรทัด" in page.locator("#editor-problems").inner_text()
    context.close()
