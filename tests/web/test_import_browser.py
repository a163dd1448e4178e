"""In a real browser (Debian's chromium): an analyst uploads a diagram drawn in Camunda Modeler on
/processes/import and lands on the result, the draft's problems listed in Thai with element and line,
and the way on to the editor; a file that cannot be read is refused with the reason. Only analysts
reach the page. Screenshots for docs/analyst-guide.md (KHANTON_SCREENSHOTS=docs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import ProcessDraft
from tests.browser import serving, sign_in
from tests.conftest import ROOT, USERS, World

from .conftest import PASSWORD

DATA = ROOT / "tests" / "data" / "import"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('import-browser') / 'khanton.db'}", load=False)
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    with serving(world.app) as base:
        yield base, world
    world.close()


def test_an_analyst_imports_a_camunda_diagram_and_sees_its_problems(server: tuple[str, World], chromium: Any,
                                                                   shots: Path, tmp_path: Path) -> None:
    base, world = server
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    refused_by_csp: list[str] = []
    page.on("console", lambda m: refused_by_csp.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, base, "analyst", PASSWORD)
    page.get_by_role("link", name="นำเข้าแผนภาพ").first.click()
    page.wait_for_url(base + "/processes/import")

    # A file that cannot be read at all: refused, with the reason, and no draft.
    bomb = tmp_path / "bomb.bpmn"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><definitions/>', encoding="utf-8")
    page.get_by_label("ไฟล์ BPMN").set_input_files(str(bomb))
    page.get_by_role("button", name="นำเข้าเป็นฉบับร่าง").click()
    assert "DOCTYPE" in page.locator("#import-error").inner_text()

    page.get_by_label("ไฟล์ BPMN").set_input_files(str(DATA / "camunda-modeler-5.bpmn"))
    page.screenshot(path=str(shots / "import-upload.png"), full_page=True)
    page.get_by_role("button", name="นำเข้าเป็นฉบับร่าง").click()
    page.wait_for_url(re.compile(r".*/processes/import/\d+$"))
    draft = int(page.url.rsplit("/", 1)[1])

    rows = page.locator("#import-problems tbody tr")
    assert rows.count() == 5
    flow_no = page.locator('#import-problems tr[data-element="Flow_No"]')
    assert "ทางปริยาย" in flow_no.inner_text() and "60" in flow_no.inner_text()
    assert "khanton lane add Lane_Officer" in page.locator('tr[data-element="Lane_Officer"]').inner_text()
    assert "Camunda" in page.locator(".import-notes").inner_text()
    editor = page.locator("#open-editor")
    assert editor.get_attribute("href") == f"/processes/process-purchase/edit?draft={draft}"
    page.screenshot(path=str(shots / "import-result.png"), full_page=True)

    with world.khanton.db.transaction(read_only=True) as session:
        row = session.scalars(select(ProcessDraft).where(ProcessDraft.id == draft)).one()
        assert (row.key, row.author) == ("process-purchase", "analyst")
        assert "camunda-modeler-5.bpmn" in row.note
        assert session.scalars(select(ProcessDraft)).all() == [row]  # the refused file left nothing

    # On a phone the problems stay readable.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="th-TH",
                                 storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(f"{base}/processes/import/{draft}")
    assert small.locator("#import-problems").is_visible()
    wide = small.evaluate("[...document.querySelectorAll('body *')]"
                          ".filter(e => e.getBoundingClientRect().right > 391)"
                          ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
                          ".slice(0, 8)")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390 + 1, wide
    phone.close()
    context.close()
    assert refused_by_csp == []


def test_only_analysts_reach_the_import(server: tuple[str, World], chromium: Any) -> None:
    base, _ = server
    context = chromium.new_context(locale="th-TH")
    page = context.new_page()
    sign_in(page, base, "officer", PASSWORD)
    assert page.goto(base + "/processes/import").status == 403
    assert page.get_by_role("link", name="นำเข้าแผนภาพ").count() == 0
    context.close()


OPEN_IN_BPMN_JS = """async (xml) => {
  const container = document.createElement('div');
  container.style.width = '1200px'; container.style.height = '800px';
  document.body.appendChild(container);
  const viewer = new BpmnJS({container});
  const {warnings} = await viewer.importXML(xml);
  const drawn = viewer.get('elementRegistry').getAll().map(e => e.id);
  return {warnings: warnings.map(w => w.message), drawn};
}"""


@pytest.mark.parametrize("name", ["bizagi-pools.bpmn", "visio-no-di.bpmn"])
def test_bpmn_js_opens_what_the_import_laid_out(server: tuple[str, World], chromium: Any, name: str) -> None:
    """A file without diagram interchange, laid out by the import, opens in bpmn-js with every step,
    flow, lane and pool drawn and no warning."""
    from engine.authoring import importing

    base, world = server
    imported = importing.import_diagram(world.khanton.db, world.khanton.forms_dir, (DATA / name).read_bytes(),
                                        "analyst", None, name)
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(ProcessDraft, imported.draft)
        assert row is not None
        xml = row.xml
    context = chromium.new_context()
    page = context.new_page()
    page.goto(base + "/login")
    page.add_script_tag(url=base + "/vendor/bpmn-js/bpmn-viewer.production.min.js")
    opened = page.evaluate(OPEN_IN_BPMN_JS, xml)
    context.close()
    assert opened["warnings"] == []
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    process = next(p for p in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
                   if p.get("id") == imported.key)
    wanted = {c.get("id") for c in process.iter() if isinstance(c.tag, str) and c.get("id")
              and etree.QName(c).localname in importing.STEPS | {"sequenceFlow", "lane"}}
    assert wanted and wanted <= set(opened["drawn"]), wanted - set(opened["drawn"])
