"""The instance page (issue 9): in a real browser a supervisor sees the diagram with its steps marked done,
current and overdue and the way taken, the called sub-process on a tab of its own, the steps' Gantt
chart and table with the return loop; an admin suspends and resumes the instance through the page.
Through the test client: the repair forms are for admins only, and need their confirmation.
Takes the screenshots of docs/supervisor-guide.md and docs/admin-guide.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from engine.models import HumanTask
from tests import drive
from tests.browser import WatchedBrowser, serving, sign_in
from tests.conftest import ROOT, USERS, World

from .conftest import PASSWORD, Page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, str]]:
    """A budget allocation returned once by the director, now at the schools' rounds, one overdue."""
    world = World(f"sqlite:///{tmp_path_factory.mktemp('instance') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("keeper", ["admin"], [], PASSWORD, "นางสาวนิภา ดูแลระบบ")
    # A history spread over two weeks, as it would be: each round done a day and five hours after it was
    # ready (lived through with a moved clock: events are append-only, so they cannot be backdated after).
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=16)
    with time_machine.travel(moment, tick=True) as clock:
        instance = drive.start(world, "budget-allocation")
        for decision in (None, None, None, "returned", None, "approved"):
            moment += timedelta(days=1, hours=5)
            clock.move_to(moment)
            _, instance = drive.step(world, instance, decision)
    with world.khanton.db.transaction() as session:
        late = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance["id"],
                                                       HumanTask.status == "ready")).first()
        assert late is not None
        late.due_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    with serving(world.app) as base:
        yield base, world, instance["id"]
    world.close()


def _page(world: World, username: str) -> Page:
    page = Page(world.app.test_client())
    assert page.sign_in(username).status_code == 302
    return page


def test_the_page_shows_steps_chart_and_repairs_for_admins_only(server: tuple[str, World, str]) -> None:
    _, world, instance_id = server
    supervisor = _page(world, "supervisor")
    assert supervisor.get(f"/instances/{instance_id}").status_code == 200
    html = supervisor.html
    assert '<svg class="gantt"' in html and 'class="gantt-row gantt-returned"' in html and "รอบแก้ไข 1" in html
    assert "รอบที่ 2" in html and 'data-step="notify_allocation" data-round="2"' in html
    assert "รอบแก้ไขที่ 1" in html and "ส่งกลับแก้ไข" in html
    assert 'id="repair"' not in html  # a supervisor reads, and changes nothing
    assert supervisor.get(f"/instances/{instance_id}/diagram.json").status_code == 200
    body = supervisor.client.get(f"/instances/{instance_id}/diagram.json").get_json()
    assert [p["key"] for p in body["processes"]] == ["budget-allocation", "monitor-and-report"]
    supervisor.get(f"/instances/{instance_id}")
    refused = supervisor.post(f"/instances/{instance_id}/repair/suspend", {"reason": "x", "confirm": "yes"})
    assert refused.status_code == 403
    assert _page(world, "outsider").get(f"/instances/{instance_id}/diagram.json").status_code == 403
    admin = _page(world, "keeper")
    admin.get(f"/instances/{instance_id}")
    assert 'id="repair"' in admin.html and 'name="confirm"' in admin.html
    unconfirmed = admin.post(f"/instances/{instance_id}/repair/suspend", {"reason": "ทดสอบ"})
    assert unconfirmed.status_code == 422 and "ยืนยัน" in admin.html
    admin.get(f"/instances/{instance_id}")
    bad_value = admin.post(f"/instances/{instance_id}/repair/correct",
                           {"field": "received_budget", "value": "สองล้าน", "reason": "พิมพ์ผิด", "confirm": "yes"})
    assert bad_value.status_code == 422 and "ตัวเลข" in admin.html
    admin.get(f"/instances/{instance_id}")
    assert admin.post(f"/instances/{instance_id}/repair/nothing", {"confirm": "yes"}).status_code == 404
    # An instance in error says why, in words, and offers the admin a retry.
    xml = (ROOT / "tests/data/repair-loop.bpmn").read_bytes()
    assert world.api("analyst").put("/processes/repair-loop/bpmn", data=xml,
                                    content_type="application/xml").status_code in (200, 201)
    stuck = world.api("officer").post("/instances", json={"process": "repair-loop", "data": {}}).get_json()
    admin.get(f"/instances/{stuck['id']}")
    assert 'id="error"' in admin.html and "กระบวนงานนี้ขัดข้อง" in admin.html and "ระบบหยุดกระบวนงานนี้ไว้" in admin.html
    assert 'data-repair="retry"' in admin.html and 'data-repair="suspend"' not in admin.html
    assert world.api("supervisor").get(f"/instances/{instance_id}").get_json()["status"] == "running"


def test_a_supervisor_sees_the_diagram_marked(server: tuple[str, World, str], browser: WatchedBrowser,
                                             shots: Path) -> None:
    base, _, instance_id = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/instances/{instance_id}")
    page.wait_for_selector('[data-diagram-ready="1"]', timeout=30000)
    main = page.locator('.diagram-pane[data-process="budget-allocation"]')
    for step in ("appoint_committee", "analyze_allocation", "notify_allocation", "sign_notice"):
        assert main.locator(f'.djs-element.k-done[data-element-id="{step}"]').count() == 1, step
    assert main.locator('.djs-element.k-current[data-element-id="school_projects"]').count() == 1
    assert main.locator('.djs-element.k-overdue[data-element-id="school_projects"]').count() == 1
    assert main.locator('.djs-element.k-done[data-element-id="collect_projects"]').count() == 0
    assert main.locator(".djs-connection.k-taken").count() >= 5
    assert main.locator(".djs-connection.k-loop").count() >= 1  # the way back of the return
    assert page.locator("svg.gantt rect.gantt-bar").count() >= 7
    assert page.locator(".diagram-legend").inner_text().count("\n") >= 2
    page.locator("#diagram").screenshot(path=str(shots / "instance-diagram.png"))
    page.locator("#steps").screenshot(path=str(shots / "instance-steps.png"))
    # The called sub-process on its own tab.
    page.get_by_role("tab", name="กระบวนงานย่อย: ติดตาม ประเมินผล และรายงานผล").click()
    called = page.locator('.diagram-pane[data-process="monitor-and-report"]')
    assert called.is_visible() and not main.is_visible()
    assert called.locator('.djs-element[data-element-id="mr_monitor"]').count() == 1
    context.close()
    # On a phone the diagram stays inside its box, which scrolls and zooms by itself.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="th-TH", is_mobile=True,
                                has_touch=True)
    page = phone.new_page()
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/instances/{instance_id}")
    page.wait_for_selector('[data-diagram-ready="1"]', timeout=30000)
    box = page.locator(".diagram-box").bounding_box()
    assert box is not None and box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.locator("#diagram").screenshot(path=str(shots / "instance-phone.png"))
    phone.close()


def test_an_admin_suspends_and_resumes_through_the_page(server: tuple[str, World, str], browser: WatchedBrowser,
                                                        shots: Path) -> None:
    base, world, instance_id = server
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "keeper")
    page.goto(f"{base}/instances/{instance_id}")
    form = page.locator('form[data-repair="suspend"]')
    form.get_by_label("เหตุผล").fill("รอตรวจสอบหนังสือแจ้งจัดสรรฉบับแก้ไข")
    form.locator("#repair").count()
    page.locator("#repair").screenshot(path=str(shots / "instance-repair.png"))
    form.get_by_role("button", name="ระงับชั่วคราว").click()
    assert page.url.endswith(f"/instances/{instance_id}")  # the confirmation box is required: nothing sent
    form.get_by_label("ยืนยันว่าต้องการดำเนินการนี้").check()
    form.get_by_role("button", name="ระงับชั่วคราว").click()
    page.wait_for_selector("#suspended")
    assert "ระงับกระบวนงานไว้ชั่วคราวแล้ว" in page.locator(".flash").first.inner_text()
    assert "รอตรวจสอบหนังสือแจ้งจัดสรรฉบับแก้ไข" in page.locator("#history").inner_text()
    assert world.api("supervisor").get(f"/instances/{instance_id}").get_json()["status"] == "suspended"
    page.screenshot(path=str(shots / "instance-suspended.png"))
    resume = page.locator('form[data-repair="resume"]')
    resume.get_by_label("ยืนยันว่าต้องการดำเนินการนี้").check()
    resume.get_by_role("button", name="ให้ดำเนินการต่อ").click()
    page.wait_for_selector("text=ให้กระบวนงานดำเนินการต่อแล้ว")
    assert page.locator("#suspended").count() == 0
    assert world.api("supervisor").get(f"/instances/{instance_id}").get_json()["status"] == "running"
    kinds = [e["kind"] for e in world.api("supervisor").get(f"/instances/{instance_id}/timeline").get_json()]
    assert kinds[-2:] == ["suspended", "resumed"]
    context.close()
