"""A page post that meets a busy database (another writer holds SQLite's write lock past the busy
timeout) says so in Thai, answers 503, keeps every typed value, and stores nothing."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.db import Database
from tests.conftest import World

from .conftest import PASSWORD, Page
from .test_pages import STUDY_FORM, _start

BUSY = "ระบบไม่ว่าง กรุณาลองอีกครั้ง"


def _short_busy_timeout(world: World) -> None:
    """Wait 0.2 s for a lock, not the 15 s a real office waits."""
    url = world.khanton.db.url
    world.khanton.db.dispose()
    world.khanton.db = Database(url, busy_timeout_ms=200)


@contextmanager
def _write_lock_held(world: World) -> Iterator[None]:
    """Another connection holds the write lock, as a long write elsewhere would."""
    blocker = sqlite3.connect(world.khanton.db.url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def _timeline(world: World, instance_id: str) -> list[str]:
    return [e["kind"] for e in world.khanton.timeline(instance_id, world.khanton.actor("supervisor"))]


def test_a_task_form_posted_to_a_busy_database_keeps_every_typed_value(web: World, page_as: Any) -> None:
    page: Page = page_as("officer")
    task_url = _start(page)
    instance_id = web.khanton.instances(web.khanton.actor("officer"))[0]["id"]
    page.get(task_url)
    _short_busy_timeout(web)
    typed = {**STUDY_FORM, "spending_sources.0.source_name": "กลุ่มการเงิน <และสินทรัพย์>",
             "total_disbursed": "1,200,000.50"}
    with _write_lock_held(web):
        response = page.post(task_url, typed)
    assert response.status_code == 503
    assert BUSY in page.html
    assert response.headers["Retry-After"]
    # The form is drawn again with what was typed, exactly as typed (not reformatted, not lost).
    assert 'value="กลุ่มการเงิน &lt;และสินทรัพย์&gt;"' in page.html
    assert 'value="1,200,000.50"' in page.html and 'value="1,500,000"' in page.html
    assert 'value="30/09/2569"' in page.html
    assert re.search(r'<option value="finance_group"[^>]*selected', page.html)
    # Nothing was stored.
    # Only what came before: the schools were asked and one answered.
    assert _timeline(web, instance_id) == ["started", "completed", "completed"]
    # Sending the same form again, once the lock is gone, completes the step.
    assert page.post(task_url, typed).status_code == 302
    assert _timeline(web, instance_id) == ["started", "completed", "completed", "completed"]


def test_a_start_form_posted_to_a_busy_database_can_be_sent_again_as_typed(web: World, page_as: Any) -> None:
    page: Page = page_as("officer")
    page.get("/processes/budget-transfer")
    _short_busy_timeout(web)
    with _write_lock_held(web):
        response = page.post("/processes/budget-transfer", {"fiscal_year": "2570", "title": "โอนงบ \"ครั้งที่ 1\""})
    assert response.status_code == 503 and BUSY in page.html
    assert 'name="title" value="โอนงบ &#34;ครั้งที่ 1&#34;"' in page.html
    assert web.khanton.instances(web.khanton.actor("supervisor")) == []
    # The page's own button sends the same values again.
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.html))
    assert form["fiscal_year"] == "2570"
    again = page.post("/processes/budget-transfer", {"fiscal_year": form["fiscal_year"],
                                                      "title": form["title"].replace("&#34;", '"')})
    assert again.status_code == 302
    assert [i["title"] for i in web.khanton.instances(web.khanton.actor("supervisor"))] == ['โอนงบ "ครั้งที่ 1"']


def test_signing_in_to_a_busy_database_keeps_the_name_and_says_so(web: World, page_as: Any) -> None:
    page: Page = page_as()
    page.get("/login")
    _short_busy_timeout(web)
    with _write_lock_held(web):
        response = page.post("/login", {"username": "officer", "password": PASSWORD, "next": "/instances"})
    assert response.status_code == 503 and BUSY in page.html
    assert 'value="officer"' in page.html and PASSWORD not in page.html
    assert page.post("/login", {"username": "officer", "password": PASSWORD,
                                "next": "/instances"}).headers["Location"] == "/instances"


def test_the_api_answers_503_in_its_error_shape(web: World) -> None:
    api = web.api("officer")
    _short_busy_timeout(web)
    with _write_lock_held(web):
        response = api.post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": 2570}})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "unavailable" and BUSY in error["message"]
    assert web.khanton.instances(web.khanton.actor("supervisor")) == []


def test_on_postgresql_a_task_form_meeting_a_held_row_lock_answers_busy_and_keeps_values(
        postgres_url: str, tmp_path: Any) -> None:
    """On PostgreSQL a write waits for a row lock only as long as SQLite's busy timeout (lock_timeout),
    then the page says busy with the values kept, instead of never answering."""
    from sqlalchemy import create_engine, text

    from tests.conftest import USERS, _fresh_postgres

    url, drop = _fresh_postgres(postgres_url)
    world = World(url)
    try:
        for name in USERS:
            world.khanton.set_password(name, PASSWORD)
        page = Page(world.app.test_client())
        page.sign_in("officer")
        task_url = _start(page)
        instance_id = world.khanton.instances(world.khanton.actor("officer"))[0]["id"]
        page.get(task_url)
        world.khanton.db.dispose()
        world.khanton.db = Database(url, busy_timeout_ms=300)
        blocker = create_engine(url)
        with blocker.connect() as conn:
            conn.execute(text("SELECT id FROM instances WHERE id = :id FOR UPDATE"), {"id": instance_id})
            typed = {**STUDY_FORM, "total_disbursed": "1,200,000.50"}
            response = page.post(task_url, typed)
            conn.rollback()
        blocker.dispose()
        assert response.status_code == 503 and BUSY in page.html
        assert 'value="1,200,000.50"' in page.html
        # Only what came before: the schools were asked and one answered.
        assert _timeline(world, instance_id) == ["started", "completed", "completed"]
        assert page.post(task_url, typed).status_code == 302
        assert _timeline(world, instance_id) == ["started", "completed", "completed", "completed"]
    finally:
        world.close()
        drop()
