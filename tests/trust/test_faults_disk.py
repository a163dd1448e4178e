"""Faults (#13, part 4): a full disk on SQLite.

SQLite's own limit on the file's size (`PRAGMA max_page_count`, set on every connection of the app's
engine) makes a write fail exactly as a full disk does: SQLITE_FULL, "database or disk is full". A start,
a completion and an upload that meet it store nothing (every table's rows compared before and after), the
person is told in Thai (API: 507 in the error shape; page: 507, the typed values kept), and once space is
freed the very same request succeeds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any

from sqlalchemy import event, inspect, text

from tests import battery
from tests.conftest import World
from tests.drive import data_for, scenario

FULL = "พื้นที่เก็บข้อมูลของระบบเต็ม"
ATTACHMENT = b"%PDF-1.4\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"  # ~100 kB: more pages than any slack


def _rows(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: what "state exactly as before" means."""
    engine = world.khanton.db.engine
    with engine.connect() as conn:
        return {name: sorted((tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in inspect(engine).get_table_names()}


@contextmanager
def _disk_full(world: World) -> Iterator[None]:
    """Every new connection may not grow the file by a single page; the pool starts afresh."""
    path = world.khanton.db.url.removeprefix("sqlite:///")
    probe = sqlite3.connect(path)
    probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    probe.execute("VACUUM")  # no free pages left inside the file for a write to reuse
    pages = probe.execute("PRAGMA page_count").fetchone()[0]
    probe.close()
    engine = world.khanton.db.engine

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={int(pages)}")

    engine.dispose()
    event.listen(engine, "connect", limit)
    try:
        yield
    finally:
        event.remove(engine, "connect", limit)
        engine.dispose()  # space freed: connections without the limit
        battery.add(battery.FAULTS)


def _first_task(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    api = world.api("officer")
    started = api.post("/instances", json={"process": "budget-transfer", "data": scenario("budget-transfer")["start"]})
    assert started.status_code == 201, started.get_json()
    task = api.get(f"/tasks/{started.get_json()['ready_tasks'][0]['id']}").get_json()
    return started.get_json(), task


def _refused_full(response: Any) -> None:
    assert response.status_code == 507, (response.status_code, response.get_data(as_text=True)[:500])
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_storage" and FULL in error["message"], error
    battery.add(battery.REFUSED)


def test_a_start_a_completion_and_an_upload_on_a_full_disk_store_nothing_then_succeed(world: World) -> None:
    api = world.api("officer")
    instance, task = _first_task(world)
    data = data_for(task, scenario("budget-transfer")["steps"])
    start_body = {"process": "budget-transfer", "data": scenario("budget-transfer")["start"]}
    requests = {
        "start": lambda: api.post("/instances", json=start_body),
        "upload": lambda: api.post(f"/tasks/{task['id']}/attachments", content_type="multipart/form-data",
                                   data={"file": (BytesIO(ATTACHMENT), "หนังสือ.pdf")}),
        "complete": lambda: api.post(f"/tasks/{task['id']}/complete", json={"data": data}),
    }
    for name, send in requests.items():
        before = _rows(world)
        with _disk_full(world):
            _refused_full(send())
            # A read still answers while the disk is full.
            assert api.get(f"/instances/{instance['id']}").status_code == 200
        assert _rows(world) == before, f"{name}: a write that met a full disk left rows behind"
        battery.add(battery.CASES)
        again = send()
        assert again.status_code in (200, 201), (name, again.get_json())
    done = api.get(f"/instances/{instance['id']}").get_json()
    assert task["id"] not in [t["id"] for t in done["ready_tasks"]]
    battery.add(battery.INSTANCES)


def _instance_rows(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of what a person's work writes (a page request may also note the session's last use)."""
    rows = _rows(world)
    return {name: rows[name] for name in ("instances", "human_tasks", "events", "attachments", "instance_search")}


def test_a_task_form_posted_on_a_full_disk_says_so_in_thai_and_keeps_the_values(world: World) -> None:
    from tests.web.conftest import Page
    from tests.web.test_pages import STUDY_FORM, _start

    world.set_passwords()
    page = Page(world.app.test_client())
    page.sign_in("officer")
    task_url = _start(page)
    page.get(task_url)
    typed = {**STUDY_FORM, "total_disbursed": "1,234,567.25"}
    before = _instance_rows(world)
    with _disk_full(world):
        response = page.post(task_url, typed)
    assert response.status_code == 507, (response.status_code, page.html[:2000])
    assert FULL in page.html and 'value="1,234,567.25"' in page.html
    assert _instance_rows(world) == before
    battery.add(battery.CASES)
    battery.add(battery.REFUSED)
    assert page.post(task_url, typed).status_code == 302  # space freed: the same form completes the step
    assert _instance_rows(world) != before
