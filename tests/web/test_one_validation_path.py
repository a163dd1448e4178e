"""The pages convert what a person typed; the engine alone validates it, with the instance's data.

Budget transfer step 5 ("จัดสรรเงินเหลือจ่าย") checks each transfer against the lines analysed in
step 3: through the pages it must see them as the API does. A refusal shows every problem beside its
field (what could not be converted and what the engine refuses, together) and keeps every typed
value; a conflict does too, and nothing is stored by either.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.conftest import World
from tests.drive import advance_to, start

from .conftest import PASSWORD, Page

ALLOCATE = {
    "transfers.0.from_line": "L1", "transfers.0.to_project": "ซ่อมแซมอาคารเรียน",
    "transfers.0.to_category": "งบลงทุน", "transfers.0.amount": "20,000.50", "transfers.0.reason": "หลังคารั่ว",
    "transfers.1.from_line": "L2", "transfers.1.to_project": "พัฒนาครู",
    "transfers.1.to_category": "งบดำเนินงาน", "transfers.1.amount": "10,000",
    "allocated_on": "25/11/2569", "allocation_summary": "โอนสองรายการ",
}


def _at_allocate(web: World, page: Page) -> tuple[str, str]:
    """An instance at step 5, the committee's (lines L1 and L2 analysed, through the API); its id and page."""
    instance = advance_to(web, start(web, "budget-transfer"), "allocate_leftover")
    url = f"/tasks/{instance['ready_tasks'][0]['id']}"
    page.get(url)
    return instance["id"], url


def _stored(web: World, instance_id: str) -> tuple[Any, int]:
    reader = web.khanton.actor("supervisor")
    return web.khanton.instance(instance_id, reader)["data"], len(web.khanton.timeline(instance_id, reader))


def _error(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}-error">([^<]*)<', html)
    return match.group(1) if match else ""


def test_step_5_takes_the_lines_analysed_in_step_3(web: World, page_as: Any) -> None:
    page = page_as("committee")
    instance_id, url = _at_allocate(web, page)
    response = page.post(url, ALLOCATE)
    assert response.status_code == 302, _error(page.html, "transfers-0-from_line")
    data, _ = _stored(web, instance_id)
    assert [t["amount"] for t in data["transfers"]] == [20000.5, 10000.0]
    assert data["allocated_on"] == "2026-11-25"


def test_a_line_not_analysed_is_refused_beside_its_field_with_the_values_kept(web: World, page_as: Any) -> None:
    page = page_as("committee")
    instance_id, url = _at_allocate(web, page)
    before = _stored(web, instance_id)
    response = page.post(url, {**ALLOCATE, "transfers.1.from_line": "L9"})
    assert response.status_code == 422
    assert _error(page.html, "transfers-1-from_line") == "ไม่มีรายการ L9 ในผลการวิเคราะห์"
    assert _error(page.html, "transfers-0-from_line") == ""
    assert 'value="L9"' in page.html and 'value="20,000.50"' in page.html and "หลังคารั่ว" in page.html
    assert _stored(web, instance_id) == before


def test_what_cannot_be_converted_and_what_the_engine_refuses_show_together(web: World, page_as: Any) -> None:
    page = page_as("committee")
    instance_id, url = _at_allocate(web, page)
    before = _stored(web, instance_id)
    typed = {**ALLOCATE, "transfers.0.amount": "สองหมื่น", "transfers.1.to_project": "", "allocated_on": "31/02/2569"}
    response = page.post(url, typed)
    assert response.status_code == 422
    assert _error(page.html, "transfers-0-amount") == "กรุณากรอกเป็นตัวเลข"          # conversion
    assert _error(page.html, "allocated_on") == "ไม่มีวันที่นี้ในปฏิทิน"               # conversion
    assert _error(page.html, "transfers-1-to_project") == "กรุณากรอกข้อมูลนี้"        # the engine's
    assert "กรุณาแก้ไข 3 รายการ" in page.html
    assert 'value="สองหมื่น"' in page.html and 'value="31/02/2569"' in page.html and 'value="L2"' in page.html
    assert _stored(web, instance_id) == before


def test_start_form_shows_conversion_and_engine_refusals_together(web: World, page_as: Any) -> None:
    page = page_as("officer")
    page.get("/processes/budget-transfer")
    response = page.post("/processes/budget-transfer", {"fiscal_year": "2570", "round_no": "สอง",
                                                        "title": "x" * 201})
    assert response.status_code == 422
    assert _error(page.html, "round_no") == "กรุณากรอกเป็นตัวเลข"
    assert _error(page.html, "title").endswith("ยาวได้ไม่เกิน 200 ตัวอักษร")
    assert 'value="สอง"' in page.html
    assert web.khanton.instances(web.khanton.actor("supervisor")) == []


def test_a_real_conflict_shows_who_did_it_and_keeps_every_typed_value(web: World, page_as: Any) -> None:
    web.khanton.add_user("malee", ["officer"], ["committee"], PASSWORD, "นางมาลี ทำงานไว")
    page = page_as("committee")
    instance_id, url = _at_allocate(web, page)
    # The same step, done by a colleague while this page was open.
    colleague = web.khanton.actor("malee")
    web.khanton.complete(url.rsplit("/", 1)[1], {
        "transfers": [{"from_line": "L1", "to_project": "อื่น", "to_category": "งบลงทุน", "amount": 1.0}],
        "allocated_on": "2026-11-24"}, colleague)
    after = _stored(web, instance_id)
    response = page.post(url, ALLOCATE)
    assert response.status_code == 409
    assert "ขั้นตอนนี้บันทึกไปแล้วโดย นางมาลี ทำงานไว" in page.html
    kept = page.html[page.html.index('id="kept"'):]
    for value in ("L1", "ซ่อมแซมอาคารเรียน", "งบลงทุน", "20,000.50", "หลังคารั่ว", "L2", "พัฒนาครู",
                  "10,000", "25/11/2569", "โอนสองรายการ"):
        assert f"<dd>{value}</dd>" in kept, value
    assert "รายการโอนเปลี่ยนแปลงงบประมาณ แถวที่ 2: จำนวนเงิน (บาท)" in kept
    assert _stored(web, instance_id) == after


def test_a_table_of_bad_rows_is_refused_in_bounded_time_with_nothing_stored(web: World, page_as: Any) -> None:
    """Hostile input is normal input: 500 rows of unreadable amounts and unknown columns, one 422."""
    page = page_as("committee")
    instance_id, url = _at_allocate(web, page)
    before = _stored(web, instance_id)
    rows = {f"transfers.{i}.{col}": value for i in range(500)
            for col, value in (("from_line", "L1 ?"), ("amount", "x"), ("to_category", "งบอื่น"), ("reason", "ก"))}
    began = time.perf_counter()
    response = page.post(url, {**rows, "allocated_on": "25/11/2569"})
    elapsed = time.perf_counter() - began
    assert response.status_code == 422
    assert _error(page.html, "transfers-499-amount") == "กรุณากรอกเป็นตัวเลข"
    assert elapsed < 5, f"{elapsed:.1f} s"  # measured 0.7 s on a loaded 2-core machine
    assert _stored(web, instance_id) == before
