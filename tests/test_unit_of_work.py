"""One unit of work per request, and a lean completion: counted with SQLAlchemy's own events on the
real database (SQLite file and PostgreSQL), through the real app."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

from engine.models import HumanTask, ProcessVersion
from engine.runtime.versions import compile_version
from engine.spiff import SERIALIZER
from tests.conftest import World
from tests.drive import advance_to, budget_transfer_at_study, data_for, scenario, start, user_for
from tests.web.conftest import PASSWORD, Page

SEARCH_INDEX = "engine/search/index.py"


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    # What keeping the search table current costs (engine.search.index, a session hook on every write):
    # counted apart, so the completion's own path is held to its figures and the index to its own.
    indexing: list[str] = field(default_factory=list)

    def matching(self, pattern: str) -> list[str]:
        return [s for s in self.statements if re.match(pattern, s, re.IGNORECASE | re.DOTALL)]


@contextmanager
def counting(world: World) -> Iterator[Counted]:
    """Every statement sent to the database and every transaction begun, while the block runs."""
    counted = Counted()
    engine = world.khanton.db.engine

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.startswith("BEGIN"):  # SQLite's BEGIN (IMMEDIATE) is how a transaction starts, counted below
            return
        stack = traceback.extract_stack()
        from_index = any(frame.filename.replace("\\", "/").endswith(SEARCH_INDEX) for frame in stack)
        (counted.indexing if from_index else counted.statements).append(sql)

    def begin(_conn: Any) -> None:
        counted.transactions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


def _ready(world: World, instance: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    summary = instance["ready_tasks"][0]
    user = user_for(summary)  # a school's round: its school's user
    task = world.api(user).get(f"/tasks/{summary['id']}").get_json()
    return user, summary["id"], data_for(task, scenario("budget-transfer")["steps"])


def test_an_api_completion_reads_each_row_once_and_writes_the_instance_once(any_world: World) -> None:
    world = any_world
    instance = start(world, "budget-transfer")
    assert instance == world.api("officer").get(f"/instances/{instance['id']}").get_json()  # built in memory
    instance = budget_transfer_at_study(world)  # a plain officer's step (the first one lists schools' rounds)
    user, task_id, data = _ready(world, instance)
    with counting(world) as counted:
        answer = world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data})
    assert answer.status_code == 200, answer.get_json()
    # PostgreSQL: authentication, delegations, the engine run and the write are one transaction. SQLite:
    # the write lock is taken only after the engine ran (a read snapshot, then BEGIN IMMEDIATE).
    assert counted.transactions == (2 if world.khanton.db.is_sqlite else 1)
    assert len(counted.matching(r"UPDATE instances")) == 1
    assert "revision" in counted.matching(r"UPDATE instances")[0].split("WHERE")[1]  # the conditional one
    assert counted.matching(r"SELECT .*\sFROM process_versions") == []  # compiled once, at the start
    assert len(counted.matching(r"SELECT .*\sFROM instances")) == 1
    assert len(counted.matching(r"SELECT users\.id")) == 1  # token and user in one statement
    assert len(counted.matching(r"SELECT .*\sFROM lanes")) == 1  # once per unit of work, for every caller
    # 9 when this was written; since then the person's lanes (user_lanes), the office's outside lanes (lanes),
    # the names and schools the answer shows each cost a statement: a ceiling that catches the next one.
    # 12 before the task and its instance were read in one statement (issue 14, the write path).
    assert len(counted.statements) <= 11, counted.statements
    # The search row: its own, then who and which schools it names and their names (engine.search.index).
    assert len(counted.indexing) <= 3, counted.indexing
    # The answer, built from memory, is what reading the instance again shows.
    again = world.api(user).get(f"/instances/{instance['id']}").get_json()
    assert answer.get_json() == again


def test_a_version_is_read_and_compiled_once_per_process(world: World) -> None:
    instance = budget_transfer_at_study(world)
    cache = world.khanton.db.versions
    loads = cache.loads
    for _ in range(3):
        user, task_id, data = _ready(world, instance)
        response = world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data})
        assert response.status_code == 200, response.get_json()
        instance = response.get_json()
    assert cache.loads == loads  # three completions, no version read
    assert len(instance["ready_tasks"]) == 1


def test_what_the_cache_hands_out_cannot_change_what_others_get(world: World) -> None:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.query(ProcessVersion).filter_by(key="budget-transfer").one()
        version = world.khanton.db.versions.get(session, row.id)
    with pytest.raises(TypeError):
        version.meta["processes"]["budget-transfer"]["tasks"]["study"] = {}
    with pytest.raises(TypeError):
        version.meta["start_form"] = "other"  # type: ignore[index]
    form_name = next(iter(version.forms_json))
    form = version.form(form_name)
    assert form is not None
    form["properties"] = {}  # a caller's own copy
    assert version.form(form_name) != form
    # Running instances on the shared spec leaves it exactly as it was.
    before = SERIALIZER.to_dict(version.spec)
    advance_to(world, start(world, "budget-transfer"), "board_approval")
    assert SERIALIZER.to_dict(version.spec) == before
    assert SERIALIZER.to_dict(compile_version(row).spec) == before


def test_the_task_page_is_one_unit_of_work_in_at_most_two_transactions(world: World) -> None:
    for name in ("officer",):
        world.khanton.set_password(name, PASSWORD)
    instance = start(world, "budget-transfer")
    task_id = instance["ready_tasks"][0]["id"]
    page = Page(world.app.test_client())
    page.sign_in("officer")
    with counting(world) as counted:
        shown = page.get(f"/tasks/{task_id}")
    assert shown.status_code == 200
    assert instance["ready_tasks"][0]["name"] in page.html and 'name="csrf_token"' in page.html
    assert counted.transactions <= 2, counted.transactions
    # The actor, the case file and the header's counts each need the lanes: read once for all of them.
    assert len(counted.matching(r"SELECT .*\sFROM lanes")) == 1, counted.matching(r"SELECT .*\sFROM lanes")


def test_a_failed_write_in_a_request_leaves_the_next_request_a_clean_session(world: World) -> None:
    """A refusal rolls the request's transaction back; the same task then completes once."""
    instance = start(world, "budget-transfer")
    user, task_id, data = _ready(world, instance)
    refused = world.api(user).post(f"/tasks/{task_id}/complete", json={"data": {"total_allocated": "many"}})
    assert refused.status_code == 422
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(HumanTask, task_id)
        assert row is not None and row.status == "ready"
    assert world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    assert world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 409


def test_inside_a_unit_a_write_is_durable_when_its_block_ends_and_reads_share_one_transaction(
        any_world: World) -> None:
    from engine.models import School

    db = any_world.khanton.db
    with db.unit() as unit:
        with db.transaction(read_only=True) as session:
            first = session
        with db.transaction() as session:
            assert session is first  # one session for the whole unit
            session.add(School(code="1063019999", name="โรงเรียนทดสอบหน่วยงาน", district=""))
        # Committed already: another connection sees it while the unit is still open.
        with db.new_session() as other:
            assert other.get(School, "1063019999") is not None
        with db.transaction(read_only=True):
            pass
    # PostgreSQL: the reads and the write in one transaction, then the last read; SQLite: the write has its own.
    assert unit.transactions == (3 if db.is_sqlite else 2)


def test_a_write_inside_a_read_block_commits_with_the_outer_block_or_is_refused_on_sqlite(
        any_world: World) -> None:
    from engine.models import School

    db = any_world.khanton.db
    with db.unit():
        if db.is_sqlite:  # a read snapshot cannot become a write one: said at once, nothing half-done
            with pytest.raises(RuntimeError), db.transaction(read_only=True), db.transaction():
                pass
            return
        with db.transaction(read_only=True), db.transaction() as session:
            session.add(School(code="1063019998", name="โรงเรียนทดสอบซ้อน", district=""))
    with db.new_session() as other:
        assert other.get(School, "1063019998") is not None
