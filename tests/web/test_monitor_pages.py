"""/monitor through HTTP, and who sees what (issue 9, point 6): supervisors and admins read every
instance and its page, a supervisor's request that would change anything is refused 403 (pages and
API); officers read the instances they took part in (or whose work reaches their lanes), schools only
those with their own school's round. Hostile filters are refused in Thai; the export is exactly what is
filtered; a page costs the same number of statements with 5 instances or 60."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from engine.models import Instance
from engine.read import monitor
from tests.conftest import SCHOOLS, USERS, World
from tests.drive import scenario, start
from tests.test_monitor import build_known
from web import monitor as monitor_page

from .conftest import PASSWORD, Page

Known = dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Known]]:
    """One database for the module: the five known instances of tests/test_monitor.py, and an admin."""
    world = World(f"sqlite:///{tmp_path_factory.mktemp('monitor-pages') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    world.khanton.add_user("keeper", ["admin"], [], PASSWORD, "ผู้ดูแลระบบ")
    yield world, build_known(world)
    world.close()


@pytest.fixture(scope="module")
def web(site: tuple[World, Known]) -> World:
    return site[0]


@pytest.fixture(scope="module")
def ids(site: tuple[World, Known]) -> Known:
    return site[1]


@pytest.fixture(scope="module")
def page_as(web: World) -> Callable[..., Page]:
    signed_in: dict[str, Page] = {}

    def make(username: str | None = None) -> Page:
        if username is None:
            return Page(web.app.test_client())
        if username not in signed_in:
            page = Page(web.app.test_client())
            assert page.sign_in(username).status_code == 302, page.html
            signed_in[username] = page
        return signed_in[username]

    return make


def test_who_reads_the_monitor_and_the_menu(web: World, page_as: Any) -> None:
    supervisor = page_as("supervisor")
    assert supervisor.get("/monitor").status_code == 200
    assert 'href="/monitor"' in supervisor.html and "ติดตามงาน" in supervisor.html
    assert "พบ 5 รายการ" in supervisor.html and "ไม่มีทางออกที่เงื่อนไขเป็นจริง" in supervisor.html
    assert "&#39;=HYPERLINK" not in supervisor.html  # the page shows the title as typed, escaped
    assert page_as("keeper").get("/monitor").status_code == 200 and 'href="/monitor"' in page_as("keeper").get(
        "/admin/users").get_data(as_text=True)
    for who in ("officer", "head", "school", "analyst"):
        page = page_as(who)
        assert page.get("/monitor").status_code == 403, who
        assert "ผู้กำกับติดตามและผู้ดูแลระบบเท่านั้น" in page.html
        assert page.get("/monitor?format=csv").status_code == 403
    assert 'href="/monitor"' not in page_as("officer").get("/").get_data(as_text=True)
    assert page_as().get("/monitor").status_code == 302  # not signed in: to the sign-in page


def test_hostile_filters_are_refused_in_thai(web: World, page_as: Any) -> None:
    supervisor = page_as("supervisor")
    for query, words in (("from=31/02/2569", "ไม่มีวันที่นี้"), ("from=2/1/99", "วว/ดด/ปปปป"),
                         ("status=<script>", "ไม่รู้จักสถานะ"), ("sort=id;drop", "เรียงตาม"),
                         ("fiscal_year=20x0", "4 หลัก"), ("lane=" + "ก" * 500, "ยาวเกินไป"),
                         ("from=05/12/2569&to=01/12/2569", "ต้องไม่หลัง")):
        response = supervisor.get(f"/monitor?{query}")
        assert response.status_code == 422, query
        assert words in supervisor.html and "<script>" not in supervisor.html, query
    assert supervisor.get("/monitor?format=csv&status=bogus").status_code == 422  # no file of a wrong filter


def test_the_export_is_exactly_what_is_filtered(web: World, page_as: Any, ids: Known) -> None:
    supervisor = page_as("supervisor")
    supervisor.get("/monitor?lane=school")
    assert supervisor.html.count('class="monitor-row') == 1
    assert "/monitor?format=csv&amp;lane=school" in supervisor.html
    response = supervisor.get("/monitor?format=csv&lane=school")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][1] == "กระบวนงาน" and [r[0] for r in rows[1:]] == [ids["school"]]
    assert rows[1][2].startswith("'=HYPERLINK") and rows[1][6] == SCHOOLS[0][1]
    xlsx = supervisor.client.get("/monitor?format=xlsx&from=01/10/2569&to=31/10/2569&sort=started&dir=asc")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


def test_supervisors_and_admins_read_every_instance_and_change_nothing(web: World, page_as: Any) -> None:
    instance = start(web, "budget-transfer")
    task_id = instance["ready_tasks"][0]["id"]
    for who in ("supervisor", "keeper"):
        assert page_as(who).get(f"/instances/{instance['id']}").status_code == 200, who
    assert web.api("supervisor").get(f"/instances/{instance['id']}").status_code == 200
    supervisor = page_as("supervisor")
    supervisor.get(f"/instances/{instance['id']}")
    for path in (f"/tasks/{task_id}/claim", f"/tasks/{task_id}", "/processes/budget-transfer", "/delegations",
                 f"/tasks/{task_id}/draft"):
        refused = supervisor.post(path, {"decision": "approved"})  # with the page's CSRF token
        assert refused.status_code == 403, path
        assert "ไม่เปลี่ยนแปลงข้อมูลใด ๆ" in supervisor.html
        supervisor.get("/monitor")
    api = web.api("supervisor")
    for path, body in (("/instances", {"process": "budget-transfer", "data": {}}),
                       (f"/tasks/{task_id}/claim", None), (f"/tasks/{task_id}/complete", {"data": {}})):
        refused = api.post(path, json=body)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden", path
    assert api.put("/processes/budget-transfer/bpmn", data=b"<x/>").status_code == 403
    # Each endpoint refuses by its own rule, in api.md's order: an unknown task is a 404 before any 403.
    assert api.post("/tasks/no-such-task/complete", json={"data": {}}).status_code == 404
    with web.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance["id"])
        assert row is not None and row.revision == 1  # nothing changed
    assert web.api("officer").post(f"/tasks/{task_id}/claim").status_code == 200  # an officer still may
    signed_out = page_as()
    signed_out.sign_in("supervisor")
    signed_out.get("/monitor")
    assert signed_out.post("/logout").status_code == 302  # signing out is not a change of the work


def test_officers_read_what_they_took_part_in_and_schools_their_own(web: World, page_as: Any) -> None:
    officer = web.khanton.actor("officer")
    instance = web.khanton.start("budget-transfer", scenario("budget-transfer")["start"], officer)
    instance = web.khanton.complete(instance["ready_tasks"][0]["id"], {  # one school asked: user "school"
        "report_request_no": "ศธ 04173/1", "report_requested_on": "2026-10-01",
        "schools": [{"code": SCHOOLS[0][0], "name": SCHOOLS[0][1]}]}, officer)
    path = f"/instances/{instance['id']}"
    assert page_as("officer").get(path).status_code == 200  # started it
    assert page_as("school").get(path).status_code == 200  # its own school's round
    for who in ("school2", "outsider", "committee", "director", "analyst"):  # took no part
        assert page_as(who).get(path).status_code == 403, who
        assert web.api(who).get(f"/instances/{instance['id']}").status_code == 403, who


def test_a_page_costs_the_same_statements_with_few_or_many_instances(web: World, page_as: Any) -> None:
    supervisor = page_as("supervisor")
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(str(args[2]))

    def statements(path: str) -> int:
        counted.clear()
        event.listen(web.khanton.db.engine, "before_cursor_execute", count)
        try:
            assert supervisor.get(path).status_code == 200
        finally:
            event.remove(web.khanton.db.engine, "before_cursor_execute", count)
        return len(counted)

    few = statements("/monitor")
    before = int(re.findall(r"พบ (\d+) รายการ", supervisor.html)[0])
    officer = web.khanton.actor("officer")
    for n in range(55):
        started = web.khanton.start("budget-request", scenario("budget-request")["start"], officer)
        if n % 3 == 0:
            with web.khanton.db.transaction() as session:
                session.execute(update(Instance).where(Instance.id == started["id"]).values(status="error"))
    many = statements("/monitor")
    assert f"พบ {before + 55} รายการ" in supervisor.html and "หน้า 1 จาก 2" in supervisor.html
    assert many == few, counted
    assert statements("/monitor?page=2&status=running&sort=moved") == few


def test_a_total_past_the_cap_says_more_than(web: World, page_as: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "COUNT_CAP", 3)
    monkeypatch.setattr(monitor_page, "PAGE_SIZE", 2)
    supervisor = page_as("supervisor")
    supervisor.get("/monitor?page=2")
    assert "พบมากกว่า 3 รายการ" in supervisor.html and "<span>หน้า 2</span>" in supervisor.html
    assert "ถัดไป" in supervisor.html and "ก่อนหน้า" in supervisor.html
