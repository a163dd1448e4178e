"""The analyst in a real browser: opens a procedure's versions, compares two and sees the changed
elements coloured on both diagrams, previews moving running work, moves the safe instances and sees
them moved (the unsafe one stays, with its reason). Screenshots for docs/analyst-guide.md."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import serving, sign_in
from tests.conftest import USERS, World
from tests.versions_world import KEY, instances_at, make_world, publish_v1, publish_v2

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("no_csp_violations")  # tests/web/conftest.py


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("versions-browser")
    world = make_world(f"sqlite:///{tmp / 'khanton.db'}", tmp)
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    publish_v1(world)
    at = instances_at(world)
    publish_v2(world)
    with serving(world.app) as base:
        yield base, world, at
    world.close()


def test_the_analyst_compares_versions_and_moves_the_safe_instances(
        server: tuple[str, World, dict[str, Any]], browser: Any, shots: Path) -> None:
    base, world, at = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "analyst")
    page.goto(f"{base}/processes/{KEY}")
    page.get_by_role("link", name="รุ่นและการย้ายงาน").click()
    page.wait_for_url(f"{base}/processes/{KEY}/versions")
    history = page.locator("#versions tbody tr")
    assert history.count() == 2
    newest = page.locator("#versions tr[data-version='2']")
    assert "ตัดขั้นตรวจเอกสาร" in newest.locator(".note").inner_text()
    assert page.locator("#versions tr[data-version='1'] .running").inner_text() == "3"
    page.screenshot(path=str(shots / "analyst-versions-history.png"), full_page=True)

    page.get_by_role("button", name="เปรียบเทียบสองรุ่นที่เลือก").click()
    page.wait_for_selector("#diagram-newer.drawn")
    page.wait_for_selector("#diagram-older.drawn")
    # Coloured on the diagrams: `notify` added (newer), `check` removed (older), `approve` changed (both).
    assert page.locator("#diagram-newer [data-element-id='notify'].diff-added").count() == 1
    assert page.locator("#diagram-older [data-element-id='check'].diff-removed").count() == 1
    assert page.locator("#diagram-newer [data-element-id='approve'].diff-changed").count() == 1
    assert page.locator("#diagram-older [data-element-id='approve'].diff-changed").count() == 1
    unchanged = page.locator("#diagram-newer [data-element-id='start']").first
    assert "diff" not in (unchanged.get_attribute("class") or "")
    colour = page.locator("#diagram-newer [data-element-id='notify'] .djs-visual rect").first.evaluate(
        "el => getComputedStyle(el).fill")
    assert colour == "rgb(216, 245, 224)"
    changes = page.locator("#element-changes").inner_text()
    assert "แจ้งผลการอนุมัติ" in changes and "ตรวจเอกสาร" in changes and "lane" in changes
    assert "จำนวนเงิน (บาท)" in page.locator("#comparison").inner_text()  # the form's new field
    page.locator("#comparison").screenshot(path=str(shots / "analyst-versions-compare.png"))

    # The preview: two can move, the one waiting at the removed step cannot, and says why.
    page.goto(f"{base}/processes/{KEY}/versions?to=2")
    safe = page.locator("#candidates tr.safe")
    unsafe = page.locator("#candidates tr.unsafe")
    assert safe.count() == 2 and unsafe.count() == 1
    assert "ตรวจเอกสาร" in unsafe.inner_text() and "ไม่มีในรุ่นที่ 2" in unsafe.inner_text()
    page.locator("#migration").screenshot(path=str(shots / "analyst-versions-preview.png"))
    page.get_by_role("button", name="ย้ายงานที่เลือกไปรุ่นที่ 2").click()
    page.wait_for_selector("#moved")
    assert "ย้ายไปรุ่นที่ 2 แล้ว 2 งาน" in page.locator("#moved").inner_text()
    assert page.locator("#candidates tr").count() == 2  # header + the one that could not move
    assert page.locator("#versions tr[data-version='2'] .running").inner_text() == "2"
    assert page.locator("#versions tr[data-version='1'] .running").inner_text() == "1"
    page.locator("#migration").screenshot(path=str(shots / "analyst-versions-moved.png"))
    # Any version downloads as a zip: the diagram and its forms as they were published.
    download = page.request.get(f"{base}/processes/{KEY}/versions/1/download")
    assert download.status == 200 and download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.body()))
    assert f"{KEY}.bpmn" in archive.namelist() and "forms/versions-demo/check.json" in archive.namelist()
    # The moved instance's page shows the move on its timeline.
    page.goto(f"{base}/instances/{at['fill']['id']}")
    assert "ย้ายรุ่น" in page.content()
    context.close()


def test_others_are_refused_in_thai_and_the_zip_holds_the_diagram_and_forms(
        server: tuple[str, World, dict[str, Any]], browser: Any) -> None:
    base, world, _ = server
    context = browser.new_context(locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "officer")
    response = page.goto(f"{base}/processes/{KEY}/versions")
    assert response is not None and response.status == 403
    assert "เฉพาะนักวิเคราะห์กระบวนงาน" in page.content()
    assert page.request.get(f"{base}/processes/{KEY}/versions/1/download").status == 403
    assert page.request.get(f"{base}/processes/nope/versions").status == 404
    context.close()
    api = world.api("analyst")
    compared = api.get(f"/processes/{KEY}/versions/1/compare/2").get_json()
    assert [e["element"] for e in compared["added"]] == ["notify"]
    assert world.api("officer").get(f"/processes/{KEY}/versions/1/compare/2").status_code == 403
