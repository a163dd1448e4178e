"""Every procedure walked through the officers' pages in a real browser (Debian's chromium, Playwright).

For each of the 18 procedures in processes/: start it from its page, then, as the person whose lane
each ready step is in, open the step at /tasks/{id}, fill every field the way a person does — text,
radios and selects, money typed "1,234.50", Buddhist-era dates typed "25/11/2569", table rows added
with the "+ เพิ่มแถว" button — submit, and reach the end: once approved and once with a return for
revision where the procedure has one (the paths in tests/scenarios/). The values are the scenarios'
and engine.form_samples', as in tests/test_procedures.py, which drives the same paths through the API.

One live HTTP server for the module and the session's browser (tests/conftest.py); one browser context
per user, signed in once.
Measured: 32 walks, ~300 steps, 135 s on a shared 2-core machine (~4 s a walk; the server's part is
about a seventh of it, the rest is chromium loading and filling pages).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Event
from tests.browser import serving, sign_in
from tests.conftest import USERS, World
from tests.drive import LANE_USER, SCENARIOS, SIGNED_PDF, USER_OF_SCHOOL, answers_for, data_for, needs_signed_document
from web.i18n import STATUS_NAMES

from .conftest import PASSWORD

STARTER = "officer"  # every procedure here is started by a plan officer


def completer(lane: str, school: str | None = None) -> str:
    """Who completes a task of this lane (of this school, for a per-school round): one place to say it."""
    return USER_OF_SCHOOL[school] if school else LANE_USER[lane]


def _walks() -> list[Any]:
    """Per procedure: its first path that ends approved without a return, and its first with a return."""
    cases = []
    for path in sorted(SCENARIOS.glob("*.json")):
        scenario = json.loads(path.read_text(encoding="utf-8"))
        returns = [r for r in scenario["paths"] if any("returned" in d for d in r["decisions"].values())]
        straight = [r for r in scenario["paths"] if r["end_status"] == "completed" and r not in returns]
        for route in straight[:1] + returns[:1]:
            cases.append(pytest.param(path.stem, scenario, route, id=f"{path.stem}: {route['name']}"))
    return cases


class Site:
    """The live server, its World, and one signed-in browser page per user."""

    def __init__(self, base: str, world: World, browser: Any) -> None:
        self.base, self.world, self.browser = base, world, browser
        self.pages: dict[str, Any] = {}
        self.reader = world.khanton.actor("supervisor")

    def page(self, username: str) -> Any:
        if username not in self.pages:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
            page = context.new_page()
            sign_in(page, self.base, username)
            self.pages[username] = page
        return self.pages[username]

    def submitted(self, task_id: str) -> dict[str, Any]:
        """The data the engine recorded for a completed task (its audit trail), as the page sent it."""
        with self.world.khanton.db.transaction(read_only=True) as session:
            data = session.scalar(select(Event.data).where(Event.task_id == task_id, Event.kind == "completed"))
        return data or {}

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Site]:
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Thirty walks of requests in the log would bury a failure's own lines."""

    world = World(f"sqlite:///{tmp_path_factory.mktemp('every') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    with serving(world.app, request_handler=Quiet) as base:
        made = Site(base, world, chromium)
        yield made
        made.close()
    world.close()


# --- typing values as a person does -------------------------------------------------------------

def typed(schema: dict[str, Any], hint: Any, value: Any) -> str:
    """What a person types for `value`: money with thousands separators, dates in the Buddhist era."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if schema.get("format") == "date":
        day = date.fromisoformat(value)
        return f"{day.day}/{day.month}/{day.year + 543}"
    if isinstance(hint, dict) and hint.get("widget") == "money":
        return f"{value:,.2f}"
    return str(value)


def _hints(ui: Any, key: str) -> dict[str, Any]:
    found = ui.get(key) if isinstance(ui, dict) else None
    return found if isinstance(found, dict) else {}


def _set(page: Any, inputs: dict[str, str], name: str, text: str) -> None:
    """Enter one value into the input called `name`: type it, pick it from a list, or tick the radio."""
    kind = inputs.get(name)
    assert kind, f"the page has no input for {name!r}"
    if kind == "radio":
        page.locator(f'input[type=radio][name="{name}"][value="{text}"]').check()
    elif kind == "select":
        page.locator(f'select[name="{name}"]').select_option(value=text)
    else:
        page.locator(f'[name="{name}"]').fill(text)


def _rows(page: Any, table: str, wanted: int) -> None:
    """Make the table show `wanted` rows, with its add-row and remove buttons."""
    fieldset = page.locator(f'fieldset[data-table="{table}"]')
    rows = fieldset.locator("tbody tr[data-row]")
    while rows.count() < wanted:
        fieldset.locator("[data-add-row]").click()
    while rows.count() > wanted:
        rows.last.locator("[data-remove-row]").click()


# The form's inputs (name -> how one enters a value), and every id on the page.
INPUTS = """() => [Object.fromEntries([...document.querySelectorAll('form [name]')].map(el =>
  [el.name, el.tagName === 'SELECT' ? 'select' : el.type === 'radio' ? 'radio' : 'text'])),
  [...document.querySelectorAll('[id]')].map(e => e.id)]"""


def fill(page: Any, schema: dict[str, Any], data: dict[str, Any]) -> None:
    """Fill the form on the page with `data`, field by field (tables first get their rows)."""
    ui, props = schema.get("ui", {}), schema.get("properties", {})
    for key, value in data.items():
        if props.get(key, {}).get("type") == "array":
            _rows(page, key, len(value))
    inputs, ids = page.evaluate(INPUTS)
    assert len(ids) == len(set(ids)), f"ids used twice (labels and error links break): {ids}"
    for key, value in data.items():
        sub = props.get(key)
        if sub is None:
            continue
        if sub.get("type") != "array":
            _set(page, inputs, key, typed(sub, _hints(ui, key), value))
            continue
        items, item_hints = sub.get("items", {}), _hints(ui, key).get("items", {})
        for i, row in enumerate(value):
            if isinstance(row, dict):
                for col, cell in row.items():
                    col_schema = items.get("properties", {}).get(col, {})
                    _set(page, inputs, f"{key}.{i}.{col}", typed(col_schema, _hints(item_hints, col), cell))
            else:
                _set(page, inputs, f"{key}.{i}", typed(items, item_hints, row))


def attach(page: Any, task: dict[str, Any], where: str) -> None:
    """Attach the signed letter through the task page's upload form, as the officer does."""
    page.set_input_files("#attach-file", files=[{"name": f"มติ-{task['step']}.pdf", "mimeType": "application/pdf",
                                                 "buffer": SIGNED_PDF}])
    submit(page, "แนบไฟล์", f"{where}: attaching the signed letter")
    assert page.locator("#attachments").get_by_text(f"มติ-{task['step']}.pdf").count(), f"{where}: not attached"


def submit(page: Any, button: str, where: str) -> None:
    """Press the form's button and wait for the answer; a refusal fails the test with its messages."""
    with page.expect_navigation(wait_until="domcontentloaded"):  # app.js is deferred: it has run by then
        page.get_by_role("button", name=button).click()
        confirm = page.locator("dialog[open] [data-confirm-yes]")  # a return or a rejection asks first
        if confirm.count():
            confirm.click()
    refusal = page.locator(".error-summary, .flash-error, .field-error")
    if refusal.count():
        texts = " | ".join(refusal.all_inner_texts())
        fields = page.evaluate("() => [...document.querySelectorAll('.field-error')].map(e => e.id)")
        raise AssertionError(f"{where}: the page refused: {texts} {fields}")


def entered_in(entered: Any, stored: Any) -> bool:
    """Whether what was typed arrived as typed; a table row may also carry figures the server computed."""
    if isinstance(entered, list) and isinstance(stored, list) and len(entered) == len(stored):
        return all(entered_in(e, s) for e, s in zip(entered, stored, strict=True))
    if isinstance(entered, dict) and isinstance(stored, dict):
        return all(stored.get(k) == v for k, v in entered.items())
    return bool(entered == stored)


# --- the walk -----------------------------------------------------------------------------------

def walk(site: Site, key: str, scenario: dict[str, Any], route: dict[str, Any]) -> tuple[str, list[str]]:
    """Start the procedure from its page and complete each ready step through the pages, to the end."""
    start = {**scenario.get("start", {}), **route.get("start", {})}
    steps = {**scenario.get("steps", {}), **route.get("steps", {})}
    decisions = {task: list(values) for task, values in route.get("decisions", {}).items()}
    answers = answers_for(route)
    page = site.page(STARTER)
    page.goto(f"{site.base}/processes/{key}", wait_until="domcontentloaded")
    fill(page, site.world.khanton.start_form(key)["schema"] or {}, start)
    submit(page, "เริ่มกระบวนงาน", f"{key}: start")
    link = page.locator('nav.crumbs a[href^="/instances/"]')
    instance_id = (link.first.get_attribute("href") if link.count() else page.url).rsplit("/", 1)[-1]
    visits: list[str] = []
    instance = site.world.khanton.instance(instance_id, site.reader)
    for _ in range(100):
        if not instance["ready_tasks"]:
            break
        task = site.world.khanton.task(instance["ready_tasks"][0]["id"], site.reader)
        step = task["step"]
        queue = decisions.get(step, [])
        data = data_for(task, steps, queue.pop(0) if queue else None)
        if answers.get(step):
            data.update(answers[step].pop(0))
        page = site.page(completer(task["lane"], task.get("school")))
        if page.url != f"{site.base}/tasks/{task['id']}":
            page.goto(f"{site.base}/tasks/{task['id']}", wait_until="domcontentloaded")
        where = f"{key}: step {len(visits) + 1} {step} ({task['name']})"
        if needs_signed_document(task):
            attach(page, task, where)
        fill(page, task["form"], data)
        submit(page, "บันทึกและส่งต่อ", where)
        visits.append(step)
        stored = site.submitted(task["id"])
        lost = {k: (v, stored.get(k)) for k, v in data.items() if not entered_in(v, stored.get(k))}
        assert not lost, f"{where}: the engine got otherwise than what was entered (entered, got): {lost}"
        instance = site.world.khanton.instance(instance_id, site.reader)
    return instance_id, visits


@pytest.mark.parametrize(("key", "scenario", "route"), _walks())
def test_procedure_through_the_pages(site: Site, key: str, scenario: dict[str, Any], route: dict[str, Any]) -> None:
    instance_id, visits = walk(site, key, scenario, route)
    if "visits" in route:
        assert visits == route["visits"]
    page = site.page(STARTER)
    page.goto(f"{site.base}/instances/{instance_id}")
    assert page.locator(".status").first.inner_text() == STATUS_NAMES[route["end_status"]]
    assert site.world.khanton.instance(instance_id, site.reader)["status"] == route["end_status"]


def test_every_procedure_is_walked() -> None:
    walked = {case.values[0] for case in _walks()}
    assert walked == {path.stem for path in SCENARIOS.parent.parent.joinpath("processes").glob("*.bpmn")}
