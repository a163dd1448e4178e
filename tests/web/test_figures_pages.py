"""The task page for computed figures, signed documents and the manual's step, in a real browser.

A plan officer opens a step whose form computes each line's leftover and their total: the figures
appear read-only as they type, the server stores what it computed; a step that records an outside
body's decision says which signed document it needs, refuses to save without one, and saves once a
PDF is attached through the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import serving, sign_in
from tests.conftest import USERS, World

from .conftest import PASSWORD

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "figures"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[tuple[str, World, Any]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('figures') / 'khanton.db'}",
                  FIXTURE / "processes", FIXTURE / "forms")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    with serving(world.app) as base:
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_in(page, base, "officer")
        yield base, world, page
        # A CSP refusal or a script error shows in the console (the refusals' 422s are expected there).
        assert [e for e in errors if "status of 422" not in e] == [], errors
        context.close()
    world.close()


def _start(world: World, received: float) -> dict[str, Any]:
    return world.khanton.start("figures-demo", {"title": "ทดสอบ", "budget_received": received},
                               world.khanton.actor("officer"))


def test_figures_appear_as_the_officer_types_and_the_server_stores_its_own(site: tuple[str, World, Any]) -> None:
    base, world, page = site
    instance = _start(world, 100_000)
    page.goto(f"{base}/tasks/{instance['ready_tasks'][0]['id']}")
    assert "ตามคู่มือการปฏิบัติงาน ข้อ 3.4 ขั้นที่ 3" in page.locator(".page-head").inner_text()
    leftover, total = page.locator('[name="lines.0.leftover"]'), page.locator('[name="total_leftover"]')
    assert leftover.get_attribute("readonly") is not None and total.get_attribute("readonly") is not None
    page.locator('[name="lines.0.project"]').fill("โครงการ ก")
    page.locator('[name="lines.0.allocated"]').fill("150,000.50")
    page.locator('[name="lines.0.spent"]').fill("100,000.25")
    assert leftover.input_value() == "50,000.25"
    page.locator('fieldset[data-table="lines"] [data-add-row]').click()
    page.locator('[name="lines.1.project"]').fill("โครงการ ข")
    page.locator('[name="lines.1.allocated"]').fill("20000")
    page.locator('[name="lines.1.spent"]').fill("15000")
    assert page.locator('[name="lines.1.leftover"]').input_value() == "5,000.00"
    assert total.input_value() == "55,000.25"
    with page.expect_navigation():
        page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    data = world.khanton.instance(instance["id"], world.khanton.actor("supervisor"))["data"]
    assert [line["leftover"] for line in data["lines"]] == [50000.25, 5000.0]
    assert data["total_leftover"] == 55000.25


def test_totals_per_category_appear_as_the_officer_types(site: tuple[str, World, Any]) -> None:
    base, world, page = site
    instance = world.khanton.start("categories-demo", {}, world.khanton.actor("officer"))
    page.goto(f"{base}/tasks/{instance['ready_tasks'][0]['id']}")
    add_line = page.locator('fieldset[data-table="lines"] [data-add-row]')
    for index, (category, amount) in enumerate([("งบลงทุน", "1,000.50"), ("งบดำเนินงาน", "200"),
                                                 ("งบลงทุน", "99.50")]):
        if index:
            add_line.click()
        page.locator(f'[name="lines.{index}.budget_category"]').select_option(category)
        page.locator(f'[name="lines.{index}.amount"]').fill(amount)
    page.locator('[name="category_totals.0.budget_category"]').select_option("งบลงทุน")
    invest = page.locator('[name="category_totals.0.amount"]')
    assert invest.get_attribute("readonly") is not None
    assert invest.input_value() == "1,100.00"
    page.locator('fieldset[data-table="category_totals"] [data-add-row]').click()
    page.locator('[name="category_totals.1.budget_category"]').select_option("งบดำเนินงาน")
    assert page.locator('[name="category_totals.1.amount"]').input_value() == "200.00"
    page.locator('[name="lines.1.budget_category"]').select_option("งบลงทุน")  # moved: both totals follow
    assert invest.input_value() == "1,300.00"
    assert page.locator('[name="category_totals.1.amount"]').input_value() == "0.00"
    page.locator('[name="lines.1.budget_category"]').select_option("งบดำเนินงาน")
    with page.expect_navigation():
        page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    data = world.khanton.instance(instance["id"], world.khanton.actor("supervisor"))["data"]
    assert [row["amount"] for row in data["category_totals"]] == [1100.0, 200.0]


def test_a_total_over_the_budget_received_is_refused_beside_the_field(site: tuple[str, World, Any]) -> None:
    base, world, page = site
    instance = _start(world, 1_000)
    task_id = instance["ready_tasks"][0]["id"]
    page.goto(f"{base}/tasks/{task_id}")
    page.locator('[name="lines.0.project"]').fill("โครงการ ก")
    page.locator('[name="lines.0.allocated"]').fill("5000")
    page.locator('[name="lines.0.spent"]').fill("1000")
    with page.expect_navigation():
        page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    message = page.locator("#f-total_leftover-error").inner_text()
    assert "เกินงบประมาณที่ได้รับ (1,000.00 บาท)" in message
    assert page.locator('[name="lines.0.allocated"]').input_value() in ("5000", "5,000.00")  # kept as typed
    assert world.khanton.task(task_id, world.khanton.actor("supervisor"))["status"] == "ready"


def test_a_signed_document_is_asked_for_refused_without_and_accepted_when_attached(
        site: tuple[str, World, Any], tmp_path: Path) -> None:
    base, world, page = site
    instance = _start(world, 100_000)
    officer = world.khanton.actor("officer")
    after = world.khanton.complete(instance["ready_tasks"][0]["id"], {"lines": [
        {"project": "ก", "allocated": 10, "spent": 5}]}, officer)
    task_id = after["ready_tasks"][0]["id"]
    page.goto(f"{base}/tasks/{task_id}")
    assert "ต้องแนบ หนังสือหรือมติที่ลงนามแล้ว (PDF, JPG, PNG)" in page.locator("#signed-document").inner_text()
    page.get_by_label("เลขที่หนังสือ / มติที่ประชุม").fill("ศธ 04001/77")
    with page.expect_navigation():
        page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    assert "กรุณาแนบหนังสือหรือมติที่ลงนามแล้ว" in page.locator(".error-summary").inner_text()
    scan = tmp_path / "มติ กพท.pdf"
    scan.write_bytes(b"%PDF-1.4\n% signed resolution\n")
    page.locator("#attach-file").set_input_files(str(scan))
    with page.expect_navigation():
        page.get_by_role("button", name="แนบไฟล์").click()
    page.get_by_label("เลขที่หนังสือ / มติที่ประชุม").fill("ศธ 04001/77")
    with page.expect_navigation():
        page.get_by_role("button", name="บันทึกและส่งต่อ").click()
    assert world.khanton.instance(instance["id"], world.khanton.actor("supervisor"))["status"] == "completed"
