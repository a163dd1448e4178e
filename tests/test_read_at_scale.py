"""The inbox and the lists read in index order and stop at the page (engine/read/): they answer exactly
what the plain queries they replace answered — for every kind of person, every page, both ways of
finding a person's instances — on SQLite and PostgreSQL, and SQLite plans them on the inbox index
even without statistics."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.orm import Session

from engine import queries, school_scope
from engine.accounts import Actor
from engine.assignments import HEAD_LANE, effective_actor, readers
from engine.models import Event, HumanTask, Instance, ProcessVersion
from engine.read import inbox, instance_list
from engine.thai_calendar import iso_time, today
from tests.conftest import USERS, World
from tests.drive import start, step


def _plain_ready_tasks(session: Session, actor: Actor, limit: int, offset: int) -> list[dict[str, Any]]:
    """What GET /tasks answered before: every ready task of the lanes, sorted, then paged."""
    query = (select(HumanTask, Instance.process_key).join(Instance, Instance.id == HumanTask.instance_id)
             .where(HumanTask.status == "ready", HumanTask.lane.in_(sorted(actor.works_lanes)),
                    school_scope.open_to(actor))
             .order_by(HumanTask.created_at.desc(), HumanTask.id).limit(limit).offset(offset))
    return [queries.task_summary(task, key) for task, key in session.execute(query)]


def _plain_instances(session: Session, actor: Actor, limit: int, offset: int) -> list[dict[str, Any]]:
    """What GET /instances answered before: whole rows filtered by OR of IN-subqueries, sorted, paged."""
    query = (select(Instance, ProcessVersion.name).join(ProcessVersion, ProcessVersion.id == Instance.version_id)
             .order_by(Instance.started_at.desc(), Instance.id))
    people = readers(session, actor)
    if not any(p.reads_all or HEAD_LANE in p.works_lanes for p in people):
        seen = []
        for p in people:
            seen += [Instance.started_by == p.username, Instance.id.in_(select(HumanTask.instance_id).where(
                HumanTask.lane.in_(sorted(p.works_lanes)), school_scope.open_to(p)))]
            if not p.school_only:
                seen.append(Instance.id.in_(select(Event.instance_id).where(Event.actor == p.username)))
        query = query.where(or_(*seen))
    return [{"id": i.id, "process": i.process_key, "name": name, "title": i.title, "status": i.status,
             "fiscal_year": i.fiscal_year, "started_by": i.started_by, "started_at": iso_time(i.started_at),
             "updated_at": iso_time(i.updated_at)}
            for i, name in session.execute(query.limit(limit).offset(offset))]


def _some_of_everything(world: World) -> None:
    """Budget transfers at different steps, an expenditure analysis with two schools' rounds, and the
    committee's member acting for the director today."""
    for n in range(4):
        instance = start(world, "budget-transfer")
        for _ in range(n):
            _, instance = step(world, instance)
    analysis = start(world, "expenditure-analysis")
    step(world, analysis)  # the rounds of 1063010001 and 1063010002
    khanton = world.khanton
    khanton.delegate(khanton.actor("director"), "committee", "acting", today(), today() + timedelta(days=3))


@pytest.mark.parametrize("window", [instance_list.WINDOW, 2])
def test_lists_answer_what_the_plain_queries_answered(any_world: World, monkeypatch: pytest.MonkeyPatch,
                                                      window: int) -> None:
    """window=2: the newest two instances rarely fill a page, so the gathered-ids path answers too."""
    monkeypatch.setattr(instance_list, "WINDOW", window)
    _some_of_everything(any_world)
    khanton = any_world.khanton
    compared = 0
    for name in USERS:
        actor = khanton.actor(name)
        with khanton.db.transaction(read_only=True) as session:
            working = effective_actor(session, actor)
            for limit, offset in ((100, 0), (1, 0), (2, 1), (3, 2), (2, 5), (100, 50)):
                assert (queries.ready_tasks(session, working, limit=limit, offset=offset)
                        == _plain_ready_tasks(session, working, limit, offset)), (name, limit, offset)
                assert (queries.instances(session, actor, limit=limit, offset=offset)
                        == _plain_instances(session, actor, limit, offset)), (name, limit, offset)
                compared += 1
            seen = queries.instances(session, actor)
            if name in ("officer", "supervisor", "head"):
                assert len(seen) == 5, name  # not vacuous: these see every instance
            if name == "outsider":
                assert seen == [] and queries.ready_tasks(session, working) == []
            if name == "school":
                rounds = [t["school"] for t in queries.ready_tasks(session, working)]
                assert rounds and set(rounds) == {"1063010001"}  # its own rounds only
    committee = khanton.actor("committee")
    assert khanton.inbox(committee).lanes >= {"committee", "esa_director"}  # acting for the director
    assert compared == len(USERS) * 6


def test_counts_stop_at_the_cap_and_say_so(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    monkeypatch.setattr(inbox, "WAITING_CAP", 2)
    officer = world.khanton.actor("officer")
    for _ in range(3):
        start(world, "budget-transfer")
    exact = world.khanton.inbox(officer, limit=2)
    assert (exact.total.n, exact.total.more, str(exact.waiting), exact.has_next) == (3, False, "2+", True)
    start(world, "budget-transfer")
    capped = world.khanton.inbox(officer, limit=2, offset=2)
    assert (capped.total.n, capped.total.more, len(capped.rows), capped.has_next) == (3, True, 2, False)
    assert str(world.khanton.count_waiting(officer)) == "2+"


def test_sqlite_reads_the_inbox_on_its_index_without_statistics(world: World) -> None:
    """No sqlite_stat1 (a new office, or the bench right after its load): every branch is a search on
    ix_human_tasks_inbox, never a scan of human_tasks or a sort of all its ready rows."""
    khanton = world.khanton
    with khanton.db.transaction(read_only=True) as session:
        working = effective_actor(session, khanton.actor("school"))  # two branches per lane: none, own school
        for query in (inbox.page_query(working, None, "budget-transfer", 20, 40), inbox.count_query(working)):
            assert query is not None
            statement, params = query
            compiled = statement.compile(session.get_bind())
            values = compiled.construct_params(params)
            positional = tuple(values[name] for name in compiled.positiontup or [])
            plan = [row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                                                            positional)]
            on_tasks = [line for line in plan if "human_tasks" in line and "LIST SUBQUERY" not in line]
            assert on_tasks and all("ix_human_tasks_office_inbox (lane=? AND status=?)" in line
                                    or "ix_human_tasks_inbox (lane=? AND status=? AND school=?)" in line
                                    for line in on_tasks[:2]), plan
            assert not any(line.startswith("SCAN human_tasks") for line in plan), plan


def test_sqlite_gets_statistics_while_it_runs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite 3.40 the PRAGMA optimize run at connect never creates statistics; the pool does it
    after a connection's work, once per interval (a bounded ANALYZE)."""
    from engine.read import statistics

    def stats() -> set[str]:
        with world.khanton.db.engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
            if found is None:
                return set()
            return {row[0] for row in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL")}

    start(world, "budget-transfer")
    assert "ix_human_tasks_inbox" not in stats()  # the connect-time optimize left none
    monkeypatch.setattr(statistics, "INTERVAL_S", 0.0)
    world.api("officer").get("/tasks")
    assert "ix_human_tasks_inbox" in stats()


def test_sqlite_statistics_follow_the_file_as_it_grows(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Statistics taken while the file was small are taken again as it grows. PRAGMA optimize analyzes a
    table again only once it grew 25-fold, and only if that connection's queries used it: a file analyzed
    early and grown to 1,000,000 events told the planner `events` held a handful of rows, and /monitor read
    every event to find a page's errors (715 ms instead of 0.3)."""
    from engine.read import statistics
    from tests.bench_data import generate

    def events_counted() -> int:
        with world.khanton.db.engine.connect() as conn:
            stat = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_events_instance_at'").scalar()
        return int(str(stat).split()[0]) if stat else 0

    monkeypatch.setattr(statistics, "INTERVAL_S", 0.0)
    generate(world, 20, analyze=False)  # the application's own refresh is what is tested
    world.api("officer").get("/tasks")
    small = events_counted()
    assert 100 <= small <= 400, small
    generate(world, 300, analyze=False)  # 15 times the events, written in bulk as an office's months would be
    world.khanton.db.engine.dispose()  # new connections: the refresh runs when each goes back to the pool
    world.api("officer").get("/tasks")
    assert events_counted() >= 5 * small, (small, events_counted())


def _rows_read(node: dict[str, Any], table: str, inside: bool = False) -> int:
    """Rows the scans of `table` inside the plan's subqueries (the inbox's branches) read, kept or filtered
    out, over all their loops (EXPLAIN ANALYZE); the page's join by id afterwards is not counted."""
    own = 0
    if inside and node.get("Relation Name") == table:
        own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
    inside = inside or node.get("Node Type") == "Subquery Scan"
    return own + sum(_rows_read(child, table, inside) for child in node.get("Plans", []))


@pytest.fixture(scope="module")
def office_rounds(postgres_url: str) -> Iterator[tuple[World, str]]:
    """A PostgreSQL world with 1,000 ready rounds of a lane and 3,000 newer completed ones, analyzed; and
    that lane."""
    from tests.bench_data import generate
    from tests.conftest import _fresh_postgres

    url, drop = _fresh_postgres(postgres_url)
    world = World(url)
    try:
        generate(world, 1_000, analyze=False)
        with world.khanton.db.transaction() as session:
            lane, newest = session.execute(select(HumanTask.lane, func.max(HumanTask.created_at))
                                           .where(HumanTask.status == "ready").group_by(HumanTask.lane)).one()
            session.execute(insert(HumanTask), [
                {"id": str(uuid.uuid4()), "instance_id": session.scalars(select(Instance.id).limit(1)).one(),
                 "spiff_task_id": str(uuid.uuid4()), "task_spec": "done", "name": "done", "lane": lane,
                 "status": "completed", "created_at": newest + timedelta(minutes=n + 1)} for n in range(3_000)])
        with world.khanton.db.engine.connect() as conn:
            conn.execute(text("ANALYZE human_tasks, instances"))
            conn.commit()
        yield world, lane
    finally:
        world.close()
        drop()


def _explained(world: World, named: bool) -> tuple[dict[str, Any], int]:
    """The officer's first inbox page of 50 (`named`: the HTML inbox's), EXPLAIN ANALYZE'd; their lanes."""
    with world.khanton.db.transaction(read_only=True) as session:
        working = effective_actor(session, world.khanton.actor("officer"))
        query = inbox.page_query(working, None, None, 50, 0, named=named)
        assert query is not None
        statement, params = query
        compiled = statement.compile(session.get_bind())
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.construct_params(params))
            found = cursor.fetchone()
            assert found is not None
            plan: dict[str, Any] = found[0][0]["Plan"]
    assert plan["Actual Rows"] == 50
    return plan, len(working.works_lanes)


def test_postgresql_reads_the_office_inbox_in_order_past_newer_rounds(office_rounds: tuple[World, str]) -> None:
    """The office's ready rounds (school IS NULL) read in the inbox's order and stopped at the page, however
    many newer rounds the lane has done. ix_human_tasks_inbox gives PostgreSQL no order there (IS NULL is not
    an equality to it): it sorted every ready round of the lane, or walked the created_at index backwards past
    every newer completed round — 20,000 after the bench's 10,000 loops, 25 ms instead of 0.5."""
    world, lane = office_rounds
    assert lane in world.khanton.actor("officer").works_lanes
    plan, lanes = _explained(world, named=False)
    # each branch reads at most its page (and one more to know it ended)
    assert 50 <= _rows_read(plan, "human_tasks") <= lanes * 51, json.dumps(plan)[:3000]


def _under_a_limit(node: dict[str, Any], tables: set[str], limited: bool = False) -> list[str]:
    """The scans of `tables` with a Limit node above them."""
    found = [node["Relation Name"]] if limited and node.get("Relation Name") in tables else []
    limited = limited or node.get("Node Type") == "Limit"
    return found + [t for child in node.get("Plans", []) for t in _under_a_limit(child, tables, limited)]


def test_postgresql_names_the_html_inbox_page_after_its_limit(office_rounds: tuple[World, str]) -> None:
    """The HTML inbox's names and returns are joined to the page's rows once they are cut to the page: joined
    beside the rest, PostgreSQL planned a seven-way join on every request (3.4 ms of planning, 0.6 of work)."""
    plan, _ = _explained(office_rounds[0], named=True)
    assert _under_a_limit(plan, {"users", "task_returns"}) == [], json.dumps(plan)[:3000]
