"""Stored XSS, template and formula injection: hostile text typed into everything a person can name
(an instance's title and form fields, a hand-over note, a terminate reason, a task's draft, a person's
display name, a school, a lane, a holiday, a draft's and a version's note, an attachment's file name)
comes back as text on every page of every role's menus, on every instance page, in the CSV and Excel
exports and in the official record PDF: never as an element, an event handler, a javascript: link, an
evaluated template or a spreadsheet formula.
"""

from __future__ import annotations

import csv as csv_module
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from typing import Any
from xml.sax.saxutils import quoteattr

import openpyxl
import pytest

from tests import battery
from tests.conftest import PASSWORD, World, WorldTemplate
from tests.drive import SIGNED_PDF, data_for, scenario

from .hostile_requests import crawl, elements, module_world, signed_in

# One line of every hostile kind, short enough for a 200-character title: a script, an attribute
# break-out with an event handler, a javascript: URL, a textarea break-out, Jinja-looking text whose
# evaluation would show "XSS49", a spreadsheet formula, Thai with a right-to-left override and zero-width chars.
PAYLOAD = ("<script>alert(1)</script>\"'><img src=x onerror=alert(2)>javascript:alert(3)</textarea>"
           "XSS{{7*7}}{%raw%}=cmd|' /C calc'!A0 ก\u202eขค\u200bง\u200d")
NAME = PAYLOAD[:90]  # names have shorter limits; the first 90 characters still hold every HTML kind
# A file name keeps only its last path part, so its payload has no slash.
FILE_NAME = "'><img src=x onerror=alert(2)><script>alert(1)XSS{{7*7}} =cmd| ก\u202eฟดp\u200b.pdf"
FORMULAS = ("=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+HYPERLINK(\"http://evil.example\")",
            "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")
SCRIPT_SOURCES = ("/static/", "/vendor/")
ROLES = ("officer", "school", "head", "analyst", "supervisor", "xadmin")


@pytest.fixture(scope="module")
def hostile(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A world where every nameable thing holds the payload, stored through the pages and the API."""
    world = module_world(world_template, tmp_path_factory, "xss")
    khanton = world.khanton
    khanton.add_user("xadmin", ["admin"], [], password=PASSWORD, display_name=NAME)
    khanton.add_user("hostile", ["officer"], ["plan_officer"], password=PASSWORD, display_name=NAME)
    stored = 0
    admin = signed_in(world, "xadmin")
    for path, form in (("/admin/schools", {"code": "1063019998", "name": NAME, "district": NAME}),
                       ("/admin/lanes", {"key": "xss_lane", "name": NAME}),
                       ("/admin/holidays", {"day": "2026-12-28", "name": NAME, "kind": "holiday"})):
        admin.get(path)
        assert admin.post(path, form).status_code == 302, (path, admin.html[:2000])
        stored += 1
    officer = world.api("officer")
    started = officer.post("/instances", {"process": "budget-transfer",
                                          "data": {"fiscal_year": 2570, "title": PAYLOAD}})
    assert started.status_code == 201, started.json
    instance = started.json["id"]
    task = started.json["ready_tasks"][0]["id"]
    assert officer.client.put(f"/api/v1/tasks/{task}/draft", json={"data": {"leftover_guidelines": PAYLOAD}},
                              headers=officer.headers).status_code == 200
    upload = officer.client.post(f"/api/v1/tasks/{task}/attachments", headers=officer.headers,
                                 data={"file": (io.BytesIO(SIGNED_PDF), FILE_NAME)})
    assert upload.status_code == 201, upload.json
    form = officer.get(f"/tasks/{task}").json
    done = officer.post(f"/tasks/{task}/complete", {"data": _hostile_data(form)})
    assert done.status_code == 200, done.json
    stored += 5
    khanton.delegate(khanton.actor("head"), "hostile", "acting", date(2026, 12, 1), date(2026, 12, 31), note=PAYLOAD)
    for formula in FORMULAS:
        assert officer.post("/instances", {"process": "budget-transfer",
                                           "data": {"fiscal_year": 2570, "title": formula}}).status_code == 201
    victim_started = officer.post("/instances", {"process": "budget-transfer",
                                                 "data": {"fiscal_year": 2570, "title": "ยุติ"}}).json
    victim = victim_started["id"]
    moved = officer.post(f"/tasks/{victim_started['ready_tasks'][0]['id']}/hand-over",
                         {"to": "hostile", "note": PAYLOAD[:500]})
    assert moved.status_code == 200, moved.json  # handed to a colleague with a hostile note, then terminated
    world.tokens["xadmin"] = khanton.issue_token("xadmin")
    terminated = world.api("xadmin").post(f"/instances/{victim}/terminate", {"reason": PAYLOAD})
    assert terminated.status_code == 200, terminated.json
    analyst = world.api("analyst")
    xml = khanton.process_xml("budget-transfer")
    changed = re.sub(r'(<bpmn:process id="budget-transfer" name=)"[^"]*"', lambda m: m.group(1) + quoteattr(NAME),
                     xml, count=1)
    draft = analyst.post("/processes/budget-transfer/drafts", {"xml": changed, "note": PAYLOAD[:500]})
    assert draft.status_code == 201, draft.json
    published = analyst.put(f"/processes/budget-transfer/bpmn?note={PAYLOAD[:300]}", data=changed.encode())
    assert published.status_code == 201, published.json
    stored += 4 + len(FORMULAS)
    battery.add(battery.CASES, stored)
    yield {"world": world, "instance": instance, "victim": victim}
    world.close()


def _hostile_data(task: dict[str, Any]) -> dict[str, Any]:
    """Valid data for the task's form (the scenario's), with the payload in every free-text field."""
    form = task["form"]
    data = data_for(task, scenario("budget-transfer")["steps"])
    for name, field in form.get("properties", {}).items():
        if field.get("type") == "string" and not {"enum", "format", "pattern", "const"} & set(field):
            data[name] = PAYLOAD[: field.get("maxLength", len(PAYLOAD))]
    return data


def _assert_inert(html: str, where: str) -> None:
    """No element, attribute or link the payload could have made; the Jinja-looking text not evaluated."""
    for tag, attrs in elements(html):
        if tag == "script":
            assert attrs.get("src", "").startswith(SCRIPT_SOURCES) or attrs.get("type") == "application/json", (
                f"{where}: a script element {attrs}")
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: an injected <img>"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"{where}: <{tag}> has event handlers {handlers}"
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            value = re.sub(r"[\s\x00-\x1f]", "", attrs.get(name, "")).lower()
            assert not value.startswith(("javascript:", "data:text")), f"{where}: <{tag} {name}={value!r}>"
    assert "XSS49" not in html, f"{where}: the template text was evaluated"


def _assert_csp_forbids_inline_script(response: Any, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'self'"], f"{where}: script-src {script}"


def test_no_page_of_any_role_turns_stored_text_into_markup(hostile: dict[str, Any]) -> None:
    world: World = hostile["world"]
    pages = shown = 0
    for role in ROLES:
        page = signed_in(world, role)
        answers = crawl(page, "/", limit=45)
        for extra in (f"/instances/{hostile['instance']}", f"/instances/{hostile['victim']}", "/delegations",
                      "/processes/budget-transfer/versions", "/admin/holidays", "/admin/lanes", "/admin/schools"):
            if extra not in answers:
                answers[extra] = page.get(extra)
        for address, response in answers.items():
            assert response.status_code < 500, f"{role} {address}: {response.status_code}"
            if response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            _assert_inert(html, f"{role} {address}")
            _assert_csp_forbids_inline_script(response, f"{role} {address}")
            pages += 1
            shown += "XSS{{7*7}}" in html or "XSS{{7*7}}".replace("{", "&#123;") in html
    battery.add(battery.CASES, pages)
    assert pages >= 60, pages
    assert shown >= 6, f"the payload was shown on only {shown} pages: the crawl did not reach the stored text"


def test_the_instance_page_shows_the_payload_as_text(hostile: dict[str, Any]) -> None:
    page = signed_in(hostile["world"], "officer")
    html = page.get(f"/instances/{hostile['instance']}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "XSS{{7*7}}" in html
    _assert_inert(html, "instance page")
    battery.add(battery.CASES)


def test_exports_hold_no_formula_cells(hostile: dict[str, Any]) -> None:
    page = signed_in(hostile["world"], "supervisor")
    csv = page.get("/monitor?format=csv")
    assert csv.status_code == 200 and "csv" in csv.mimetype
    text = csv.get_data(as_text=True)
    cells = [cell for row in csv_module.reader(io.StringIO(text, newline="")) for cell in row]
    assert any("cmd|" in cell for cell in cells), "the formula titles are not in the export"
    formulas = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not formulas, f"CSV cells a spreadsheet would run: {formulas[:5]}"
    xlsx = page.client.get("/monitor?format=xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
    values = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert any(isinstance(v, str) and "cmd|" in v for v in values)
    bad = [v for v in values if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")]
    types = {cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert not bad and "f" not in types, f"Excel cells read as formulas: {bad[:5]}"
    battery.add(battery.CASES, 2 * len(FORMULAS))


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext is missing: `make pdf` installs Debian's poppler-utils")
def test_the_record_pdf_shows_the_payload_literally(hostile: dict[str, Any], tmp_path: Any) -> None:
    page = signed_in(hostile["world"], "officer")
    response = page.client.get(f"/instances/{hostile['instance']}/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(response.get_data())
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    flat = re.sub(r"\s+", "", text).translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))  # the memo's Thai digits
    assert "<script>alert(1)</script>" in flat and "XSS{{7*7}}" in flat, text[:1500]
    battery.add(battery.CASES)
