"""What every signed-in page pays, pinned by counts (#14, the read side of the pages): signing in by
cookie is one statement; the header's two counts (the inbox badge, unread notices) one statement, read
once per request; the inbox's total and badge one statement; the templates look the request's
translations up once, not once per `_()`; /monitor past its first page finds the page's ids from the
sort's index alone; the inbox's names and returns come with its page, its rows are buffered and
unpacked; the dashboard draws figures it keeps once per language. Counted, never timed (`make bench`
times them)."""

from __future__ import annotations

import cProfile
import pstats
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_babel import Domain
from sqlalchemy import event, select, update
from werkzeug.routing import MapAdapter

from engine import assignments
from engine.models import Delegation, Event, Instance, TaskReturn
from engine.read import inbox as ready
from engine.read import monitor
from engine.thai_calendar import today
from tests.bench_data import generate
from tests.conftest import World
from tests.drive import start
from tests.web.conftest import Page
from web.dashboard import charts
from web.i18n import be_datetime

TRIVIAL_PAGE = "/instances/no-such-instance"  # tests/bench_scale.py's trivial page: a 404 in the layout
BADGE = '<span class="badge" title="งานที่รอดำเนินการ">{}<'  # the header's count of waiting tasks


@contextmanager
def statements(world: World) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(world.khanton.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(world.khanton.db.engine, "before_cursor_execute", record)


def _get(world: World, page: Any, path: str, status: int = 200) -> list[str]:
    page.get(path)  # the first request of a client may note the session's use (a write, once a minute)
    with statements(world) as seen:
        assert page.get(path).status_code == status, page.html
    return seen


def test_signing_in_by_cookie_is_one_statement(web: World, page_as: Any) -> None:
    """The session, its person and their lanes in one statement (the lanes were a second one)."""
    seen = _get(web, page_as("officer"), "/processes")
    signing_in = [s for s in seen if "web_sessions" in s or "user_lanes" in s]
    assert len(signing_in) == 1, signing_in
    assert "JOIN user_lanes" in signing_in[0]


def test_the_header_counts_are_one_statement_read_once(web: World, page_as: Any) -> None:
    """The badge's waiting tasks and the unread notices side by side in one statement, once, however
    many templates the request renders (the unread count was read again by each)."""
    start(web, "budget-transfer")
    page = page_as("officer")
    seen = _get(web, page, "/processes")
    header = [s for s in seen if "notifications" in s]
    assert len(header) == 1 and "human_tasks" in header[0], header
    assert not [s for s in seen if "FROM human_tasks" in s and s not in header]
    assert 'class="badge"' in page.html


def test_the_inbox_counts_its_total_badge_and_unread_notices_in_one_statement(web: World, page_as: Any) -> None:
    """The page's total, the badge and the header's unread notices: one statement (they were three)."""
    start(web, "budget-transfer")
    page = page_as("officer")
    seen = _get(web, page, "/")
    counts = [s for s in seen if "count(" in s]
    assert len(counts) == 1 and "human_tasks" in counts[0] and "notifications" in counts[0], counts
    assert "งานที่รอดำเนินการใน lane ของคุณ 1 รายการ" in page.html


@pytest.mark.parametrize(("path", "status", "most"), [(TRIVIAL_PAGE, 404, 8), ("/", 200, 9),
                                                      ("/instances", 200, 8)])
def test_a_page_runs_at_most_so_many_statements(web: World, page_as: Any, path: str, status: int,
                                                 most: int) -> None:
    """The trivial page took 10 (BEGIN included), the inbox 12, the instance list 11 (then 9: it read the
    delegations twice)."""
    start(web, "budget-transfer")
    seen = _get(web, page_as("officer"), path, status)
    assert len(seen) <= most, seen


def test_a_page_reads_the_delegations_once_and_the_next_request_reads_them_again(web: World,
                                                                                   page_as: Any) -> None:
    """The page's content and the header's badge each asked who the person acts for (the task page six
    times): kept for the request's transaction (engine.assignments), one read; a delegation made between
    two requests changes the second (its badge, the task it may now open)."""
    instance = start(web, "budget-transfer")
    task_page = f"/tasks/{instance['ready_tasks'][0]['id']}"
    page = page_as("committee")
    for path in ("/instances", "/search?q=2570"):
        seen = _get(web, page, path)
        assert len([s for s in seen if "FROM delegations" in s]) == 1, (path, seen)
    assert BADGE.format(0) in page.html
    assert page.get(task_page).status_code in (403, 404)
    web.khanton.delegate(web.khanton.actor("officer"), "committee", "acting", today(), today())
    assert page.get("/instances").status_code == 200 and BADGE.format(1) in page.html
    seen = _get(web, page, task_page)
    assert len([s for s in seen if "FROM delegations" in s]) == 1, seen


def test_a_delegation_written_in_the_transaction_is_read_again(web: World) -> None:
    """What a transaction read of the delegations is kept until it writes one (delegate, revoke)."""
    khanton = web.khanton
    committee = khanton.actor("committee")
    with khanton.db.transaction() as session, statements(web) as seen:
        for _ in range(2):
            assert assignments.readers(session, committee) == [committee]
        assignments.delegate(session, khanton.actor("director"), "committee", "acting", today(), today())
        assert [a.username for a in assignments.readers(session, committee)] == ["committee", "director"]
        revoked = session.scalars(select(Delegation)).one()
        assignments.revoke(session, khanton.actor("director"), revoked.id)
        assert assignments.readers(session, committee) == [committee]
    assert len([s for s in seen if "FROM delegations" in s and "delegations.delegate =" in s]) == 3, seen


def test_the_templates_look_the_translations_up_once_per_request(web: World, page_as: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's ~30 `_()` and its dates asked Flask-Babel for the translations and the locale each time."""
    page = page_as("officer")
    asked: list[str] = []
    original = Domain.get_translations

    def counted(self: Domain) -> Any:
        asked.append("translations")
        return original(self)

    monkeypatch.setattr(Domain, "get_translations", counted)
    assert page.get("/processes").status_code == 200
    assert len(asked) <= 3, len(asked)
    assert "เริ่มกระบวนงาน" in page.html
    page.post("/language", {"lang": "en", "next": "/processes"})
    asked.clear()
    page.get("/processes")
    assert len(asked) <= 3 and 'lang="en"' in page.html


@pytest.fixture(scope="module")
def listed(world_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World.copied(world_template, tmp_path_factory.mktemp("cost") / "listed.db")
    generate(world, 130)
    yield world
    world.close()


def test_monitor_past_page_one_reads_the_page_ids_from_the_sorts_index(listed: World) -> None:
    """Page 3 used to read (and join) every skipped instance row; its ids now come from the sort's
    covering index, and only the page's rows are read."""
    with listed.khanton.db.transaction(read_only=True) as session, statements(listed) as seen:
        found = monitor.page(session, listed.khanton.actor("supervisor"), monitor.MonitorFilter(), 3, 50)
    assert len(found.rows) == 31 and not found.has_next
    [statement] = [s for s in seen if "ORDER BY instances.started_at DESC" in s]
    with listed.khanton.db.engine.connect() as conn:
        params = (51, 100)
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
    assert "COVERING INDEX ix_instances_monitor_started" in plan, plan


@pytest.mark.parametrize("sort", sorted(monitor.SORTS))
def test_monitor_pages_list_what_the_single_statement_listed(listed: World, sort: str) -> None:
    """Each sort, both ways, at several offsets: the same ids in the same order as `_listed` with an offset."""
    now = datetime.now(UTC)
    for descending in (True, False):
        f = monitor.MonitorFilter(sort=sort, descending=descending)
        with listed.khanton.db.transaction(read_only=True) as session:
            for offset in (0, 7, 60, 125):
                window = [r.id for r in session.execute(monitor._window(f, now, False, 10, offset))]
                single = [r.id for r in session.execute(monitor._listed(f, now).limit(10).offset(offset))]
                assert window == single and window, (sort, descending, offset)


def test_the_layout_builds_its_addresses_once_per_process(web: World, page_as: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Stylesheets, scripts, the header's links and the menus: built from the URL map on the first page,
    then kept (each page built ~17). The second person's page links the same addresses."""
    built: list[str] = []
    original = MapAdapter.build

    def counted(self: MapAdapter, endpoint: str, *args: Any, **kw: Any) -> Any:
        built.append(endpoint)
        return original(self, endpoint, *args, **kw)

    monkeypatch.setattr(MapAdapter, "build", counted)
    first = page_as("officer")
    first.get(TRIVIAL_PAGE)
    second = page_as("officer")
    built.clear()
    assert second.get(TRIVIAL_PAGE).status_code == 404
    assert built == [], built
    for link in ('href="/static/css/app.css"', 'action="/search"', 'href="/instances"', 'action="/logout"'):
        assert link in second.html, link


def _flat(seen: list[str]) -> list[str]:
    return [" ".join(s.split()) for s in seen]


def test_the_inbox_names_its_people_and_marks_returns_with_its_page(web: World, page_as: Any) -> None:
    """The starter's and the holder's names and which rows follow a return are joined to the page's rows:
    the inbox read them with two statements of their own on every page (users, task_returns ⋈ events).
    The rows show the same: display names, an unknown starter by username, a return with who and why."""
    web.khanton.add_user("officer2", ["officer"], ["plan_officer"], "pass-1234", "นางสาวสมใจ ใฝ่งาน")
    held, ghost, back = (start(web, "budget-transfer") for _ in range(3))
    web.khanton.claim(held["ready_tasks"][0]["id"], web.khanton.actor("officer2"))
    with web.khanton.db.transaction() as session:
        session.execute(update(Instance).where(Instance.id == ghost["id"]).values(started_by="gone"))
    page = page_as("officer")
    seen = _flat(_get(web, page, "/"))
    assert not [s for s in seen if s.startswith(("SELECT users.username", "SELECT task_returns"))], seen
    assert len(seen) <= 7, seen
    assert '<span class="tag held">นางสาวสมใจ ใฝ่งาน</span>' in page.html
    assert 'data-label="ผู้เริ่ม">gone</td>' in page.html and "is-returned" not in page.html
    with web.khanton.db.transaction() as session:
        started = session.scalar(select(Event.id).where(Event.instance_id == back["id"]).order_by(Event.id).limit(1))
        session.add(TaskReturn(task_id=back["ready_tasks"][0]["id"], event_id=started))
    seen = _flat(_get(web, page, "/"))
    assert len([s for s in seen if s.startswith("SELECT task_returns")]) == 1, seen  # only when a row has one
    assert page.html.count('class="is-returned"') == 1 and "ส่งกลับแก้ไข" in page.html


def _no_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_the_dashboard_draws_its_kept_figures_once_per_language(web: World, page_as: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """While its figures are kept (a minute), the dashboard drew its charts and tables again on every
    request (the charts' geometry, ~80 translations): now once per language. The page is the same."""
    start(web, "budget-transfer", {"fiscal_year": 2570})
    drawn: list[int] = []
    original = charts.spread_chart

    def counted(spreads: Any) -> Any:
        drawn.append(len(spreads))
        return original(spreads)

    monkeypatch.setattr(charts, "spread_chart", counted)
    path = "/monitor/dashboard?process=budget-transfer&fiscal_year=2570"
    page = page_as("supervisor")
    first = page.get(path).get_data(as_text=True)
    assert len(drawn) == 2 and 'id="chart-lanes"' in first
    assert _no_csrf(page.get(path).get_data(as_text=True)) == _no_csrf(first)
    assert _no_csrf(page_as("supervisor").get(path).get_data(as_text=True)) == _no_csrf(first)  # another person
    assert len(drawn) == 2
    page.post("/language", {"lang": "en", "next": path})
    page.get(path)
    assert len(drawn) == 4 and "Operations overview" in page.html and "Median" in page.html
    web.app.config["DASHBOARD_CACHE_SECONDS"] = 0  # figures computed afresh are drawn afresh
    page.get(path)
    assert len(drawn) == 6


def test_the_inbox_draws_its_rows_without_per_row_overheads(listed: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of 20 rows: the rows were yielded one piece at a time through the layout's generators
    (~960 resumptions of the content block; now buffered), each Row read by ~25 attribute look-ups (now
    unpacked), and each date's clock formatted by strftime."""
    looked: list[str] = []

    class Watched:
        def __init__(self, row: Any) -> None:
            self._row = row

        def __getattr__(self, name: str) -> Any:
            looked.append(name)
            return getattr(self._row, name)

        def __iter__(self) -> Iterator[Any]:
            return iter(self._row)

    original = ready.page
    monkeypatch.setattr(ready, "page", lambda *a, **kw: [Watched(r) for r in original(*a, **kw)])
    page = Page(listed.app.test_client())
    page.sign_in("officer")
    page.get("/")
    profile = cProfile.Profile()
    profile.enable()
    assert page.get("/").status_code == 200
    profile.disable()
    assert page.html.count('class="task-link"') == 20
    resumed = sum(calls for (file, _, name), (_, calls, *_) in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
                  if file.endswith("tasks/inbox.html") and name == "block_content")
    assert 0 < resumed < 100, resumed
    assert looked == [], looked[:30]

    class Clock(datetime):
        def __format__(self, spec: str) -> str:
            raise AssertionError(f"formatted with {spec!r}")

    with listed.app.test_request_context("/"):
        assert be_datetime(Clock(2026, 11, 25, 7, 5)) == "25 พ.ย. 2569 14:05 น."


def test_monitor_rows_add_no_passes_through_the_layout(world: World) -> None:
    """/monitor's rows are drawn into one buffer: yielded piece by piece, each of ~57 pieces a row went up
    through the layout's generators (2,850 resumptions of the content block for 50 rows)."""
    page = Page(world.app.test_client())
    page.sign_in("supervisor")

    def resumed() -> int:
        page.get("/monitor")
        profile = cProfile.Profile()
        profile.enable()
        assert page.get("/monitor").status_code == 200
        profile.disable()
        return sum(calls for (file, _, name), (_, calls, *_) in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
                   if file.endswith("monitor/list.html") and name == "block_content")

    for _ in range(2):
        start(world, "budget-transfer")
    few = resumed()
    for _ in range(10):
        start(world, "budget-transfer")
    assert page.html.count('class="instance-link"') == 2
    many = resumed()
    assert page.html.count('class="instance-link"') == 12
    assert 0 < few and many - few < 10, (few, many)
