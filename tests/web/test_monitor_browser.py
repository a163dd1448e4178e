"""The supervisor in a real browser: signs in, opens ติดตามงาน from the menu, filters by procedure and
overdue, sorts by a column, pages on, and downloads the CSV of what is filtered, which is read back.
Takes the screenshots of docs/supervisor-guide.md (into docs/screenshots/ with KHANTON_SCREENSHOTS=docs)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from engine.models import HumanTask
from tests.browser import serving
from tests.conftest import USERS, World
from tests.drive import scenario
from tests.test_monitor import build_known

from .conftest import PASSWORD


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, dict[str, str]]]:
    """The five known instances, and 55 budget requests, every third overdue: three pages of 25 overdue."""
    world = World(f"sqlite:///{tmp_path_factory.mktemp('monitor-browser') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("anan", ["supervisor"], [], PASSWORD, "นายอนันต์ ติดตาม")
    world.khanton.add_user("somchai", ["officer"], ["plan_officer"], PASSWORD, "นายสมชาย ใจดี")
    ids = build_known(world)
    somchai = world.khanton.actor("somchai")
    late = datetime.now(UTC) - timedelta(days=2)
    for n in range(55):
        data = {**scenario("budget-request")["start"], "title": f"คำขอตั้งงบประมาณ โรงเรียนที่ {n + 1}"}
        started = world.khanton.start("budget-request", data, somchai)
        if n % 3 == 0:  # 19 overdue
            with world.khanton.db.transaction() as session:
                session.execute(update(HumanTask).where(HumanTask.instance_id == started["id"])
                                .values(due_at=late))
    with serving(world.app) as base:
        yield base, world, ids
    world.close()


def _rows(page: Any) -> list[str]:
    return [str(r) for r in page.locator("tr.monitor-row").evaluate_all("rows => rows.map(r => r.dataset.instance)")]


def test_the_supervisor_filters_sorts_pages_and_downloads(server: tuple[str, World, dict[str, str]], browser: Any,
                                                          shots: Path) -> None:
    base, world, ids = server
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="th-TH", accept_downloads=True)
    csp: list[str] = []
    context.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("ชื่อผู้ใช้").fill("anan")
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_load_state()

    page.get_by_role("link", name="ติดตามงาน", exact=True).first.click()
    page.wait_for_url(base + "/monitor")
    assert page.locator("#monitor-total").inner_text() == "พบ 60 รายการ"
    assert len(_rows(page)) == 50 and page.get_by_text("หน้า 1 จาก 2").is_visible()
    page.screenshot(path=str(shots / "monitor.png"), full_page=False)

    # Budget requests that are overdue: 19 of the 55 and the known one, which was claimed but is not late.
    page.locator("#filter-process").select_option("budget-request")
    page.locator("#filter-overdue").check()
    page.get_by_role("button", name="กรอง").click()
    page.wait_for_url("**overdue=1**")
    assert page.locator("#monitor-total").inner_text() == "พบ 19 รายการ"
    assert page.locator("tr.monitor-row .tag.overdue").count() == 19
    assert "process=budget-request" in page.url

    # Sorted by title, A to Z (a second click), then the back button: the list as it was.
    page.get_by_role("link", name="เรื่อง", exact=True).click()
    page.wait_for_url("**sort=title**")
    page.locator("a.sort-link[data-sort=title]").click()
    page.wait_for_url("**dir=asc**")
    titles = page.locator("tr.monitor-row a.instance-link").all_inner_texts()
    assert titles == sorted(titles) and titles[0] == "คำขอตั้งงบประมาณ โรงเรียนที่ 1"
    page.go_back()
    page.wait_for_url(lambda url: "dir=asc" not in url)
    assert page.locator("tr.monitor-row a.instance-link").all_inner_texts() == sorted(titles, reverse=True)

    # Pages of the whole filtered list: the address keeps the filter, the second page has the rest.
    page.goto(base + "/monitor?process=budget-request")
    assert page.locator("#monitor-total").inner_text() == "พบ 56 รายการ"
    first = _rows(page)
    page.get_by_role("link", name="ถัดไป →").click()
    page.wait_for_url("**page=2**")
    second = _rows(page)
    assert len(first) == 50 and len(second) == 6 and not set(first) & set(second)
    assert ids["claimed"] in first + second

    # The CSV of exactly the overdue budget requests, downloaded and read back.
    page.goto(base + "/monitor?process=budget-request&overdue=1")
    page.screenshot(path=str(shots / "monitor-filtered.png"), full_page=False)
    with page.expect_download() as waiting:
        page.locator("#export-csv").click()
    download = waiting.value
    assert download.suggested_filename.startswith("khanton-monitor-") and download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["รหัสกระบวนงานที่ดำเนินการ", "กระบวนงาน", "เรื่อง"] and len(rows) == 20
    assert all(r[10] == "เกินกำหนด" for r in rows[1:]) and all(r[7].endswith(("2569", "2570")) for r in rows[1:])
    assert {r[0] for r in rows[1:]} == set(_rows(page))

    # On a phone the table becomes cards and the filters stay usable.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="th-TH", is_mobile=True)
    small = phone.new_page()
    for cookie in context.cookies():
        phone.add_cookies([cookie])
    small.goto(base + "/monitor?overdue=1")
    assert small.locator("#monitor-total").is_visible()
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width
    small.screenshot(path=str(shots / "monitor-phone.png"), full_page=False)
    phone.close()
    context.close()
    assert csp == []
