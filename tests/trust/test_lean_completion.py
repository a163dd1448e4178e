"""A completion does no work it need not do, and what was removed cannot grow back (issue 14, part 1).

Counted with SQLAlchemy's own events (tests/test_unit_of_work.py `counting`) on the real databases,
through the real app, on the budget transfer's return-for-revision loop (tests/bench_cycle.py), which is
what `make bench` times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import coercions

from engine.models import Event, Instance, TaskReturn
from engine.search import index
from tests import battery
from tests.bench_cycle import RETURNING_STEP, Cycle
from tests.conftest import World
from tests.test_unit_of_work import counting


def _complete(cycle: Cycle) -> tuple[str, str]:
    """Complete the ready task through the API: (its step, the task id)."""
    user, task_id, data = cycle.next_task()
    step = cycle.world.api(user).get(f"/tasks/{task_id}").get_json()["step"]
    cycle.complete_http(user, task_id, data)
    return step, task_id


def test_a_return_for_revision_reads_the_ready_tasks_once(any_world: World) -> None:
    """The return's rounds are known from the write itself: the ready tasks are read once (by _sync), not
    again before and after it to tell which rounds the return made (engine/rounds/returned.py)."""
    cycle = Cycle(any_world)
    for _ in range(3):  # returns and revisions alternate; count one of each
        user, task_id, data = cycle.next_task()
        step = any_world.api(user).get(f"/tasks/{task_id}").get_json()["step"]
        with counting(any_world) as counted:
            cycle.complete_http(user, task_id, data)
        ready_reads = counted.matching(r"SELECT .*\sFROM human_tasks\s+WHERE human_tasks\.instance_id")
        assert len(ready_reads) == 1, ready_reads
        # The token, its user and the user's lanes: one statement (the lanes were a second one).
        assert counted.matching(r"SELECT .*\sFROM user_lanes") == [], counted.statements[:3]
        # Was 16 for a return on SQLite (its two events are two INSERTs there, one on PostgreSQL), then 13
        # (a revision 11) under a ceiling of 14 (12); 12 (10) since the task and its instance are read in
        # one statement.
        assert len(counted.statements) <= (12 if step == RETURNING_STEP else 10), counted.statements
        # The search row: who took part and the schools with their names in one statement, then the row
        # written in one upsert (it was: the row read, the people and schools, their names, then the row
        # updated when its text changed: 3 or 4 statements).
        assert counted.matching(r"SELECT .*\sFROM instance_search") == []
        assert len(counted.indexing) <= 2, counted.indexing
        assert any(s.startswith("INSERT INTO instance_search") for s in counted.indexing), counted.indexing
        battery.add(battery.CASES)
    # What the return wrote is still what it was: the new round points at the `returned` event.
    revision = cycle.instance["ready_tasks"][0]["id"]
    shown = any_world.api("committee").get(f"/tasks/{revision}").get_json()
    assert shown["returned"] is not None and shown["returned"]["by"] == "director", shown["returned"]
    with any_world.khanton.db.transaction(read_only=True) as session:
        pointed = session.scalar(select(TaskReturn.event_id).where(TaskReturn.task_id == revision))
        event = session.get(Event, pointed)
        assert event is not None and event.kind == "returned"
        assert session.scalar(select(func.count()).select_from(TaskReturn)) == 2  # one per return, not more


def _rows_read(session: Session, action: Callable[[], Any]) -> list[int]:
    """Rows each statement the action sends through `session` hands back to Python."""
    counts: list[int] = []
    real = session.execute

    def execute(*args: Any, **kwargs: Any) -> Any:
        frozen = real(*args, **kwargs).freeze()
        counts.append(len(frozen.data))
        return frozen()

    session.execute = execute  # type: ignore[method-assign]
    try:
        action()
    finally:
        del session.execute
    return counts


def test_the_search_refresh_reads_each_person_once_not_every_event(world: World) -> None:
    """Each completion rewrites the instance's search row; who took part is read as distinct names, so
    the work stays flat however many times the loop went round (it read one row per event)."""
    cycle = Cycle(world)
    for _ in range(12):
        _complete(cycle)
    instance_id = cycle.instance["id"]
    with world.khanton.db.transaction(read_only=True) as session:
        events = session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == instance_id))
        instance = session.get(Instance, instance_id)
        assert instance is not None
        text: list[str] = []
        rows = _rows_read(session, lambda: text.append(index.text_of(session, instance)))
    assert events is not None and events > 20
    # The people who acted (officer, committee, director, school...) and the schools, with their names.
    assert sum(rows) <= 16, (rows, events)
    assert "director" in text[0] and "committee" in text[0]
    battery.add(battery.INSTANCES)


def test_a_completion_builds_few_sql_statements_in_python(world: World, monkeypatch: Any) -> None:
    """The statements on every completion's path are built once per process and run with each write's
    values (building an ORM statement cost more CPU than running it). Counted by SQLAlchemy's coercion of
    each clause element a statement is built from: 130-160 per completion before, 26-44 after, 23-36 once
    the completion's events, task, drafts and returned rounds were written with Core statements."""
    cycle = Cycle(world)
    built = 0
    real = coercions.expect

    def expect(*args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return real(*args, **kwargs)

    for _ in range(4):  # two returns and two revisions
        user, task_id, data = cycle.next_task()
        built = 0
        with monkeypatch.context() as patched:
            patched.setattr(coercions, "expect", expect)
            cycle.complete_http(user, task_id, data)
        assert 0 < built <= 40, built
        battery.add(battery.CASES)


def test_a_returns_events_are_written_in_order_with_the_request_address(any_world: World) -> None:
    """The completion writes its events itself (one Core INSERT, not the session's flush, where
    engine.origin stamps each new Event): they still carry the request's address, the `completed` event
    comes before the `returned` one, and the new round points at the `returned` one."""
    cycle = Cycle(any_world)
    user, task_id, data = cycle.next_task()
    assert any_world.api(user).get(f"/tasks/{task_id}").get_json()["step"] == RETURNING_STEP
    api = any_world.api(user)
    api.client.environ_base["REMOTE_ADDR"] = "10.20.30.41"  # the officer's desk
    answer = api.post(f"/tasks/{task_id}/complete", json={"data": data})
    assert answer.status_code == 200, answer.get_json()
    cycle.instance = answer.get_json()
    revision = cycle.instance["ready_tasks"][0]["id"]
    with any_world.khanton.db.transaction(read_only=True) as session:
        written = list(session.scalars(select(Event).where(Event.task_id == task_id).order_by(Event.id)))
        pointed = session.scalar(select(TaskReturn.event_id).where(TaskReturn.task_id == revision))
    assert [(e.kind, e.actor, e.address) for e in written] == [
        ("completed", user, "10.20.30.41"), ("returned", user, "10.20.30.41")]
    assert pointed == written[1].id
    assert written[0].data == data and written[1].data == {"note": data["note"].strip()}
    battery.add(battery.CASES)
