"""In a real browser: the supervisor opens the dashboard from their menu, picks a procedure and a fiscal
year, and sees the charts of time per step and per lane (one step done twice after a return), the
counts, the overdue work and the work per person — drawn by the server, within the page's CSP, and
readable on a phone. Then the instance page's link gives the official record PDF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import update

from engine.models import HumanTask, User
from tests.browser import serving, sign_in
from tests.conftest import USERS, World
from tests.drive import scenario, start, step
from tests.web.conftest import PASSWORD

NAMES = {"officer": "นายสมชาย ใจดี — นักวิเคราะห์นโยบายและแผน", "committee": "นางสาวสุดา รักงาน",
         "head": "นางวรรณา ตั้งใจ — ผู้อำนวยการกลุ่มนโยบายและแผน", "director": "นายประเสริฐ ศรีตาก — ผอ.สพป.",
         "supervisor": "นายอนันต์ ติดตาม — ผู้กำกับติดตาม"}
BEGIN = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _work(world: World) -> str:
    """Three budget transfers of 2570 moved on at known hours (the board returned the third once),
    one of 2569; the third's first step overdue. Returns the returned one's id."""
    steps = scenario("budget-transfer")["steps"]
    returned_id = ""
    for n in range(3):
        with time_machine.travel(BEGIN + timedelta(days=n), tick=False) as clock:
            instance = start(world, "budget-transfer", {"fiscal_year": 2570, "title": f"โอนงบประมาณ ครั้งที่ {n + 1}/2570"})
            for k in range((4, 6, 14)[n]):
                clock.shift(timedelta(hours=2 + 5 * ((n + k) % 4)))
                ready = instance["ready_tasks"][0]
                detail = world.api("supervisor").get(f"/tasks/{ready['id']}").get_json()
                decision = "returned" if detail["step"] == "board_approval" and not returned_id else None
                _, instance = step(world, instance, decision=decision, steps=steps)
                returned_id = instance["id"] if decision else returned_id
    start(world, "budget-transfer", {"fiscal_year": 2569, "title": "โอนงบประมาณ ครั้งที่ 1/2569"})
    with world.khanton.db.transaction() as session:
        session.execute(update(HumanTask).where(HumanTask.status == "ready")
                        .values(due_at=datetime.now(UTC) - timedelta(days=1)))
        for name, display in NAMES.items():
            session.execute(update(User).where(User.username == name).values(display_name=display))
    return returned_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, str]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    returned = _work(world)
    with serving(world.app) as base:
        yield base, world, returned
    world.close()


def test_the_supervisor_reads_the_dashboard(server: tuple[str, World, str], chromium: Any, shots: Path) -> None:
    base, _, _ = server
    context = chromium.new_context(locale="th-TH", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, base, "supervisor", PASSWORD)
    page.get_by_role("link", name="ภาพรวมการดำเนินงาน").click()
    page.wait_for_url(base + "/monitor/dashboard")
    page.get_by_label("กระบวนงาน", exact=True).select_option("budget-transfer")
    page.get_by_role("button", name="แสดง").click()  # the years offered are the procedure's (no script)
    page.wait_for_url(base + "/monitor/dashboard?process=budget-transfer&fiscal_year=")
    page.get_by_label("ปีงบประมาณ (พ.ศ.)").select_option("2570")
    page.get_by_role("button", name="แสดง").click()
    page.wait_for_url(base + "/monitor/dashboard?process=budget-transfer&fiscal_year=2570")
    assert page.locator("#dash-summary .dash-number").first.inner_text() == "3"
    steps = page.locator("#chart-steps")
    assert steps.get_attribute("role") == "img" and steps.is_visible()
    names = page.locator("#chart-steps .chart-label").all_text_contents()
    # The board returned the third for revision: its allocation was done twice, and the board sat twice.
    assert any(n.startswith("จัดสรรเงินเหลือจ่าย") and n.endswith("(2)") for n in names), names
    assert page.locator("#chart-steps .bar-median").count() == len(names) > 3
    assert page.locator("#chart-lanes .bar-p90").count() >= 2
    assert "เจ้าหน้าที่กลุ่มนโยบายและแผน" in (page.locator("#chart-lanes").text_content() or "")  # lanes by their Thai names
    assert page.locator("#dash-overdue tbody tr").count() == 3
    assert "นายสมชาย ใจดี" in page.locator("#dash-people").inner_text()
    assert not refused
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    context.close()


def test_on_a_phone_the_charts_fit_and_the_record_is_linked(server: tuple[str, World, str], chromium: Any,
                                                            shots: Path) -> None:
    base, _, returned = server
    context = chromium.new_context(locale="th-TH", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, base, "supervisor", PASSWORD)
    page.goto(base + "/monitor/dashboard?process=budget-transfer&fiscal_year=2570")
    box = page.locator("#chart-steps").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    label = page.locator("#chart-steps .chart-label").first.bounding_box()
    assert label is not None and label["height"] >= 10  # text that stays readable
    page.screenshot(path=str(shots / "dashboard-phone.png"), full_page=False)
    page.goto(f"{base}/instances/{returned}")
    link = page.get_by_role("link", name="พิมพ์บันทึกข้อความ (PDF)")
    assert link.get_attribute("href") == f"/instances/{returned}/record.pdf"
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
    context.close()
