"""The audit log (#13 part 7): every change to an instance, a definition, a person, a lane, a holiday or a
delegation is recorded once, with who, when, what and the address it came from; admins read it on
/admin/audit and export it as CSV (others get 403); the application's own connection cannot change or
delete a recorded row (migration 0017's triggers), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine import origin
from engine.models import AuditEntry, Event
from engine.people import audit_log
from engine.runtime.rows import event_values
from tests import battery
from tests.conftest import ROOT, World, make_khanton
from tests.drive import SIGNED_PDF, data_for, scenario
from tests.web.conftest import PASSWORD, Page
from web.admin import audit_page

OFFICE = "10.20.30.40"  # the officer's desk
ADMIN_DESK = "10.20.30.99"


def _api(world: World, user: str, address: str) -> Any:
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return _Api(client, world.tokens[user])


class _Api:
    def __init__(self, client: Any, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers, **kw)


def _page(world: World, user: str, address: str) -> Page:
    page = Page(world.app.test_client())
    page.client.environ_base["REMOTE_ADDR"] = address
    assert page.sign_in(user).status_code == 302, page.html
    return page


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, world_template: Any) -> Iterator[tuple[World, str]]:
    """One world where each kind of change was made once, through the web, from known addresses."""
    path = tmp_path_factory.mktemp("audit") / "khanton.db"
    world = World.copied(world_template, path)
    world.khanton.add_user("keeper", ["admin"], [], PASSWORD)
    officer = _api(world, "officer", OFFICE)
    started = officer.post("/instances", json={"process": "budget-transfer", "data": {"fiscal_year": 2570}})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    task_id = instance["ready_tasks"][0]["id"]
    assert officer.post(f"/tasks/{task_id}/claim").status_code == 200
    upload = {"file": (io.BytesIO(SIGNED_PDF), "letter.pdf")}
    assert officer.post(f"/tasks/{task_id}/attachments", data=upload,
                        content_type="multipart/form-data").status_code == 201
    task = officer.get(f"/tasks/{task_id}").get_json()
    done = officer.post(f"/tasks/{task_id}/complete",
                        json={"data": data_for(task, scenario("budget-transfer").get("steps", {}))})
    assert done.status_code == 200, done.get_json()

    admin = _page(world, "keeper", ADMIN_DESK)
    admin.get("/admin/lanes")
    assert admin.post("/admin/lanes", {"key": "finance_group", "name": "การเงิน"}).status_code == 302
    admin.get("/admin/holidays")
    assert admin.post("/admin/holidays", {"day": "2026-12-29", "name": "วันหยุดพิเศษ", "kind": "holiday"}
                      ).status_code == 302
    admin.get("/admin/holidays")
    assert admin.post("/admin/holidays/2026-12-29/delete").status_code == 302
    desk = _page(world, "officer", OFFICE)
    desk.get("/delegations")
    assert desk.post("/delegations", {"to": "committee", "kind": "acting", "starts_on": "2026-12-20",
                                      "ends_on": "2026-12-31"}).status_code == 302
    yield world, instance["id"]
    world.close()


def _events(world: World, instance_id: str) -> list[Event]:
    with world.khanton.db.transaction(read_only=True) as session:
        return list(session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id)))


def _entries(world: World, action: str) -> list[AuditEntry]:
    with world.khanton.db.transaction(read_only=True) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_each_instance_action_is_one_event_with_who_when_and_the_address(logged: tuple[World, str]) -> None:
    world, instance_id = logged
    events = _events(world, instance_id)
    kinds = [e.kind for e in events]
    for kind in ("started", "claimed", "attachment_added", "completed"):
        assert kinds.count(kind) == 1, kinds
    for event in events:
        assert event.actor == "officer" and event.address == OFFICE, (event.kind, event.actor, event.address)
        assert abs((datetime.now(UTC) - event.at.replace(tzinfo=UTC)).total_seconds()) < 600
    battery.add(battery.CASES, len(events))


@pytest.mark.parametrize(("action", "actor", "target"), [
    ("lane_added", "keeper", "finance_group"), ("holiday_set", "keeper", "2026-12-29"),
    ("holiday_removed", "keeper", "2026-12-29"), ("delegation_added", "officer", "committee")])
def test_each_change_to_people_and_the_calendar_is_one_entry(logged: tuple[World, str], action: str, actor: str,
                                                             target: str) -> None:
    world, _ = logged
    entries = _entries(world, action)
    assert len(entries) == 1, [(e.action, e.target) for e in entries]
    entry = entries[0]
    assert (entry.actor, entry.target) == (actor, target)
    assert entry.address == (ADMIN_DESK if actor == "keeper" else OFFICE)
    assert entry.at is not None
    battery.add(battery.CASES)


def test_the_engine_called_outside_a_request_records_no_address(logged: tuple[World, str]) -> None:
    world, instance_id = logged
    khanton = world.khanton
    after = khanton.start("budget-transfer", {"fiscal_year": 2571}, khanton.actor("officer"))
    [started] = _events(world, after["id"])
    assert started.actor == "officer" and started.address is None  # the command line, a worker: no address


def test_the_address_is_stamped_in_one_place_for_orm_and_core_inserts_from_any_session(
        logged: tuple[World, str]) -> None:
    """events.address's default reads engine.origin: an `Event` flushed and a Core INSERT (the completion's
    way) carry the request's address from any session, and `event_values` sets none by hand (both were
    stamped apart: a hook on the Database's sessions, and event_values)."""
    world, instance_id = logged
    values = event_values(instance_id, "officer", "claimed")
    assert "address" not in values and "at" not in values
    token = origin.begin("10.20.30.77")
    try:
        with Session(world.khanton.db.engine) as session:  # a plain session: no hook of the Database's
            session.add(Event(**values))
            session.flush()
            session.execute(insert(Event), [event_values(instance_id, "officer", "released")] * 2)
            written = session.execute(select(Event.kind, Event.address).where(
                Event.instance_id == instance_id, Event.address == "10.20.30.77").order_by(Event.id)).all()
            session.rollback()
    finally:
        origin.end(token)
    assert [tuple(row) for row in written] == [("claimed", "10.20.30.77"), ("released", "10.20.30.77"),
                                               ("released", "10.20.30.77")]


def test_the_audit_page_shows_both_logs_filtered_and_paged_to_admins_only(logged: tuple[World, str]) -> None:
    world, instance_id = logged
    admin = _page(world, "keeper", ADMIN_DESK)
    admin.get("/admin/audit")
    assert "เพิ่ม lane" in admin.html and "แนบเอกสาร" in admin.html and OFFICE in admin.html
    assert "กำหนดวันหยุดหรือวันทำงาน" in admin.html and "มอบหมายผู้ปฏิบัติหน้าที่แทน" in admin.html
    admin.get("/admin/audit?source=people")
    assert "เพิ่ม lane" in admin.html and instance_id not in admin.html
    admin.get(f"/admin/audit?source=instances&target={instance_id}")
    assert instance_id in admin.html and "finance_group" not in admin.html
    admin.get("/admin/audit?actor=nobody")
    assert "ยังไม่มีรายการ" in admin.html
    with world.khanton.db.transaction(read_only=True) as session:
        everything = audit_log.page(session, audit_log.Filter(), limit=3)
        second = audit_log.page(session, audit_log.Filter(), limit=3, offset=3)
        events_only = audit_log.page(session, audit_log.Filter(source=audit_log.INSTANCES), limit=1000)
        events = session.scalar(select(func.count(Event.id))) or 0
        entries = session.scalar(select(func.count(AuditEntry.id))) or 0
    assert everything[1] == events + entries and events_only[1] == events
    assert [e.at for e in everything[0] + second[0]] == sorted((e.at for e in everything[0] + second[0]),
                                                                reverse=True)
    officer = _page(world, "officer", OFFICE)
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert officer.get(path).status_code == 403, path
        battery.add(battery.REFUSED)


ENTRY = re.compile(r'<li class="audit-(\w+)">.*?<time datetime="([^"]+)"', re.S)
NEXT = re.compile(r'href="([^"]+)">ถัดไป')


def test_the_audit_page_counts_up_to_a_cap_and_pages_on_past_it(logged: tuple[World, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page counted every matching entry (with a million events, a full count per page): the count
    stops past audit_log.COUNT_CAP (a LIMIT in its statement), the page says "more than" it, and the
    next links still walk every entry once, in order, to a last page with no next link."""
    world, _ = logged
    with world.khanton.db.transaction(read_only=True) as session:
        everything, total = audit_log.page(session, audit_log.Filter(), limit=10_000)
    monkeypatch.setattr(audit_page, "AUDIT_PAGE", 3)
    admin = _page(world, "keeper", ADMIN_DESK)
    admin.get("/admin/audit")
    assert f"รวม {total} รายการ" in admin.html and f"หน้า 1 จาก {-(-total // 3)}" in admin.html
    monkeypatch.setattr(audit_log, "COUNT_CAP", 5)
    counts: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "count(" in statement.lower() and "audit_entries" in statement:
            counts.append(statement)

    sa_event.listen(world.khanton.db.engine, "before_cursor_execute", record)
    try:
        admin.get("/admin/audit")
    finally:
        sa_event.remove(world.khanton.db.engine, "before_cursor_execute", record)
    [count] = counts
    assert "LIMIT" in count, count
    assert "รวม มากกว่า 5 รายการ" in admin.html and "<span>หน้า 1</span>" in admin.html
    shown, pages = ENTRY.findall(admin.html), 1
    while (link := NEXT.search(admin.html)) is not None:
        admin.get(html.unescape(link.group(1)))
        shown += ENTRY.findall(admin.html)
        pages += 1
        assert f"<span>หน้า {pages}</span>" in admin.html and "← ก่อนหน้า" in admin.html
    assert total >= 12 and pages == -(-total // 3)
    assert shown == [(e.source, str(e.at)) for e in everything]


def test_the_csv_export_has_a_bom_thai_headers_every_row_and_no_formulas(logged: tuple[World, str]) -> None:
    world, instance_id = logged
    admin = _page(world, "keeper", ADMIN_DESK)
    response = admin.get(f"/admin/audit.csv?target={instance_id}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["เวลา", "เวลา (ISO 8601, UTC)", "ผู้กระทำ"]
    assert len(rows) - 1 == len(_events(world, instance_id))
    assert {row[3] for row in rows[1:]} == {OFFICE} and "แนบเอกสาร" in {row[4] for row in rows[1:]}
    # A value a spreadsheet would run as a formula stays text (the monitor's export helper).
    from web.admin.audit_page import _rows
    hostile = audit_log.LogEntry("people", datetime.now(UTC), "=HYPERLINK(\"x\")", "-1", "user_added", "@x",
                                 None, {})
    with world.app.test_request_context():
        [[row]] = list(_rows(iter([[hostile]])))
    from engine.export.table import safe
    assert [safe(cell) for cell in row][2:4] == ["'=HYPERLINK(\"x\")", "'-1"]


# --- tampering: the application's own connection cannot change or delete a recorded row ---------------


def _one_process(tmp: Path) -> Path:
    folder = tmp / "processes"
    folder.mkdir()
    for key in ("budget-transfer", "monitor-and-report"):  # the first calls the second
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", folder)
    return folder


TAMPERING = ["UPDATE events SET actor = 'someone_else'", "DELETE FROM events",
             "UPDATE audit_entries SET actor = 'someone_else', address = NULL", "DELETE FROM audit_entries"]


def test_updates_and_deletes_of_the_log_are_refused_and_leave_the_rows(database_url: str, tmp_path: Path) -> None:
    khanton = make_khanton(database_url, _one_process(tmp_path), ROOT / "forms")
    try:
        khanton.load_directory()
        khanton.add_user("officer", ["officer"], ["plan_officer"])  # audited: user_added
        khanton.start("budget-transfer", {"fiscal_year": 2570}, khanton.actor("officer"))

        def snapshot() -> list[Any]:
            with khanton.db.engine.connect() as connection:
                return [list(connection.execute(text(f"SELECT * FROM {t} ORDER BY id")))
                        for t in ("events", "audit_entries")]

        before = snapshot()
        assert before[0] and before[1]
        statements = TAMPERING + ([] if khanton.db.is_sqlite else ["TRUNCATE events CASCADE",
                                                                   "TRUNCATE audit_entries"])
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), khanton.db.engine.begin() as connection:
                connection.execute(text(statement))
            battery.add(battery.CASES)
            battery.add(battery.REFUSED)
        # Through the ORM too, as a careless feature would try it.
        with pytest.raises(DBAPIError, match="append-only"), khanton.db.transaction() as session:
            row = session.scalars(select(Event)).first()
            assert row is not None
            row.actor = "someone_else"
        battery.add(battery.CASES)
        battery.add(battery.REFUSED)
        after = snapshot()
        assert after == before
        battery.lost(sum(len(rows) for rows in before) - sum(len(rows) for rows in after))
    finally:
        khanton.db.dispose()


def test_the_triggers_exist_after_an_upgrade(database_url: str) -> None:
    """SQLAlchemy's models know no triggers (tests/test_schema.py cannot see them): this test does."""
    khanton = make_khanton(database_url)
    try:
        with khanton.db.engine.connect() as connection:
            if khanton.db.is_sqlite:
                names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
                            .scalars())
                assert {"events_no_update", "events_no_delete", "audit_entries_no_update",
                        "audit_entries_no_delete"} <= names
            else:
                names = set(connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
                            .scalars())
                assert {"events_append_only", "events_no_truncate", "audit_entries_append_only",
                        "audit_entries_no_truncate"} <= names
    finally:
        khanton.db.dispose()


def test_the_export_reads_every_entry_once_in_page_order_across_chunks(any_world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV export goes chunk by chunk from the last entry it wrote (at, source, id), not by OFFSET:
    with entries recorded at the same instant in both logs, every entry comes once and in the order the
    page shows them, whatever the chunk size."""
    khanton = any_world.khanton
    same = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with khanton.db.transaction() as session:
        session.add_all(AuditEntry(at=same, actor="keeper", action="lane_added", target=f"lane_{n}", detail={})
                        for n in range(7))
    khanton.start("budget-transfer", {"fiscal_year": 2570}, khanton.actor("officer"))
    with khanton.db.transaction() as session:  # instance events at the same instant: appended, not changed
        instance_id = session.scalar(select(Event.instance_id).limit(1))
        session.add_all(Event(instance_id=instance_id, at=same, actor="officer", kind="comment", data={})
                        for _ in range(5))
    monkeypatch.setattr(audit_log, "EXPORT_CHUNK", 3)
    wanted = audit_log.Filter()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with khanton.db.transaction(read_only=True) as session:
        sa_event.listen(khanton.db.engine, "before_cursor_execute", record)
        try:
            exported = [entry for chunk in audit_log.everything(session, wanted) for entry in chunk]
        finally:
            sa_event.remove(khanton.db.engine, "before_cursor_execute", record)
        shown, total = audit_log.page(session, wanted, limit=10_000)
    # Nothing counted, and each chunk after the first starts after the last entry of the one before (it
    # skipped OFFSET rows: the reading grew with how far into the log the chunk was).
    assert len(statements) >= 5 and not [s for s in statements if "count(" in s.lower()], statements
    assert all(".id < " in s for s in statements[1:]), statements
    assert len(exported) == total == len(shown) and total >= 12
    assert exported == shown
