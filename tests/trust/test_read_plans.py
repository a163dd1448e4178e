"""What #14 parts 3 and 5 fixed stays fixed: on a few thousand generated instances (tests/bench_data.py),
each database reads the supervisor's list and dashboard the way the indexes allow, the pages answer
the same, and a completion's search-text refresh reads one row per person and school however many
times the instance went round a return-for-revision loop.

The plans are checked, not timed: timings on a shared machine say little, a plan says what will
happen at 100,000 instances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from engine.models import Event, HumanTask
from engine.read import dashboard, monitor
from engine.search import index
from tests import battery
from tests.bench_cycle import Cycle
from tests.bench_dashboard import add_history
from tests.bench_data import generate
from tests.conftest import World, _fresh_postgres, _postgres_available

INSTANCES = 1_500  # enough for PostgreSQL's statistics to tell a walk of the index from a sort
FILTERED = monitor.MonitorFilter(process="budget-transfer", status="running", lane="plan_officer", sort="moved")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A world with INSTANCES running budget transfers, each with two finished rounds; statistics as
    each database has them after a bulk load (PostgreSQL analyzed, SQLite none)."""
    drop = None
    if request.param == "sqlite":  # a copy of the session's template world: no publishing again
        world = World.copied(request.getfixturevalue("world_template"), tmp_path_factory.mktemp("plans") / "big.db")
    else:
        reason = _postgres_available()
        if reason:
            pytest.skip(reason)
        url, drop = _fresh_postgres(request.getfixturevalue("postgres_url"))
        world = World(url)
    generate(world, INSTANCES, analyze=request.param == "postgresql")  # SQLite: none, the worst case
    add_history(world)
    if world.khanton.db.engine.dialect.name == "postgresql":
        with world.khanton.db.engine.connect() as conn:
            conn.execute(text("analyze"))
            conn.commit()
    yield world
    world.close()
    if drop:
        drop()


class Statements:
    """The SQL statements a block of code runs, with their parameters."""

    def __init__(self, world: World) -> None:
        self.engine = world.khanton.db.engine
        self.seen: list[tuple[str, Any]] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.seen.append((statement, parameters))

    def one(self, *words: str) -> tuple[str, Any]:
        found = [s for s in self.seen if all(w in s[0] for w in words)]
        assert len(found) == 1, (words, [s for s, _ in self.seen])
        return found[0]


def _plan(world: World, statement: str, parameters: Any) -> str:
    with world.khanton.db.engine.connect() as conn:
        if world.khanton.db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(str(r[-1]) for r in rows)
        return "\n".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))


def _rows(world: World, statement: str, parameters: Any) -> list[Any]:
    with world.khanton.db.engine.connect() as conn:
        return list(conn.exec_driver_sql(statement, parameters).all())


def test_monitor_filtered_and_sorted_walks_the_sorts_index(big: World) -> None:
    """Filtered by procedure and status, sorted by last move: the page is read from
    ix_instances_monitor_updated and stops after it, on both databases. PostgreSQL was given
    `status || ''` (meant for SQLite), estimated one row in 40,000, and sorted every instance."""
    with big.khanton.db.transaction(read_only=True) as session, Statements(big) as seen:
        page = monitor.page(session, big.khanton.actor("supervisor"), FILTERED, 1, 50)
    statement, parameters = seen.one("ORDER BY instances.updated_at DESC")
    plan = _plan(big, statement, parameters)
    assert "ix_instances_monitor_updated" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    assert len(page.rows) == 50 and page.has_next
    battery.add(battery.CASES, 1)


def test_monitor_answers_the_same_either_way(big: World) -> None:
    """The plain columns and the SQLite expression select the same instances in the same order."""
    now = datetime.now(UTC)
    with big.khanton.db.transaction(read_only=True) as session:
        pages = [[r.id for r in session.execute(monitor._listed(FILTERED, now, planned).limit(120).offset(40))]
                 for planned in (True, False)]
    assert pages[0] == pages[1] and len(pages[0]) == 120
    battery.add(battery.INSTANCES, len(pages[0]))


def test_dashboard_reads_rounds_from_the_procedures_instances(big: World) -> None:
    """The dashboard reads the procedure's instances from ix_instances_dashboard and their rounds from
    ix_human_tasks_dashboard (both covering) — SQLite without statistics used to walk every round
    through ix_human_tasks_due and read each round's instance row — and SQLite reads them once (it read
    them three times, twice ranked by window functions); PostgreSQL ranks in SQL, where that is faster."""
    with big.khanton.db.transaction(read_only=True) as session, Statements(big) as seen:
        year = dashboard.years(session, "budget-transfer")[0]
        board = dashboard.build(session, "budget-transfer", year)
    reads = [s for s in seen.seen if "FROM instances JOIN human_tasks" in s[0]]
    assert len(reads) == (1 if big.khanton.db.is_sqlite else 3), [s for s, _ in seen.seen]
    for statement, parameters in reads:
        plan = _plan(big, statement, parameters)
        assert "ix_human_tasks_due" not in plan, plan
        if big.khanton.db.is_sqlite:
            assert "COVERING INDEX ix_instances_dashboard" in plan, plan
            assert "COVERING INDEX ix_human_tasks_dashboard" in plan, plan
    assert board.instances >= INSTANCES and sum(s.rounds for s in board.steps) == 2 * board.instances
    battery.add(battery.INSTANCES, board.instances)


def test_search_text_reads_one_row_per_person_at_any_loop_depth(world: World) -> None:
    """A completion refreshes the instance's search text; after 12 return-for-revision loops the
    statement that gathers who took part answers one row per person and school, not one per event
    and round (which made every completion of a 10,000-loop instance cost more than the last)."""
    cycle = Cycle(world)
    for _ in range(12):
        cycle.loop_once()
    instance_id = cycle.instance["id"]
    with world.khanton.db.transaction(read_only=True) as session:
        events = session.query(Event).filter(Event.instance_id == instance_id).count()
        rounds = session.query(HumanTask).filter(HumanTask.instance_id == instance_id).count()
        instance = session.get(index.Instance, instance_id)
        assert instance is not None
        with Statements(world) as seen:
            searched = index.text_of(session, instance)
    statement, parameters = seen.one("FROM events", "FROM human_tasks")
    rows = _rows(world, statement, parameters)
    assert events + rounds > 40
    assert len(rows) == len(set(rows)) <= 8, rows
    assert "officer" in searched or "committee" in searched
    battery.add(battery.CASES, 24)


def test_search_people_and_schools_are_sought_not_scanned(big: World) -> None:
    """The search refresh finds who acted, who holds a round and the rounds' schools by seeking the next
    distinct value through an index (engine/search/indexes.py), on both databases: it read every event
    and round of the instance, so a completion after 10,000 loops cost 4× one at the start."""
    with big.khanton.db.transaction(read_only=True) as session:
        instance_id = session.scalar(text("SELECT instance_id FROM events GROUP BY instance_id "
                                          "ORDER BY count(*) DESC LIMIT 1"))
        instance = session.get(index.Instance, instance_id)
        assert instance is not None
        with Statements(big) as seen:
            index.text_of(session, instance)
    statement, parameters = seen.one("FROM events", "FROM human_tasks")
    plan = _plan(big, statement, parameters)
    for name in ("ix_events_instance_actor", "ix_human_tasks_instance_assignee", "ix_human_tasks_instance_school"):
        assert name in plan, plan
    assert "SCAN events" not in plan and "Seq Scan on events" not in plan, plan
    assert "SCAN human_tasks" not in plan and "Seq Scan on human_tasks" not in plan, plan
    battery.add(battery.CASES)


def _instructions(world: World, instance_id: str) -> int:
    """SQLite virtual-machine instructions the search text's statement runs for one instance (counted by
    a progress handler, in steps of 10): the work, whatever the machine's speed."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with world.khanton.db.transaction(read_only=True) as session:
        instance = session.get(index.Instance, instance_id)
        assert instance is not None
        raw = session.connection().connection.driver_connection
        assert raw is not None
        raw.set_progress_handler(count, 10)
        try:
            index.text_of(session, instance)
        finally:
            raw.set_progress_handler(None, 10)
    return steps * 10


def test_search_text_costs_the_same_after_hundreds_of_loops(world: World) -> None:
    """The statement's work does not grow with the instance's events and rounds: after 250 more
    return-for-revision loops (500 events and rounds more) it runs within a few instructions of what
    it ran after 5. Before the indexes it read every row: ~40× the instructions."""
    cycle = Cycle(world)
    for _ in range(5):
        cycle.loop_once()
    early = _instructions(world, cycle.instance["id"])
    for _ in range(250):
        cycle.loop_once()
    late = _instructions(world, cycle.instance["id"])
    assert cycle.instance["status"] == "running" and len(cycle.instance["ready_tasks"]) == 1
    assert late <= early * 1.2 + 200, (early, late)
    battery.add(battery.CASES, 255)
